/**
 * Which moonlight.node to load, and the libtorch it runs on. The routes, in order:
 *   1. MOONLIGHT_BINARY: exactly that file (no fallback: an explicit choice that fails is an error);
 *   2. unless MOONLIGHT_FORCE_BUILD=1, the platform packages (@moonlight-torch/linux-x64-cuda, then -cpu)
 *      whose flavour and libtorch version match the libtorch found at run time (LIBTORCH, then the
 *      Python torch: scripts/libtorch.js), each test-loaded in a child process first so a broken binary
 *      (a CUDA one without its runtime, say) is skipped with a warning instead of crashing this process;
 *   3. the local build in <package>/build/Release, made now with cmake-js if it does not exist;
 *   4. otherwise one LibtorchError listing every route tried, why it failed and how to fix it.
 * The result also feeds `moonlight doctor`.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LibtorchError } from '../errors';

export const packageRoot = path.resolve(__dirname, '..', '..');

export interface FoundLibtorch {
  route: string;
  root: string;
  libDir: string;
  version: string;
  cuda: boolean;
}

/** build-info.json beside a binary: a local build's (absolute libtorch paths) or a prebuilt's (libraries to preload). */
export interface BinaryBuildInfo {
  libtorchVersion: string;
  cuda: boolean;
  nccl?: boolean;
  napiVersion: number;
  /** Local builds: the libtorch in the binary's RUNPATH. */
  libtorchRoot?: string;
  libtorchLibDir?: string;
  libtorchRoute?: string;
  /** Prebuilt binaries: the flavour and the libtorch libraries (NEEDED) preloaded from the libtorch found. */
  flavour?: 'cpu' | 'cuda';
  libtorchLibraries?: string[];
}

export interface RouteAttempt {
  route: string;
  binary?: string;
  ok: boolean;
  detail: string;
}

export interface BinaryResolution {
  binary: string;
  route: string;
  buildInfo: BinaryBuildInfo;
  /** The libtorch the binary runs on: found at run time for a prebuilt, recorded at build time for a local build. */
  libtorch: FoundLibtorch;
  /** Libraries to dlopen from libtorch.libDir before the binary (empty for a local build: its RUNPATH has them). */
  preload: string[];
  attempts: RouteAttempt[];
  /** Prebuilt binaries skipped on the way (shown as warnings when a later route is used). */
  warnings: string[];
}

interface LibtorchScript {
  findLibtorch(env: NodeJS.ProcessEnv): FoundLibtorch | null;
  notFoundMessage(): string;
  readTorchVersion(root: string): string;
}

interface PlatformPackage {
  flavour: 'cpu' | 'cuda';
  name: string;
  dir: string | null;
  binary: string | null;
  buildInfo: BinaryBuildInfo | null;
  problem: string | null;
}

interface PlatformPackagesScript {
  platformPackages(fromDir: string): PlatformPackage[];
  libtorchMismatch(buildInfo: BinaryBuildInfo, libtorch: FoundLibtorch): string | null;
  platformKey(): string;
}

// The discovery and package logic is plain JS in scripts/ because the install hook and the pack script
// use it too (before any TypeScript is compiled).
function script<T>(name: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(packageRoot, 'scripts', name)) as T;
}

export const loadBinaryScript = path.join(packageRoot, 'scripts', 'load-binary.js');
const testLoadTimeoutMs = 120_000;

export function readBinaryBuildInfo(binary: string): BinaryBuildInfo {
  const infoPath = path.join(path.dirname(binary), 'build-info.json');
  if (!fs.existsSync(binary) || !fs.existsSync(infoPath)) {
    throw new LibtorchError(`${binary} or its ${infoPath} is missing`);
  }
  return JSON.parse(fs.readFileSync(infoPath, 'utf8')) as BinaryBuildInfo;
}

// A passed test load is remembered (per user, in the temp folder) for the same binary file, libtorch and
// Node, so only the first start after an install or upgrade pays for the child process.
function testLoadMarker(binary: string, libDir: string, preload: string[]): string {
  const stat = fs.statSync(binary);
  const key = createHash('sha256')
    .update(JSON.stringify([binary, stat.size, stat.mtimeMs, libDir, preload, process.version, process.execPath]))
    .digest('hex')
    .slice(0, 32);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `moonlight-torch-${uid}`, `test-loaded-${key}`);
}

