// `moonlight plot` end to end: the compiled CLI (dist/, built by `npm test`'s setup step or
// `npx tsc -p tsconfig.build.json`), as users run it, on generated run folders. No native addon needed.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decodePng, hasPngSignature } from './helpers/png';
import { tempDir, writeFakeRun } from './helpers/run-folders';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const parent = tempDir('plot-cli');
const first = writeFakeRun(parent, { name: 'muon-small', steps: 60 });
const second = writeFakeRun(parent, { name: 'adamw-small', steps: 60, lossOffset: 0.3, optimizer: 'adamw' });

test('plot writes loss vs step / tokens / FLOPs as SVG and PNG plus report.html, and prints each path', () => {
  const out = path.join(parent, 'out-all');
  const run = moonlight('plot', first, second, '--out', out, '--width', '700', '--height', '420');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const expected = ['step', 'tokens', 'flops'].flatMap((x) => [`loss-vs-${x}.svg`, `loss-vs-${x}.png`]).concat('report.html');
  expect(run.stdout.trim().split('\n')).toEqual(expected.map((name) => path.join(out, name)));
  expect(fs.readdirSync(out).sort()).toEqual([...expected].sort());
  for (const x of ['step', 'tokens', 'flops']) {
    const svg = fs.readFileSync(path.join(out, `loss-vs-${x}.svg`), 'utf8');
    expect(svg).toMatch(/^<svg[^>]* width="700" height="420"/);
    expect(svg).toContain('muon-small');
    expect(svg).toContain('adamw-small');
    const png = fs.readFileSync(path.join(out, `loss-vs-${x}.png`));
    expect(hasPngSignature(png)).toBe(true);
    expect([decodePng(png).width, decodePng(png).height]).toEqual([700, 420]);
  }
  expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<!DOCTYPE html>');
});

test('without --out the outputs go to plots/ inside the first run folder; --x, --format and --no-report narrow them', () => {
  const run = moonlight('plot', first, '--x', 'flops', '--format', 'svg', '--no-report', '--smoothing', '5');
  expect(run.status).toBe(0);
  const out = path.join(first, 'plots');
  expect(run.stdout.trim()).toBe(path.join(out, 'loss-vs-flops.svg'));
  expect(fs.readdirSync(out)).toEqual(['loss-vs-flops.svg']);
});

test('--help documents every flag with its default', () => {
  const run = moonlight('plot', '--help');
  expect(run.status).toBe(0);
  const help = run.stdout.replace(/\s+/g, ' ');
  expect(help).toContain('moonlight plot <runs..>');
  expect(help).toMatch(/--out .*\[default: <first run>\/plots\]/);
  expect(help).toMatch(/ -x .*\[choices: "step", "tokens", "flops", "all"\] \[default: "all"\]/);
  expect(help).toMatch(/--format .*\[choices: "svg", "png", "both"\] \[default: "both"\]/);
  expect(help).toMatch(/--report .*\[boolean\] \[default: true\]/);
  expect(help).toMatch(/--smoothing .*\[number\] \[default: 0\]/);
  expect(help).toMatch(/--width .*\[number\] \[default: 960\]/);
  expect(help).toMatch(/--height .*\[number\] \[default: 540\]/);
  expect(moonlight('--help').stdout).toContain('moonlight plot');
});

describe('bad input: one error line naming the file and the fix, a non-zero exit, and no output files', () => {
  function expectFailureWithoutOutput(args: string[], out: string, message: string): void {
    const run = moonlight('plot', ...args, '--out', out);
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([message]);
    expect(fs.existsSync(out)).toBe(false);
  }

  test('a missing run folder', () => {
    const missing = path.join(parent, 'no-such-run');
    expectFailureWithoutOutput(
      [first, missing],
      path.join(parent, 'out-missing'),
      `moonlight: ArgumentError: ${missing}: no such run folder; pass the folder the Trainer wrote (it holds metrics.jsonl)`,
    );
  });

  test('an empty metrics.jsonl', () => {
    const empty = tempDir('plot-cli-empty');
    fs.writeFileSync(path.join(empty, 'metrics.jsonl'), '');
    expectFailureWithoutOutput(
      [empty],
      path.join(parent, 'out-empty'),
      `moonlight: ConfigError: ${path.join(empty, 'metrics.jsonl')}: no train or eval lines yet; plot again once the run has logged a step`,
    );
  });

  test('a malformed line in the second run, after the first run was fine', () => {
    const broken = writeFakeRun(tempDir('plot-cli-broken'), { name: 'broken', steps: 10 });
    const file = path.join(broken, 'metrics.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[4] = 'not json';
    fs.writeFileSync(file, lines.join('\n'));
    const out = path.join(parent, 'out-broken');
    const run = moonlight('plot', first, broken, '--out', out);
    expect(run.status).not.toBe(0);
    expect(run.stderr.trim()).toMatch(new RegExp(`^moonlight: ConfigError: ${file.replace(/[.]/g, '\\.')}:5: not valid JSON .*each line must be one JSON object$`));
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a bad flag value', () => {
    const run = moonlight('plot', first, '--x', 'time', '--out', path.join(parent, 'out-flag'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/Invalid values:\s+Argument: x, Given: "time", Choices: "step", "tokens", "flops", "all"/);
    expect(fs.existsSync(path.join(parent, 'out-flag'))).toBe(false);
  });
});
