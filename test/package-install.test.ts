// Installing the packed tarballs into a new project outside the repository, from a warm cache, with LD_LIBRARY_PATH
// unset: the prebuilt CPU platform package trains 10 steps with no compiler or cmake run; a broken
// prebuilt binary is skipped with a warning that says why; with nothing left, one error lists every route
// tried; with MOONLIGHT_FORCE_BUILD=1 the source build (cmake-js) is made and trains.
import { execFileSync, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pythonExecutable, runPython } from './helpers/python';

const repoRoot = path.join(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-install-'));
const project = path.join(work, 'app');
const shims = path.join(work, 'no-compilers');
const shimLog = path.join(work, 'compilers-invoked.log');
const cpuPackage = path.join(project, 'node_modules', '@moonlight-torch', 'linux-x64-cpu');
const installed = path.join(project, 'node_modules', 'moonlight-torch');
const pythonTorch = runPython<{ version: string; root: string }>(
  'import json, os, torch; print(json.dumps({"version": torch.__version__.split("+")[0], "root": os.path.dirname(torch.__file__)}))',
);

// Every build tool the source route could reach, replaced by one that logs its name and fails.
const buildTools = ['cmake', 'ninja', 'make', 'cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'nvcc', 'node-gyp'];

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 10 * 60_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: project, env, encoding: 'utf8', timeout: timeoutMs });
}

function cleanEnv(extra: NodeJS.ProcessEnv = {}, { withCompilers = false } = {}): NodeJS.ProcessEnv {
  // libtorch's Python route through the oracles' Python (a project venv where the system Python refuses installs).
  const env: NodeJS.ProcessEnv = { MOONLIGHT_PYTHON: pythonExecutable, ...process.env, ...extra };
  for (const name of ['LD_LIBRARY_PATH', 'LD_PRELOAD', 'MOONLIGHT_BINARY', 'MOONLIGHT_FORCE_BUILD', 'MOONLIGHT_SKIP_BUILD', 'LIBTORCH']) {
    if (!(name in extra)) delete env[name];
  }
  if (!withCompilers) env.PATH = `${shims}${path.delimiter}${process.env.PATH}`;
  return env;
}

function moonlight(args: string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return run(path.join(project, 'node_modules', '.bin', 'moonlight'), args, env);
}

function trainTenSteps(out: string, env: NodeJS.ProcessEnv): number[] {
  const result = moonlight(['train', '--hidden_size', '32', '--num_layers', '2', '--num_heads', '2', '--steps', '10',
    '--batch_size', '2', '--seq_len', '32', '--eval_every', '0', '--no-plot', '--out', out], env);
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.status).toBe(0);
  const losses = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as { type: string; loss: number }).filter((r) => r.type === 'train').map((r) => r.loss);
  expect(losses).toHaveLength(10);
  for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
  return losses;
}

function runpath(file: string): string {
  const dynamic = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  return /\((?:RUNPATH|RPATH)\)\s+Library \w+: \[([^\]]*)\]/.exec(dynamic)?.[1] ?? '';
}

beforeAll(() => {
  // The CPU flavour's prebuilt binary (the repository's build, RUNPATH removed) and the tarballs.
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'prebuild.js'), 'cpu'], { cwd: repoRoot, stdio: 'inherit' });
  const packs = path.join(work, 'packs');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'pack-all.js'), '--flavours', 'cpu', '--out', packs],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  // A warm cache: the lockfile's production dependencies. The install prefers it (--prefer-offline) and
  // reaches the npm registry only for what it lacks — a dependency range that a newer release now satisfies
  // (strictly offline, such a release made the install fail with ENOTCACHED).
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; link?: boolean }>;
  };
  const specs = [...new Set(Object.entries(lock.packages)
    .filter(([key, entry]) => key.startsWith('node_modules/') && !entry.dev && !entry.link)
    .map(([key, entry]) => `${key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${entry.version}`))];
  execFileSync('npm', ['cache', 'add', ...specs], { stdio: ['ignore', 'ignore', 'inherit'] });

  fs.mkdirSync(shims);
  for (const tool of buildTools) {
    fs.writeFileSync(path.join(shims, tool), `#!/bin/sh\necho "${tool} $*" >> '${shimLog}'\nexit 1\n`, { mode: 0o755 });
  }
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const tarball = (prefix: string) => path.join(packs, fs.readdirSync(packs).find((f) => f.startsWith(prefix))!);
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts',
    tarball('moonlight-torch-0'), tarball('moonlight-torch-linux-x64-cpu-')], cleanEnv());
  if (install.status !== 0) throw new Error(`npm install failed:\n${install.stdout}\n${install.stderr}`);
  expect(install.stderr).toMatch(/using the prebuilt @moonlight-torch\/linux-x64-cpu/);
}, 15 * 60_000);

test('the platform package carries only the binary, no RUNPATH, and installs for linux x64 glibc only', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(cpuPackage, 'package.json'), 'utf8'));
  expect(manifest).toMatchObject({ os: ['linux'], cpu: ['x64'], libc: ['glibc'] });
  expect(manifest.scripts).toBeUndefined();
  expect(fs.readdirSync(cpuPackage).sort()).toEqual(['build-info.json', 'index.js', 'moonlight.node', 'package.json']);
  expect(runpath(path.join(cpuPackage, 'moonlight.node'))).toBe('');
  const main = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
  expect(Object.keys(main.optionalDependencies).sort()).toEqual(['@moonlight-torch/linux-x64-cpu', '@moonlight-torch/linux-x64-cuda']);
});

