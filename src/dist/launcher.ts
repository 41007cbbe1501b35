/**
 * The process launcher behind `moonlight launch`: starts one Node.js worker per local rank with torchrun's
 * environment, prefixes their output with the rank, forwards signals, and when one worker fails stops the
 * others. POSIX only: each worker leads its own process group so that it is stopped with its children.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import type { Writable } from 'stream';
import { ArgumentError } from '../errors';

export interface LaunchOptions {
  /** The JavaScript file each worker runs (with `process.execPath`), relative to `cwd`. */
  script: string;
  /** Arguments passed to the script untouched. */
  scriptArgs?: string[];
  /** Workers on this node (--nproc_per_node), ≥ 1. */
  nprocPerNode: number;
  /** Nodes in the job (--nnodes); default 1. */
  nnodes?: number;
  /** This node's index (--node_rank), 0 ≤ nodeRank < nnodes; default 0. */
  nodeRank?: number;
  /** Address of rank 0's node, where the TCPStore listens (--master_addr); default 127.0.0.1. */
  masterAddr?: string;
  /** Port of the TCPStore (--master_port), 1..65535, or 0 for a free port of this host (single node only); default 29500. */
  masterPort?: number;
  /** How long the other workers get between SIGTERM and SIGKILL after one failed; default 5000. */
  gracePeriodMs?: number;
  /**
   * How long workers get between a forwarded signal and SIGKILL (a second signal kills at once); default
   * 30000 as torchrun's, long enough for `moonlight train` to finish its step and save a checkpoint.
   */
  interruptGracePeriodMs?: number;
  /** Environment the workers' own variables are added to; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Working folder of the workers (and where `script` is resolved); default process.cwd(). */
  cwd?: string;
  /** Where the workers' prefixed stdout / stderr lines go; default process.stdout / process.stderr. */
  stdout?: Writable;
  stderr?: Writable;
  /** The launcher's own messages (one line each, without newline); default: `moonlight launch: …` on stderr. */
  log?: (message: string) => void;
  /** Forward SIGINT, SIGTERM and SIGHUP of this process to the workers (a second one kills them); default true. */
  forwardSignals?: boolean;
}

/** How one worker ended. */
export interface WorkerOutcome {
  rank: number;
  localRank: number;
  /** undefined when the process could not be started. */
  pid: number | undefined;
  /** null when it was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not be started, if it could not. */
  startError?: string;
}

export interface LaunchResult {
  /** 0 when every worker exited with 0; 1 when one failed; 128 + the signal's number when interrupted by a signal. */
  exitCode: number;
  /** The port the workers were given (the one picked, for masterPort 0). */
  masterPort: number;
  /** One per local rank, in local-rank order. */
  workers: WorkerOutcome[];
  /** The first worker that failed (non-zero exit, killed by a signal, or could not start); its description is in `message`. */
  failure?: WorkerOutcome & { message: string };
  /** The signal this process received and forwarded, if the run was interrupted. */
  interruptedBy?: NodeJS.Signals;
}

export const launchDefaults = {
  nnodes: 1,
  nodeRank: 0,
  masterAddr: '127.0.0.1',
  masterPort: 29500,
  gracePeriodMs: 5000,
  interruptGracePeriodMs: 30_000,
} as const;

/** The package's own CLI, for `moonlight launch … train …` (compiled: dist/cli/main.js). */
export function moonlightCliScript(): string {
  return path.resolve(__dirname, '..', 'cli', 'main.js');
}

const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** A worker printing a long line without a newline is passed on in pieces of this size rather than held in memory. */
const maxHeldLineChars = 64 * 1024;
/** How often the cleanup looks whether a stopped process group is gone. */
const groupPollIntervalMs = 50;
/** How long the output of exited workers may take to drain (a descendant outside their group may hold the pipe). */
const outputDrainMs = 2000;

