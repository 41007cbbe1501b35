/**
 * `moonlight doctor`'s facts: the libtorch found at run time (route, path, version, CUDA), the binary the
 * loader chose and why (every route tried), GPUs visible, gloo/NCCL availability, whether a source build
 * could run, and what to do about anything missing. Gathered without throwing: a machine where nothing
 * loads still gets a report.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { binaryResolution, native } from '../native';
import { FoundLibtorch, packageRoot, RouteAttempt } from './resolve';

export interface DoctorReport {
  platform: string;
  node: string;
  libtorch: (FoundLibtorch & { found: true }) | { found: false; problem: string };
  binary: { chosen: string | null; route: string | null; flavour: string; builtFor: string | null; attempts: RouteAttempt[]; problem?: string };
  loaded: boolean;
  loadProblem?: string;
  cudaAvailable: boolean;
  gpus: number;
  gloo: boolean;
  nccl: boolean;
  sourceBuild: { cmake: string | null; compiler: string | null };
  todo: string[];
}

function firstLineOf(command: string, args: string[]): string | null {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return run.status === 0 ? (run.stdout.split('\n')[0] ?? '').trim() : null;
}

function findRuntimeLibtorch(): DoctorReport['libtorch'] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const discovery = require(path.join(packageRoot, 'scripts', 'libtorch.js')) as {
      findLibtorch(env: NodeJS.ProcessEnv): FoundLibtorch | null;
      notFoundMessage(): string;
    };
    const found = discovery.findLibtorch(process.env);
    return found ? { ...found, found: true } : { found: false, problem: discovery.notFoundMessage() };
  } catch (error) {
    return { found: false, problem: (error as Error).message };
  }
}

export function doctorReport(): DoctorReport {
  const report: DoctorReport = {
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    libtorch: findRuntimeLibtorch(),
    binary: { chosen: null, route: null, flavour: 'none', builtFor: null, attempts: [] },
    loaded: false,
    cudaAvailable: false,
    gpus: 0,
    gloo: false,
    nccl: false,
    sourceBuild: { cmake: firstLineOf('cmake', ['--version']), compiler: firstLineOf('c++', ['--version']) },
    todo: [],
  };
  try {
    const chosen = binaryResolution();
    const info = chosen.buildInfo;
    report.binary = {
      chosen: chosen.binary,
      route: chosen.route,
      flavour: info.flavour ?? (info.cuda ? 'cuda' : 'cpu'),
      builtFor: `libtorch ${info.libtorchVersion}${info.cuda ? ' (CUDA)' : ' (CPU)'}`,
      attempts: chosen.attempts,
    };
    const addon = native();
    report.loaded = true;
    report.cudaAvailable = addon.cudaAvailable();
    report.gpus = report.cudaAvailable ? addon.cudaDeviceCount() : 0;
    const dist = addon.distState();
    report.gloo = Boolean(dist.glooCompiled);
    report.nccl = Boolean(dist.ncclCompiled);
  } catch (error) {
    const message = (error as Error).message;
    if (report.binary.chosen) report.loadProblem = message;
    else report.binary.problem = message;
  }
  report.todo = advice(report);
  return report;
}

function advice(report: DoctorReport): string[] {
  const todo: string[] = [];
  if (!report.libtorch.found) {
    todo.push('Install libtorch: `pip install torch==2.13.0` (CPU) or `pip install torch==2.14.1` (CUDA 13) for python3, or set LIBTORCH to an unzipped libtorch.');
  }
  if (!report.binary.chosen) {
    todo.push('No binary loads: `npm install --include=optional moonlight-torch` brings the prebuilt ones; or build from source (cmake + a C++ compiler, then MOONLIGHT_FORCE_BUILD=1).');
  } else if (!report.loaded) {
    todo.push(`The chosen binary fails to load (${report.loadProblem}): rebuild it with \`npm rebuild moonlight-torch\`, or set MOONLIGHT_BINARY.`);
  }
  if (report.libtorch.found && report.libtorch.cuda && report.binary.flavour !== 'cuda') {
    todo.push('Your libtorch has CUDA but the CPU binary is in use: install @moonlight-torch/linux-x64-cuda (needs libtorch 2.14.1 CUDA) or build from source with MOONLIGHT_FORCE_BUILD=1.');
  }
  if (report.loaded && !report.cudaAvailable) {
    todo.push(report.binary.flavour === 'cuda'
      ? 'CUDA binary, but no GPU is visible: check `nvidia-smi`, the driver and CUDA_VISIBLE_DEVICES.'
      : 'Training runs on the CPU. For GPUs: the CUDA torch wheel (`pip install torch==2.14.1`) and @moonlight-torch/linux-x64-cuda.');
  }
  if (report.loaded && !report.nccl) {
    todo.push('NCCL is not in this build (CPU flavour): multi-process training uses gloo; the CUDA flavour adds NCCL for GPUs.');
  }
  if (!report.sourceBuild.cmake || !report.sourceBuild.compiler) {
    todo.push('The source-build fallback needs cmake and a C++ compiler (apt-get install cmake g++); not needed while a prebuilt binary loads.');
  }
  return todo;
}

export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [`moonlight doctor: ${report.platform}, node ${report.node}`];
  const row = (key: string, value: string): number => lines.push(`${key.padEnd(14)}${value}`);
  const lt = report.libtorch;
  row('libtorch', lt.found ? `${lt.version} ${lt.cuda ? 'CUDA' : 'CPU'} via ${lt.route} at ${lt.root}` : `not found: ${lt.problem.split('\n')[0]}`);
  row('binary', report.binary.chosen ? `${report.binary.route} (${report.binary.flavour}, built for ${report.binary.builtFor}): ${report.binary.chosen}` : 'none loads');
  for (const attempt of report.binary.attempts) lines.push(`  ${attempt.ok ? 'ok  ' : 'skip'} ${attempt.route}: ${attempt.detail}`);
  if (report.binary.problem) lines.push(...report.binary.problem.split('\n').map((l) => `  ${l}`));
  row('loaded', report.loaded ? 'yes' : `no${report.loadProblem ? `: ${report.loadProblem}` : ''}`);
  row('GPUs', report.cudaAvailable ? `${report.gpus} visible` : 'none visible (CUDA not available)');
  row('gloo', report.gloo ? 'yes (CPU tensors)' : 'no');
  row('NCCL', report.nccl ? 'yes (CUDA tensors)' : 'no');
  row('source build', `cmake: ${report.sourceBuild.cmake ?? 'missing'}; c++: ${report.sourceBuild.compiler ?? 'missing'}`);
  if (report.todo.length > 0) {
    lines.push('to do:');
    for (const item of report.todo) lines.push(`  - ${item}`);
  } else {
    lines.push('to do: nothing');
  }
  return lines.join('\n');
}
