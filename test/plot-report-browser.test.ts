// The HTML report in a real browser: the Chromium that scripts/chromium.js finds (MOONLIGHT_CHROMIUM, the
// system's, or Debian's fetched without root into .deps/ by `npm test`) driven by playwright-core, offline. Every chart must render, with no page
// or console errors and no request leaving the page, and run names must stay text.
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { chromium, Browser } from 'playwright-core';
import { readRun, writeReport } from '../src/plot';
import { runColor } from '../src/plot/chart_options';
import { countInkPixels, decodePng, hasPngSignature } from './helpers/png';
import { tempDir, writeFakeRun } from './helpers/run-folders';

jest.setTimeout(180_000);

// The page functions below run in the browser; the project compiles without the DOM lib (it is Node code),
// so this file declares, for itself only, the little of the DOM they use.
interface PageElement {
  id: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number; height: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
}
declare const document: { querySelectorAll(selector: string): Iterable<PageElement> & { length: number } };
declare const window: { moonlightReport?: { ready: boolean }; injected?: number };

const { findChromium } = require('../scripts/chromium') as {
  findChromium(): { executablePath: string; env: Record<string, string>; route: string } | null;
};
const hostileName = '<img src=x onerror="window.injected=1"> & run';

let browser: Browser;
const folder = tempDir('plot-browser');

beforeAll(async () => {
  const found = findChromium();
  if (!found) {
    throw new Error('no Chromium found: `node scripts/chromium.js` (run by npm test) fetches one, or set MOONLIGHT_CHROMIUM');
  }
  browser = await chromium.launch({
    executablePath: found.executablePath,
    env: found.env,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
});

test('every chart of the report renders offline, without errors, and run names stay text', async () => {
  const runs = [
    readRun(writeFakeRun(folder, { name: 'muon baseline', steps: 120, evalEvery: 20 })),
    readRun(writeFakeRun(folder, { name: hostileName, steps: 90, lossOffset: 0.4, optimizer: 'adamw', evalEvery: 30 })),
  ];
  const reportFile = writeReport(runs, path.join(folder, 'report.html'), { smoothing: 8 });
  const reportUrl = pathToFileURL(reportFile).href;

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const requested: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('request', (request) => requested.push(request.url()));
  // Anything but the report itself is refused, so a leak fails fast here instead of hanging on the network.
  await context.route('**/*', (route) => (route.request().url() === reportUrl ? route.continue() : route.abort()));

  await page.goto(reportUrl);
  await page.waitForFunction(() => window.moonlightReport?.ready === true, null, { timeout: 30_000 });

  const charts = await page.evaluate(
    (colors) =>
      [...document.querySelectorAll('.chart')].map((element) => {
        const svg = element.querySelector('svg');
        const box = element.getBoundingClientRect();
        const paths = svg ? [...svg.querySelectorAll('path')] : [];
        return {
          id: element.id,
          width: box.width,
          height: box.height,
          svgWidth: svg ? Number(svg.getAttribute('width')) : 0,
          paths: paths.length,
          runLines: colors.map((color) => paths.filter((p) => p.getAttribute('stroke') === color && (p.getAttribute('d') ?? '').split('L').length > 20).length),
          text: svg ? [...svg.querySelectorAll('text')].map((t) => t.textContent).join('|') : '',
        };
      }),
    [runColor(0), runColor(1)],
  );
  expect(charts.map((c) => c.id)).toEqual(['chart-loss-step', 'chart-loss-tokens', 'chart-loss-flops', 'chart-lr', 'chart-tokensPerSecond', 'chart-gradNorm']);
  for (const chart of charts) {
    expect(chart.width).toBeGreaterThan(400);
    expect(chart.height).toBeGreaterThan(300);
    expect(chart.svgWidth).toBeGreaterThan(400);
    expect(chart.paths).toBeGreaterThan(10);
    // Each run has its train line (loss charts also a smoothed one) drawn in its own colour.
    const expectedLines = chart.id.startsWith('chart-loss-') ? 2 : 1;
    expect(chart.runLines).toEqual([expectedLines, expectedLines]);
    expect(chart.text).toContain('muon baseline');
    expect(chart.text).toContain(hostileName);
  }
  expect(charts[0].text).toContain('loss (nats per token)');
  expect(charts[2].text).toMatch(/\d+T/);

  // The table holds the names as text, and the tooltip (HTML, hover) does too.
  const firstCells = await page.$$eval('#runs tbody tr td:first-child', (cells) => cells.map((c) => c.textContent));
  expect(firstCells).toEqual(['muon baseline', hostileName]);
  const box = (await page.locator('#chart-loss-step').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.45);
  await page.waitForFunction(() => [...document.querySelectorAll('#chart-loss-step div')].some((d) => (d.textContent ?? '').includes('muon baseline')));
  const tooltip = await page.evaluate(() => [...document.querySelectorAll('#chart-loss-step div')].map((d) => d.textContent ?? '').join('|'));
  expect(tooltip).toContain(hostileName);
  expect(tooltip).toMatch(/\d\.\d{2,4}/);
  expect(tooltip).not.toMatch(/\d\.\d{6,}/); // values rounded to five significant digits
  expect(await page.evaluate(() => document.querySelectorAll('img').length)).toBe(0);
  expect(await page.evaluate(() => window.injected)).toBeUndefined();

  const screenshotFile = path.join(folder, 'report-screenshot.png');
  await page.screenshot({ path: screenshotFile, fullPage: true });
  const screenshot = fs.readFileSync(screenshotFile);
  expect(hasPngSignature(screenshot)).toBe(true);
  const image = decodePng(screenshot);
  expect(image.width).toBeGreaterThanOrEqual(1400);
  expect(image.height).toBeGreaterThan(900);
  expect(countInkPixels(image)).toBeGreaterThan(50_000);

  expect(problems).toEqual([]);
  expect(requested).toEqual([reportUrl]);
  await context.close();
});