/** Validated options with defaults filled in; throws ArgumentError naming the flag before anything starts. */
function resolveOptions(options: LaunchOptions) {
  const nnodes = options.nnodes ?? launchDefaults.nnodes;
  const nodeRank = options.nodeRank ?? launchDefaults.nodeRank;
  const masterAddr = options.masterAddr ?? launchDefaults.masterAddr;
  const masterPort = options.masterPort ?? launchDefaults.masterPort;
  const gracePeriodMs = options.gracePeriodMs ?? launchDefaults.gracePeriodMs;
  const interruptGracePeriodMs = options.interruptGracePeriodMs ?? launchDefaults.interruptGracePeriodMs;
  const cwd = options.cwd ?? process.cwd();
  const requireInteger = (flag: string, value: number, min: number, max: number, expected: string) => {
    if (!Number.isInteger(value) || value < min || value > max) throw new ArgumentError(`${flag} must be ${expected}, got ${value}`);
  };
  requireInteger('--nproc_per_node', options.nprocPerNode, 1, Number.MAX_SAFE_INTEGER, 'an integer ≥ 1');
  requireInteger('--nnodes', nnodes, 1, Number.MAX_SAFE_INTEGER, 'an integer ≥ 1');
  requireInteger('--node_rank', nodeRank, 0, nnodes - 1, `an integer in 0..${nnodes - 1} (below --nnodes ${nnodes})`);
  requireInteger('--master_port', masterPort, 0, 65535, 'a port in 1..65535, or 0 for a free one');
  if (masterPort === 0 && nnodes > 1) {
    throw new ArgumentError('--master_port 0 (pick a free port) works with --nnodes 1 only: the other nodes must be told the port');
  }
  if (masterAddr.trim() === '') throw new ArgumentError('--master_addr must name a host, got an empty string');
  for (const [flag, value] of [['--grace_period_s', gracePeriodMs], ['--interrupt_grace_period_s', interruptGracePeriodMs]] as const) {
    if (!(Number.isFinite(value) && value >= 0)) throw new ArgumentError(`${flag} must be a number of seconds ≥ 0, got ${value / 1000}`);
  }
  const script = path.resolve(cwd, options.script);
  if (!fs.existsSync(script)) throw new ArgumentError(`the worker script ${options.script} does not exist (looked at ${script})`);
  if (!fs.statSync(script).isFile()) throw new ArgumentError(`the worker script ${options.script} is not a file (${script})`);
  return { nnodes, nodeRank, masterAddr, masterPort, gracePeriodMs, interruptGracePeriodMs, cwd, script };
}

/** A port nothing listens on right now at `host` (the OS picks it; rank 0 binds it again a moment later). */
async function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (error) =>
      reject(new ArgumentError(`--master_port 0: could not find a free port on --master_addr ${host}: ${error.message}`)),
    );
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** torchrun's worker environment (plus MOONLIGHT_LAUNCHED) for one local rank. */
function workerEnvironment(
  base: NodeJS.ProcessEnv,
  layout: { localRank: number; nprocPerNode: number; nnodes: number; nodeRank: number; masterAddr: string; masterPort: number },
): NodeJS.ProcessEnv {
  const { localRank, nprocPerNode, nnodes, nodeRank, masterAddr, masterPort } = layout;
  const env: NodeJS.ProcessEnv = {
    ...base,
    RANK: String(nodeRank * nprocPerNode + localRank),
    WORLD_SIZE: String(nnodes * nprocPerNode),
    LOCAL_RANK: String(localRank),
    LOCAL_WORLD_SIZE: String(nprocPerNode),
    GROUP_RANK: String(nodeRank),
    GROUP_WORLD_SIZE: String(nnodes),
    MASTER_ADDR: masterAddr,
    MASTER_PORT: String(masterPort),
    MOONLIGHT_LAUNCHED: '1',
  };
  // As torchrun: several workers each running one intra-op thread per core would oversubscribe the CPU.
  if (nprocPerNode > 1 && env.OMP_NUM_THREADS === undefined) env.OMP_NUM_THREADS = '1';
  return env;
}

/** Writes a stream's text to `sink` one whole line at a time, each line starting with `prefix`. */
class LinePrefixer {
  private readonly decoder = new StringDecoder('utf8');
  private heldLine = '';

  constructor(
    private readonly prefix: string,
    private readonly sink: Writable,
  ) {}

