// Plots of training runs (src/plot): reading run folders, SVG loss charts, PNGs and the HTML report.
// Run folders are generated with known curves (test/helpers/run-folders.ts), so every value is checked
// against a closed form. No native addon is involved.
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../src/errors';
import {
  exponentialMovingAverage,
  formatAxisNumber,
  lossChartOption,
  parseMetrics,
  readRun,
  renderLossChart,
  renderStepMetricChart,
  reportHtml,
  runLabels,
  svgToPng,
  writeReport,
} from '../src/plot';
import { runColor } from '../src/plot/chart_options';
import { countColorPixels, countInkPixels, decodePng, hasPngSignature } from './helpers/png';
import { tempDir, trainLoss, writeFakeRun } from './helpers/run-folders';

const parent = tempDir('plot');
const muonFolder = writeFakeRun(parent, { name: 'muon <lr=2e-3>', steps: 100 });
const adamwFolder = writeFakeRun(parent, { name: 'adamw & co', steps: 80, lossOffset: 0.5, optimizer: 'adamw' });
const runs = [readRun(muonFolder), readRun(adamwFolder)];

/** Every tag of an SVG/XML document opens and closes in order (a light well-formedness check). */
function expectBalancedTags(markup: string): void {
  const stack: string[] = [];
  for (const match of markup.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
}

/** The `d` of every <path> stroked in `color`, as lists of [x, y] points. */
function strokedPaths(svg: string, color: string): Array<Array<[number, number]>> {
  const paths = [...svg.matchAll(/<path\b[^>]*>/g)].map((m) => m[0]).filter((tag) => tag.includes(`stroke="${color}"`));
  return paths.map((tag) => {
    const d = /\sd="([^"]*)"/.exec(tag)?.[1] ?? '';
    return [...d.matchAll(/[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
  });
}

describe('readRun', () => {
  test('reads run.json and every train and eval line, with extra keys tolerated', () => {
    const run = runs[0];
    expect(run.name).toBe('muon <lr=2e-3>');
    expect(run.folder).toBe(muonFolder);
    expect(run.runJson.optimizer?.type).toBe('muon');
    expect(run.runJson.someFutureKey).toEqual({ nested: [1, 2] });
    expect(run.train).toHaveLength(100);
    expect(run.train[49]).toEqual({
      step: 50,
      tokens: 50 * 8192,
      flops: 50 * 8192 * 6 * 20e6,
      loss: trainLoss(50),
      lr: 2e-3,
      gradNorm: 1 + 1 / 50,
      tokensPerSecond: 3050,
      elapsedSeconds: 125,
    });
    expect(run.eval.map((p) => p.step)).toEqual([25, 50, 75, 100]);
    expect(run.eval[3].valLoss).toBeCloseTo(trainLoss(100) + 0.1, 12);
  });

  test('a last line cut off mid-write (no newline) is dropped; the lines before it are kept', () => {
    const folder = writeFakeRun(tempDir('plot-truncated'), { name: 'killed', steps: 10, appendMetrics: '{"type":"train","step":11,"lo' });
    const run = readRun(folder);
    expect(run.train.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('a bad line in the middle is a ConfigError naming the file and its line number', () => {
    const folder = writeFakeRun(tempDir('plot-bad-middle'), { name: 'bad', steps: 10 });
    const file = path.join(folder, 'metrics.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[2] = '{"type":"train","step":3,"loss":';
    fs.writeFileSync(file, lines.join('\n'));
    expect(() => readRun(folder)).toThrow(ConfigError);
    expect(() => readRun(folder)).toThrow(`${file}:3: not valid JSON`);
  });

  test('a complete (newline-terminated) but malformed last line is rejected, not taken for a cut-off write', () => {
    expect(() => parseMetrics('{"type":"train","step":1,"loss":2}\n{"type":"train",\n', '/runs/x/metrics.jsonl')).toThrow(
      '/runs/x/metrics.jsonl:2: not valid JSON',
    );
  });

  test('blank lines, CRLF line ends and lines of unknown types are skipped; null losses read as NaN', () => {
    const text = '\n{"type":"train","step":1,"loss":null}\r\n\r\n{"type":"checkpoint","step":1}\n{"type":"eval","step":1,"valLoss":3}\n';
    const parsed = parseMetrics(text, 'metrics.jsonl');
    expect(parsed.train).toHaveLength(1);
    expect(parsed.train[0].loss).toBeNaN();
    expect(parsed.eval).toEqual([{ step: 1, valLoss: 3, tokens: undefined, flops: undefined }]);
  });

  test.each([
    ['[1,2]', ':1: expected a JSON object, got an array'],
    ['{"step":1,"loss":2}', ':1: expected a "type" key ("train" or "eval"), got nothing'],
    ['{"type":"train","step":1.5,"loss":2}', ':1: "step" must be a non-negative integer, got 1.5'],
    ['{"type":"train","step":1}', ':1: "loss" must be a number (or null), got nothing'],
    ['{"type":"eval","step":1,"valLoss":"low"}', ':1: "valLoss" must be a number (or null), got "low"'],
    ['{"type":"train","step":1,"loss":2,"tokens":"many"}', ':1: "tokens" must be a number, got "many"'],
  ])('an ill-typed line %s is a ConfigError naming the line and the key', (line, message) => {
    expect(() => parseMetrics(`${line}\n`, 'm.jsonl')).toThrow(ConfigError);
    expect(() => parseMetrics(`${line}\n`, 'm.jsonl')).toThrow(`m.jsonl${message}`);
  });

  test('a missing folder, a file, a folder without metrics.jsonl and an empty metrics.jsonl are typed errors naming the path', () => {
    const missing = path.join(parent, 'no-such-run');
    expect(() => readRun(missing)).toThrow(ArgumentError);
    expect(() => readRun(missing)).toThrow(`${missing}: no such run folder`);
    const file = path.join(muonFolder, 'run.json');
    expect(() => readRun(file)).toThrow(`${file}: not a folder`);
    const noMetrics = tempDir('plot-no-metrics');
    expect(() => readRun(noMetrics)).toThrow(ConfigError);
    expect(() => readRun(noMetrics)).toThrow(`${path.join(noMetrics, 'metrics.jsonl')}: missing`);
    fs.writeFileSync(path.join(noMetrics, 'metrics.jsonl'), '\n');
    expect(() => readRun(noMetrics)).toThrow('metrics.jsonl: no train or eval lines yet');
    expect(() => readRun('')).toThrow(ArgumentError);
  });

  test('without run.json the run is named after its folder; an unparsable run.json is a ConfigError', () => {
    const folder = writeFakeRun(tempDir('plot-no-runjson'), { name: 'bare-run', steps: 3 });
    fs.rmSync(path.join(folder, 'run.json'));
    expect(readRun(folder)).toMatchObject({ name: 'bare-run', runJson: {} });
    fs.writeFileSync(path.join(folder, 'run.json'), '{"name": ');
    expect(() => readRun(folder)).toThrow(`${path.join(folder, 'run.json')}: not valid JSON`);
  });
});

describe('renderLossChart', () => {
  test.each(['step', 'tokens', 'flops'] as const)('loss vs %s: a well-formed SVG of the requested size, one line per run, legend and axis titles', (x) => {
    const svg = renderLossChart(runs, { x, width: 800, height: 500 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/^<svg[^>]* width="800" height="500"/);
    expectBalancedTags(svg);
    // Legend: run names, escaped.
    expect(svg).toContain('muon &lt;lr=2e-3&gt;');
    expect(svg).toContain('adamw &amp; co');
    expect(svg).not.toContain('muon <lr');
    expect(svg).toContain('muon &lt;lr=2e-3&gt; (val)');
    // Axis titles with units.
    expect(svg).toContain('loss (nats per token)');
    expect(svg).toContain({ step: 'optimizer step', tokens: 'training tokens', flops: 'training FLOPs (log scale)' }[x]);
    runs.forEach((run, index) => {
      const lines = strokedPaths(svg, runColor(index)).filter((points) => points.length > 20);
      // Exactly one long path per run: its train loss, one vertex per logged step.
      expect(lines).toHaveLength(1);
      const [points] = lines;
      expect(points).toHaveLength(run.train.length);
      // Loss falls as x grows: SVG x increases and SVG y (downwards) increases along the path.
      for (let i = 1; i < points.length; i++) {
        expect(points[i][0]).toBeGreaterThan(points[i - 1][0]);
        expect(points[i][1]).toBeGreaterThanOrEqual(points[i - 1][1] - 1e-6);
      }
    });
    // Eval loss: a dashed line per run.
    expect((svg.match(/stroke-dasharray/g) ?? []).length).toBeGreaterThanOrEqual(runs.length);
  });

  test('the train loss is drawn where the closed form puts it (linear step axis)', () => {
    const single = [runs[0]];
    const svg = renderLossChart(single, { x: 'step', width: 900, height: 600 });
    const [points] = strokedPaths(svg, runColor(0)).filter((p) => p.length > 20);
    // Pixel y is affine in loss: check that three steps' pixels satisfy the same affine map.
    const steps = [1, 40, 100];
    const [a, b, c] = steps.map((s) => ({ loss: trainLoss(s), y: points[s - 1][1] }));
    const slope = (c.y - a.y) / (c.loss - a.loss);
    expect(slope).toBeLessThan(0);
    expect(b.y).toBeCloseTo(a.y + slope * (b.loss - a.loss), 0);
    // And x is affine in step.
    const xSlope = (points[99][0] - points[0][0]) / 99;
    expect(points[39][0]).toBeCloseTo(points[0][0] + 39 * xSlope, 0);
  });

  test('the FLOPs axis is logarithmic with short labels', () => {
    const svg = renderLossChart(runs, { x: 'flops', width: 800, height: 500 });
    const [points] = strokedPaths(svg, runColor(0)).filter((p) => p.length > 20);
    // Equal FLOPs ratios are equal pixel distances: steps 10→20 and 40→80 both double the FLOPs.
    expect(points[19][0] - points[9][0]).toBeCloseTo(points[79][0] - points[39][0], 0);
    expect(svg).toMatch(/>\d+(\.\d+)?[TGP]</);
    expect(svg).not.toMatch(/>\d{1,3}(,\d{3}){3,}</);
  });

  test('smoothing adds one smoothed line per run; the EMA is the textbook one', () => {
    const svg = renderLossChart(runs, { x: 'step', width: 800, height: 500, smoothing: 10 });
    runs.forEach((_, index) => expect(strokedPaths(svg, runColor(index)).filter((p) => p.length > 20)).toHaveLength(2));
    const ema = exponentialMovingAverage([1, 2, Number.NaN, 3], 3);
    expect(ema[0]).toBe(1);
    expect(ema[1]).toBeCloseTo(1.5, 12);
    expect(ema[2]).toBeNaN();
    expect(ema[3]).toBeCloseTo(2.25, 12);
    expect(exponentialMovingAverage([1, 2], 0)).toEqual([1, 2]);
  });

  test('long runs are thinned to at most 5000 points per line, keeping the first and last step', () => {
    const long = readRun(writeFakeRun(tempDir('plot-long'), { name: 'long', steps: 12000, evalEvery: 1000 }));
    const option = lossChartOption([long], { x: 'step' });
    const train = (option.series as Array<{ data: number[][] }>)[0].data;
    expect(train.length).toBe(5000);
    expect(train[0]).toEqual([1, trainLoss(1)]);
    expect(train[train.length - 1]).toEqual([12000, trainLoss(12000)]);
    // ECharts' own LTTB sampling then draws about one vertex per horizontal pixel.
    const svg = renderLossChart([long], { x: 'step', width: 800, height: 500 });
    const [points] = strokedPaths(svg, runColor(0)).filter((p) => p.length > 20);
    expect(points.length).toBeLessThan(1600);
  });

  test('runs with the same name get distinct legend labels', () => {
    expect(runLabels([runs[0], runs[0], runs[1]])).toEqual(['muon <lr=2e-3>', 'muon <lr=2e-3> (2)', 'adamw & co']);
  });

  test('bad arguments are ArgumentErrors naming the parameter', () => {
    expect(() => renderLossChart([], { x: 'step' })).toThrow(ArgumentError);
    expect(() => renderLossChart(runs, { x: 'time' as 'step' })).toThrow('x must be one of step, tokens, flops, got "time"');
    expect(() => renderLossChart(runs, { x: 'step', smoothing: -1 })).toThrow('smoothing must be a non-negative');
    expect(() => renderLossChart(runs, { x: 'step', width: 10.5 })).toThrow('width must be an integer number of pixels');
  });

  test('lr / tokens-per-second charts and axis number labels', () => {
    const svg = renderStepMetricChart(runs, 'lr', { width: 600, height: 400 });
    expectBalancedTags(svg);
    expect(svg).toContain('learning rate');
    expect(strokedPaths(svg, runColor(0)).filter((p) => p.length > 20)).toHaveLength(1);
    expect(formatAxisNumber(0)).toBe('0');
    expect(formatAxisNumber(8192)).toBe('8.19k');
    expect(formatAxisNumber(1.5e6)).toBe('1.5M');
    expect(formatAxisNumber(3.2e12)).toBe('3.2T');
    expect(formatAxisNumber(1e21)).toBe('1e21');
    expect(formatAxisNumber(4e15)).toBe('4P');
    expect(formatAxisNumber(2e-4)).toBe('2e-4');
    expect(formatAxisNumber(4.25)).toBe('4.25');
  });
});

describe('svgToPng', () => {
  const svg = renderLossChart(runs, { x: 'step', width: 640, height: 400 });

  test('a PNG of the SVG size, white background, with both runs\' lines drawn in their colours', () => {
    const png = svgToPng(svg);
    expect(hasPngSignature(png)).toBe(true);
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([640, 400]);
    // Opaque white background.
    expect(Array.from(image.rgba.subarray(0, 4))).toEqual([255, 255, 255, 255]);
    expect(countInkPixels(image)).toBeGreaterThan(2000);
    expect(countColorPixels(image, runColor(0), 30)).toBeGreaterThan(300);
    expect(countColorPixels(image, runColor(1), 30)).toBeGreaterThan(300);
  });

  test('text renders with the system fonts; without any font it still renders the lines and does not fail', () => {
    const withoutFonts = decodePng(svgToPng(svg, { loadSystemFonts: false }));
    expect([withoutFonts.width, withoutFonts.height]).toEqual([640, 400]);
    expect(countColorPixels(withoutFonts, runColor(0), 30)).toBeGreaterThan(300);
    // The title band holds only text: ink there means glyphs were drawn.
    const titleBand = { x: 0, y: 0, width: 640, height: 40 };
    expect(countInkPixels(withoutFonts, titleBand)).toBe(0);
    const withFonts = decodePng(svgToPng(svg));
    if (systemHasFonts()) expect(countInkPixels(withFonts, titleBand)).toBeGreaterThan(100);
    else console.warn('no system fonts found: PNG text not checked');
  });

  test('a non-SVG argument is an ArgumentError', () => {
    expect(() => svgToPng('hello')).toThrow(ArgumentError);
  });
});

describe('writeReport', () => {
  test('one self-contained HTML file: no external resources, run names escaped, the table from run.json and metrics', () => {
    const out = path.join(tempDir('plot-report'), 'nested', 'report.html');
    expect(writeReport(runs, out)).toBe(out);
    const html = fs.readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("default-src 'none'");
    expect(html.length).toBeGreaterThan(1_000_000); // echarts.min.js inlined
    // Names are never inserted raw: escaped in the table, \u003c in the embedded JSON.
    expect(html).not.toContain('muon <lr');
    expect(html).toContain('muon &lt;lr=2e-3&gt;');
    expect(html).toContain('adamw &amp; co');
    expect(html).toContain('muon \\u003clr=2e-3\\u003e');
    for (const id of ['chart-loss-step', 'chart-loss-tokens', 'chart-loss-flops', 'chart-lr', 'chart-tokensPerSecond', 'chart-gradNorm']) {
      expect(html).toContain(`<div class="chart" id="${id}"></div>`);
    }
    const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '')));
    expect(rows[0]).toEqual(['run', 'status', 'model', 'parameters', 'activated', 'optimizer', 'lr', 'weight decay', 'steps', 'tokens', 'FLOPs', 'final loss', 'final val loss', 'wall time', 'created']);
    expect(rows[1]).toEqual([
      'muon &lt;lr=2e-3&gt;', 'completed', 'deepseek_v3', '35M', '20M', 'muon', '0.002', '0.1', '100', '819k', '98.3T',
      trainLoss(100).toFixed(4), (trainLoss(100) + 0.1).toFixed(4), '4:10', '2025-01-02T03:04:05.000Z',
    ]);
    expect(rows[2].slice(0, 9)).toEqual(['adamw &amp; co', 'completed', 'deepseek_v3', '35M', '20M', 'adamw', '0.002', '0.1', '80']);
    expect(rows[2][11]).toBe(trainLoss(80, 0.5).toFixed(4));
    // The temporary file was renamed away.
    expect(fs.readdirSync(path.dirname(out))).toEqual(['report.html']);
  });

  test('a run name that tries to close the script or inject markup stays text', () => {
    const folder = writeFakeRun(tempDir('plot-inject'), { name: 'x', steps: 5, runJson: { name: '</script><script>alert(1)</script><!--' } });
    const html = reportHtml([readRun(folder)]);
    expect(html).not.toContain('<script>alert(1)');
    expect((html.match(/<\/script>/g) ?? []).length).toBe(3);
    expect(html).not.toContain('<!--');
  });

  test('a failed write leaves no temporary file and the old target untouched', () => {
    const folder = tempDir('plot-report-fail');
    const target = path.join(folder, 'report.html');
    fs.mkdirSync(target); // a folder where the file should go: rename fails
    expect(() => writeReport(runs, target)).toThrow();
    expect(fs.readdirSync(folder)).toEqual(['report.html']);
    expect(fs.statSync(target).isDirectory()).toBe(true);
    expect(() => writeReport([], path.join(folder, 'r.html'))).toThrow(ArgumentError);
  });

  test('a run that logged no tokens/FLOPs gets only the loss-vs-step chart and a note', () => {
    const text = [1, 2, 3].map((step) => JSON.stringify({ type: 'train', step, loss: 4 - step / 10 })).join('\n');
    const folder = tempDir('plot-minimal');
    fs.writeFileSync(path.join(folder, 'metrics.jsonl'), `${text}\n`);
    const html = reportHtml([readRun(folder)]);
    expect(html).toContain('id="chart-loss-step"');
    expect(html).not.toContain('id="chart-loss-tokens"');
    expect(html).not.toContain('id="chart-lr"');
    expect(html).toContain('No loss vs tokens / flops chart');
  });
});

function systemHasFonts(): boolean {
  const folders = ['/usr/share/fonts', '/usr/local/share/fonts', path.join(process.env.HOME ?? '/root', '.fonts')];
  const hasFont = (folder: string): boolean => {
    if (!fs.existsSync(folder)) return false;
    return fs.readdirSync(folder, { withFileTypes: true }).some((entry) =>
      entry.isDirectory() ? hasFont(path.join(folder, entry.name)) : /\.(ttf|otf|ttc)$/i.test(entry.name),
    );
  };
  return folders.some(hasFont);
}