test('prebuilt CPU route: 10 training steps, no compiler or cmake run, LD_LIBRARY_PATH unset', () => {
  const env = cleanEnv();
  trainTenSteps(path.join(work, 'run-prebuilt'), env);
  expect(fs.existsSync(shimLog)).toBe(false);
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);

  const doctor = moonlight(['doctor', '--json'], env);
  expect(doctor.status).toBe(0);
  const report = JSON.parse(doctor.stdout);
  expect(report.binary.route).toBe('platform package @moonlight-torch/linux-x64-cpu');
  expect(report.binary.chosen).toBe(path.join(cpuPackage, 'moonlight.node'));
  expect(report.libtorch).toMatchObject({ found: true, route: 'python', version: pythonTorch.version, cuda: false });
  expect(fs.realpathSync(report.libtorch.root)).toBe(fs.realpathSync(pythonTorch.root));
  expect(report.loaded).toBe(true);
  expect(report.binary.attempts[0]).toMatchObject({ route: 'platform package @moonlight-torch/linux-x64-cuda', ok: false, detail: 'not installed' });
}, 10 * 60_000);

describe('a broken prebuilt binary', () => {
  const binary = path.join(cpuPackage, 'moonlight.node');
  const intact = `${binary}.intact`;
  const localBuild = path.join(installed, 'build');
  beforeAll(() => {
    fs.copyFileSync(binary, intact);
    fs.writeFileSync(binary, 'not an ELF file');
    // The route after the platform packages: a local build, here the repository's (built on this machine
    // against the same Python torch); the source build itself is the MOONLIGHT_FORCE_BUILD test's.
    fs.mkdirSync(path.join(localBuild, 'Release'), { recursive: true });
    for (const file of ['moonlight.node', 'build-info.json']) {
      fs.copyFileSync(path.join(repoRoot, 'build', 'Release', file), path.join(localBuild, 'Release', file));
    }
  });
  afterAll(() => {
    fs.renameSync(intact, binary);
    fs.rmSync(localBuild, { recursive: true, force: true });
  });

  test('is skipped with a warning that says why, and the next route is used', () => {
    const probe = run(process.execPath, ['-e', "const m = require('moonlight-torch'); console.log(m.tensor([1, 2]).add(1).toNumbers().join(','))"],
      cleanEnv());
    expect(probe.status).toBe(0);
    expect(probe.stdout.trim()).toBe('2,3');
    expect(probe.stderr).toMatch(/not using @moonlight-torch\/linux-x64-cpu: its test load failed: .*moonlight\.node.*; using local build/);
  });

  test('with no other route, one error lists every route tried and how to fix it', () => {
    fs.renameSync(localBuild, `${localBuild}.away`);
    try {
      const probe = run(process.execPath, ['-e',
        "try { require('moonlight-torch').tensor([1]) } catch (e) { console.error(`${e.name}: ${e.message}`); process.exit(3) }"], cleanEnv());
      expect(probe.status).toBe(3);
      expect(probe.stderr).toMatch(/LibtorchError: moonlight-torch has no native binary that loads/);
      expect(probe.stderr).toMatch(/platform package @moonlight-torch\/linux-x64-cuda: not installed/);
      expect(probe.stderr).toMatch(/platform package @moonlight-torch\/linux-x64-cpu: its test load failed/);
      expect(probe.stderr).toMatch(/local build: the source build failed/);
      expect(probe.stderr).toMatch(/How to fix it/);
      expect(fs.readFileSync(shimLog, 'utf8')).toMatch(/^cmake /m);
    } finally {
      // What the failed build attempt (cmake-js with the failing cmake shim) left behind goes.
      fs.rmSync(localBuild, { recursive: true, force: true });
      fs.renameSync(`${localBuild}.away`, localBuild);
    }
  });
});

test('MOONLIGHT_FORCE_BUILD=1: the source build (cmake-js) is made, chosen over the prebuilt binary, and trains', () => {
  const env = cleanEnv({ MOONLIGHT_FORCE_BUILD: '1' }, { withCompilers: true });
  // The install hook builds when forced (npm rebuild runs it again, as a user would).
  const rebuild = run('npm', ['rebuild', '--offline', '--foreground-scripts', 'moonlight-torch'], env, 40 * 60_000);
  if (rebuild.status !== 0) throw new Error(`npm rebuild failed:\n${rebuild.stdout}\n${rebuild.stderr}`);
  expect(rebuild.stderr).toMatch(/building against libtorch/);
  expect(fs.existsSync(path.join(installed, 'build', 'Release', 'moonlight.node'))).toBe(true);
  trainTenSteps(path.join(work, 'run-source'), env);
  const report = JSON.parse(moonlight(['doctor', '--json'], env).stdout);
  expect(report.binary.route).toBe('local build');
  expect(report.binary.attempts[0]).toMatchObject({ route: 'platform packages', ok: false, detail: 'skipped: MOONLIGHT_FORCE_BUILD=1' });
  // Without the override the prebuilt binary is preferred again.
  expect(JSON.parse(moonlight(['doctor', '--json'], cleanEnv()).stdout).binary.route).toBe('platform package @moonlight-torch/linux-x64-cpu');
}, 45 * 60_000);