  write(chunk: Buffer): void {
    const text = this.heldLine + this.decoder.write(chunk);
    const lastNewline = text.lastIndexOf('\n');
    this.heldLine = text.slice(lastNewline + 1);
    let complete = lastNewline >= 0 ? text.slice(0, lastNewline).split('\n') : [];
    if (this.heldLine.length > maxHeldLineChars) {
      complete = [...complete, this.heldLine];
      this.heldLine = '';
    }
    // One write per chunk: lines of different ranks never interleave within a line.
    if (complete.length > 0) this.sink.write(complete.map((line) => `${this.prefix}${line}\n`).join(''));
  }

  /** At the end of the stream: the last line, even without its newline. */
  flush(): void {
    const rest = this.heldLine + this.decoder.end();
    this.heldLine = '';
    if (rest !== '') this.sink.write(`${this.prefix}${rest}\n`);
  }
}

/** Sends `signal` to every process of the group `groupId`; false when the group is gone. */
function signalGroup(groupId: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-groupId, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Of these process groups, those that still have a running member. Zombies do not count: where PID 1
 * does not reap orphans (some containers), a killed grandchild stays a zombie and kill(-group, 0) succeeds.
 */
function groupsWithRunningMembers(groupIds: number[]): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return groupIds.filter((groupId) => signalGroup(groupId, 0)); // no procfs: zombies count
  }
  const running = new Set<number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , processGroup] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== 'Z' && state !== 'X') running.add(Number(processGroup));
  }
  return groupIds.filter((groupId) => running.has(groupId));
}

function describeOutcome(outcome: WorkerOutcome): string {
  const who = `rank ${outcome.rank}${outcome.pid === undefined ? '' : ` (pid ${outcome.pid})`}`;
  if (outcome.startError !== undefined) return `${who} could not be started: ${outcome.startError}`;
  if (outcome.signal !== null) return `${who} was killed by ${outcome.signal}`;
  return `${who} exited with code ${outcome.exitCode}`;
}

interface Worker {
  outcome: WorkerOutcome;
  child: ChildProcess;
  /** Set once the process has ended (or could not start). */
  ended: boolean;
  /** Resolves when its stdout and stderr are closed. */
  outputClosed: Promise<void>;
  prefixers: LinePrefixer[];
}