/** Loads `binary` in a child process; null when it loads, else the child's reason. */
export function testLoad(binary: string, libDir: string, preload: string[], env: NodeJS.ProcessEnv): string | null {
  const marker = testLoadMarker(binary, libDir, preload);
  if (fs.existsSync(marker)) return null;
  const failure = testLoadInChild(binary, libDir, preload, env);
  if (failure === null) {
    try {
      fs.mkdirSync(path.dirname(marker), { recursive: true, mode: 0o700 });
      fs.writeFileSync(marker, '');
    } catch {
      // Only a cache: without it the next start test-loads again.
    }
  }
  return failure;
}

function testLoadInChild(binary: string, libDir: string, preload: string[], env: NodeJS.ProcessEnv): string | null {
  const child = spawnSync(process.execPath, [loadBinaryScript, binary, libDir, preload.join(',')], {
    encoding: 'utf8',
    env,
    timeout: testLoadTimeoutMs,
  });
  if (child.status === 0) return null;
  if (child.signal) return `the test load in a child process died with ${child.signal}`;
  return (child.stderr || child.stdout || `the test load exited with ${child.status}`).trim().split('\n')[0];
}

/** The libtorch a local build links (its RUNPATH), checked to still be there with the same version. */
function localBuildLibtorch(binary: string, info: BinaryBuildInfo): FoundLibtorch {
  if (!info.libtorchRoot || !info.libtorchLibDir) {
    throw new LibtorchError(`${binary}'s build-info.json names no libtorch (neither a local build nor a prebuilt one)`);
  }
  let found: string | null = null;
  try {
    found = script<LibtorchScript>('libtorch.js').readTorchVersion(info.libtorchRoot);
  } catch {
    found = null;
  }
  if (found === null) {
    throw new LibtorchError(
      `${binary} was built against libtorch ${info.libtorchVersion} at ${info.libtorchRoot} (route: ${info.libtorchRoute}), ` +
        'which is no longer there. Rebuild with `npm run setup`.',
    );
  }
  if (found !== info.libtorchVersion) {
    throw new LibtorchError(
      `${binary} was built against libtorch ${info.libtorchVersion}, but ${info.libtorchRoot} now holds libtorch ${found}. ` +
        'Rebuild with `npm run setup`.',
    );
  }
  return { route: info.libtorchRoute ?? 'build', root: info.libtorchRoot, libDir: info.libtorchLibDir, version: found, cuda: info.cuda };
}

/** A binary named by MOONLIGHT_BINARY: a local build (RUNPATH) or a prebuilt one (preloaded libtorch). */
function explicitBinary(binary: string, env: NodeJS.ProcessEnv): BinaryResolution {
  const info = readBinaryBuildInfo(binary);
  const attempts: RouteAttempt[] = [{ route: 'MOONLIGHT_BINARY', binary, ok: true, detail: 'set in the environment' }];
  if (!info.libtorchLibraries) {
    return { binary, route: 'MOONLIGHT_BINARY', buildInfo: info, libtorch: localBuildLibtorch(binary, info), preload: [], attempts, warnings: [] };
  }
  const libtorch = script<LibtorchScript>('libtorch.js').findLibtorch(env);
  if (!libtorch) throw new LibtorchError(`MOONLIGHT_BINARY=${binary} is a prebuilt binary, and ${script<LibtorchScript>('libtorch.js').notFoundMessage()}`);
  const mismatch = script<PlatformPackagesScript>('platform-packages.js').libtorchMismatch(info, libtorch);
  if (mismatch) throw new LibtorchError(`MOONLIGHT_BINARY=${binary} cannot be used: ${mismatch}`);
  return { binary, route: 'MOONLIGHT_BINARY', buildInfo: info, libtorch, preload: info.libtorchLibraries, attempts, warnings: [] };
}

function fixes(): string {
  return (
    'How to fix it, whichever fits:\n' +
    '  - CPU: `pip install torch==2.13.0` for python3 (or unzip libtorch 2.13.0 and set LIBTORCH), and make sure ' +
    '@moonlight-torch/linux-x64-cpu is installed (`npm install --include=optional`);\n' +
    '  - CUDA: `pip install torch==2.14.1` (the CUDA 13 wheel) or LIBTORCH at that libtorch, plus @moonlight-torch/linux-x64-cuda;\n' +
    '  - or build from source: install cmake and a C++ compiler, then `npm rebuild moonlight-torch` or MOONLIGHT_FORCE_BUILD=1;\n' +
    '  - `npx moonlight doctor` shows what was found.'
  );
}

