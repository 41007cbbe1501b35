/**
 * The README's Trainer example, run as users would run it: the block is cut out of README.md, compiled
 * with TypeScript, and executed by node in a scratch project whose node_modules/moonlight-torch is this
 * package (its compiled dist/). It must train, evaluate, save and reload.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

jest.setTimeout(300_000);

const root = path.join(__dirname, '..');

function readmeBlock(marker: string): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`<!-- readme-example: ${marker}`);
  if (start < 0) throw new Error(`README.md has no readme-example: ${marker} block`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(start));
  if (match === null) throw new Error('no ts code block after the marker');
  return match[1];
}

test('the README Trainer example trains, evaluates, saves and reloads', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-example-'));
  try {
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.symlinkSync(root, path.join(project, 'node_modules', 'moonlight-torch'), 'dir');
    const source = readmeBlock('trainer');
    const compiled = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, strict: true },
      reportDiagnostics: true,
    });
    expect(compiled.diagnostics ?? []).toEqual([]);
    fs.writeFileSync(path.join(project, 'example.js'), compiled.outputText);
    const run = spawnSync(process.execPath, ['example.js'], {
      cwd: project, encoding: 'utf8', timeout: 280_000, env: { ...process.env, MOONLIGHT_CACHE_DIR: path.join(project, 'cache') },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual([10, 20, 30, 40].map((step) => expect.stringMatching(new RegExp(`^step ${step} loss \\d`))));
    const summary = JSON.parse(lines[lines.length - 1]);
    expect(summary.status).toBe('completed');
    expect(summary.steps).toBe(40);
    // Byte-level start: ln(320 rows) ≈ 5.77; 40 steps of Muon on Moby-Dick get well below.
    expect(summary.finalLoss).toBeLessThan(3.5);
    expect(summary.valLoss).toBeLessThan(3.5);
    // The reloaded model is the trained one.
    expect(summary.after).toBe(summary.before);
    expect(fs.existsSync(path.join(project, 'runs', 'example', 'checkpoints', 'step-00000040'))).toBe(true);
    expect(fs.existsSync(path.join(project, 'runs', 'example', 'hf', 'config.json'))).toBe(true);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});