/**
 * Runs the script on `nprocPerNode` workers and resolves when all of them (and their process groups) are
 * gone. Rejects, with nothing started, only for invalid options (ArgumentError naming the flag or file).
 */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const resolved = resolveOptions(options);
  const masterPort = resolved.masterPort === 0 ? await pickFreePort(resolved.masterAddr) : resolved.masterPort;
  const { nprocPerNode } = options;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const log = options.log ?? ((message: string) => process.stderr.write(`moonlight launch: ${message}\n`));
  const baseEnv = options.env ?? process.env;
  if (nprocPerNode > 1 && baseEnv.OMP_NUM_THREADS === undefined) {
    log(`OMP_NUM_THREADS=1 for each of the ${nprocPerNode} workers (set OMP_NUM_THREADS to choose)`);
  }

  let failure: LaunchResult['failure'];
  let interruptedBy: NodeJS.Signals | undefined;
  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;
  let signalsReceived = 0;
  let resolveAllEnded!: () => void;
  const allEnded = new Promise<void>((resolve) => (resolveAllEnded = resolve));
  const workers: Worker[] = [];
  /** Set once every process group is known to be gone: from then on a pid may belong to someone else. */
  let groupsGone = false;

  const killAll = () => {
    for (const worker of workers) if (worker.outcome.pid !== undefined) signalGroup(worker.outcome.pid, 'SIGKILL');
  };
  /** Sends `signal` to every worker's group (finished ones too: their children may live on), SIGKILL after `gracePeriodMs`. */
  const stopAll = (signal: NodeJS.Signals, gracePeriodMs: number) => {
    stopping = true;
    for (const worker of workers) if (worker.outcome.pid !== undefined) signalGroup(worker.outcome.pid, signal);
    killTimer ??= setTimeout(killAll, gracePeriodMs);
  };
  const onWorkerEnded = (worker: Worker) => {
    if (worker.ended) return;
    worker.ended = true;
    const { outcome } = worker;
    const failed = outcome.exitCode !== 0 || outcome.signal !== null;
    if (failed && !stopping) {
      const othersRunning = workers.some((w) => !w.ended);
      const message = `${describeOutcome(outcome)}${othersRunning ? '; stopped the other workers' : ''}`;
      failure = { ...outcome, message };
      log(message);
      stopAll('SIGTERM', resolved.gracePeriodMs);
    }
    if (workers.length === nprocPerNode && workers.every((w) => w.ended)) resolveAllEnded();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signalsReceived += 1;
    // A failure that came first stays the reason for the exit code.
    if (failure === undefined) interruptedBy ??= signal;
    if (signalsReceived === 1 && !stopping) {
      log(`received ${signal}; forwarded it to the workers (again to kill them)`);
      stopAll(signal, resolved.interruptGracePeriodMs);
    } else {
      log(`received ${signal} while the workers were stopping; killed them`);
      killAll();
    }
  };
  // Last resort if this process exits while workers run (process.exit elsewhere, an uncaught error).
  const onProcessExit = () => {
    if (!groupsGone) killAll();
  };

  if (options.forwardSignals ?? true) for (const signal of forwardedSignals) process.on(signal, onSignal);
  process.on('exit', onProcessExit);
  try {
    for (let localRank = 0; localRank < nprocPerNode; localRank++) {
      const rank = resolved.nodeRank * nprocPerNode + localRank;
      const env = workerEnvironment(baseEnv, { localRank, nprocPerNode, nnodes: resolved.nnodes, nodeRank: resolved.nodeRank, masterAddr: resolved.masterAddr, masterPort });
      // detached: a new session and process group led by the worker, so its children are stopped with it,
      // and a terminal's Ctrl-C reaches the workers only through this launcher.
      const child = spawn(process.execPath, [resolved.script, ...(options.scriptArgs ?? [])], {
        cwd: resolved.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
      });
      const prefixers = [new LinePrefixer(`[rank ${rank}] `, stdout), new LinePrefixer(`[rank ${rank}] `, stderr)];
      const streams = [child.stdout!, child.stderr!];
      const worker: Worker = {
        outcome: { rank, localRank, pid: child.pid, exitCode: null, signal: null },
        child, ended: false, prefixers,
        outputClosed: Promise.all(streams.map((stream) => new Promise<void>((resolve) => stream.once('close', resolve)))).then(() => undefined),
      };
      streams.forEach((stream, index) => stream.on('data', (chunk: Buffer) => prefixers[index].write(chunk)));
      workers.push(worker);
      child.once('exit', (exitCode, signal) => {
        worker.outcome.exitCode = exitCode;
        worker.outcome.signal = signal;
        onWorkerEnded(worker);
      });
      child.once('error', (error) => {
        // Without a pid the process never started; with one, 'exit' reports how it ended.
        if (child.pid !== undefined) return;
        worker.outcome.startError = error.message;
        onWorkerEnded(worker);
      });
    }
    if (workers.every((w) => w.ended)) resolveAllEnded();
    await allEnded;

    // The workers are gone; children they left in their groups are stopped as torchrun does.
    const groupIds = workers.flatMap((w) => (w.outcome.pid === undefined ? [] : [w.outcome.pid]));
    const lingering = groupsWithRunningMembers(groupIds);
    if (lingering.length > 0) {
      for (const groupId of lingering) signalGroup(groupId, 'SIGTERM');
      const deadline = Date.now() + resolved.gracePeriodMs;
      while (groupsWithRunningMembers(lingering).length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, groupPollIntervalMs));
      }
      killAll();
    }
    groupsGone = true;
    if (killTimer !== undefined) clearTimeout(killTimer);
    await Promise.race([
      Promise.all(workers.map((w) => w.outputClosed)),
      new Promise((resolve) => setTimeout(resolve, outputDrainMs).unref()),
    ]);
    for (const worker of workers) {
      worker.child.stdout?.destroy();
      worker.child.stderr?.destroy();
      for (const prefixer of worker.prefixers) prefixer.flush();
    }
  } finally {
    if (killTimer !== undefined) clearTimeout(killTimer);
    if (!groupsGone) killAll();
    for (const signal of forwardedSignals) process.off(signal, onSignal);
    process.off('exit', onProcessExit);
  }

  const exitCode = interruptedBy !== undefined ? 128 + (os.constants.signals[interruptedBy] ?? 0) : failure !== undefined ? 1 : 0;
  return { exitCode, masterPort, workers: workers.map((w) => ({ ...w.outcome })), failure, interruptedBy };
}