/** Resolves the binary without loading it into this process (the test loads run in child processes). */
export function resolveBinary(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (l) => console.error(l)): BinaryResolution {
  if (env.MOONLIGHT_BINARY) return explicitBinary(path.resolve(env.MOONLIGHT_BINARY), env);
  const attempts: RouteAttempt[] = [];
  const warnings: string[] = [];
  const forceBuild = env.MOONLIGHT_FORCE_BUILD === '1';
  // Found lazily: the Python probe costs a process start, and a repository checkout with only a local
  // build never needs it.
  let probed = false;
  let libtorch: FoundLibtorch | null = null;
  let libtorchProblem: string | null = null;
  const findLibtorch = (): FoundLibtorch | null => {
    if (probed) return libtorch;
    probed = true;
    try {
      libtorch = script<LibtorchScript>('libtorch.js').findLibtorch(env);
      if (!libtorch) libtorchProblem = script<LibtorchScript>('libtorch.js').notFoundMessage();
    } catch (error) {
      libtorchProblem = (error as Error).message;
    }
    return libtorch;
  };

  if (forceBuild) {
    attempts.push({ route: 'platform packages', ok: false, detail: 'skipped: MOONLIGHT_FORCE_BUILD=1' });
  } else {
    const packages = script<PlatformPackagesScript>('platform-packages.js');
    for (const pkg of packages.platformPackages(packageRoot)) {
      const route = `platform package ${pkg.name}`;
      // A package that does not fit this libtorch is skipped quietly (both flavours install on every
      // linux-x64 machine); one that fits but is broken is worth a warning.
      const fail = (detail: string, warn = false): void => {
        attempts.push({ route, binary: pkg.binary ?? undefined, ok: false, detail });
        if (warn) warnings.push(`moonlight-torch: not using ${pkg.name}: ${detail}`);
      };
      if (pkg.problem || !pkg.buildInfo || !pkg.binary) {
        fail(pkg.problem ?? 'no build-info.json', pkg.dir !== null);
        continue;
      }
      const libtorch = findLibtorch();
      if (!libtorch) {
        fail(`no libtorch to run it on: ${libtorchProblem}`);
        continue;
      }
      const mismatch = packages.libtorchMismatch(pkg.buildInfo, libtorch);
      if (mismatch) {
        fail(mismatch);
        continue;
      }
      const preload = pkg.buildInfo.libtorchLibraries ?? [];
      const failure = testLoad(pkg.binary, libtorch.libDir, preload, env);
      if (failure) {
        fail(`its test load failed: ${failure}`, true);
        continue;
      }
      attempts.push({ route, binary: pkg.binary, ok: true, detail: `test-loaded against libtorch ${libtorch.version} (${libtorch.route}: ${libtorch.root})` });
      return { binary: pkg.binary, route, buildInfo: pkg.buildInfo, libtorch, preload, attempts, warnings };
    }
  }

  const local = path.join(packageRoot, 'build', 'Release', 'moonlight.node');
  const route = 'local build';
  try {
    if (!fs.existsSync(local)) buildFromSource(env, log);
    const info = readBinaryBuildInfo(local);
    const built = localBuildLibtorch(local, info);
    attempts.push({ route, binary: local, ok: true, detail: `built against libtorch ${built.version} (${built.route}: ${built.root})` });
    return { binary: local, route, buildInfo: info, libtorch: built, preload: [], attempts, warnings };
  } catch (error) {
    attempts.push({ route, binary: local, ok: false, detail: (error as Error).message });
  }
  const lines = attempts.map((a) => `  - ${a.route}: ${a.detail}`);
  const found = findLibtorch();
  const libtorchLine = found
    ? `libtorch found: ${found.version}${found.cuda ? ' (CUDA)' : ' (CPU)'} via ${found.route} at ${found.root}`
    : `libtorch not found: ${libtorchProblem}`;
  throw new LibtorchError(
    `moonlight-torch has no native binary that loads on this machine (${script<PlatformPackagesScript>('platform-packages.js').platformKey()}). ` +
      `${libtorchLine}\nRoutes tried:\n${lines.join('\n')}\n${fixes()}`,
  );
}

/** The source build (cmake-js) of the local route; throws with the reason when it cannot run or fails. */
function buildFromSource(env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  try {
    require.resolve('cmake-js/package.json', { paths: [packageRoot] });
  } catch {
    throw new Error('no local build, and cmake-js is not installed to make one');
  }
  log('moonlight-torch: no usable prebuilt binary; building from source with cmake-js (takes minutes, once)…');
  const result = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'build-native.js')], {
    cwd: packageRoot,
    env,
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0) {
    throw new Error(`the source build failed (exit ${result.status ?? result.signal}); its output is above`);
  }
}
