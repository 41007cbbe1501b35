import type { CommandModule } from 'yargs';
import yargs from 'yargs';
import { ArgumentError } from '../../errors';
import { launch, launchDefaults, moonlightCliScript } from '../../dist/launcher';

interface LaunchFlags {
  nproc_per_node: number;
  nnodes: number;
  node_rank: number;
  master_addr: string;
  master_port: number;
  grace_period_s: number;
  interrupt_grace_period_s: number;
}

const usage = `moonlight launch --nproc_per_node N [options] <script.js [script args...] | train [train args...]>

Start N worker processes of this node running a Node.js script, or \`moonlight train\`, with torchrun's
environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, GROUP_WORLD_SIZE, MASTER_ADDR,
MASTER_PORT, MOONLIGHT_LAUNCHED=1; OMP_NUM_THREADS=1 unless set). Their output lines start with
[rank R]. Ctrl-C / SIGTERM are forwarded (a second one kills them). When a worker fails the others are
stopped and launch exits with 1 naming the rank; interrupted by a signal it exits with 128 + its number.
Everything after the script name goes to the script untouched.`;

/**
 * The launcher's own flags. Parsed apart from the main parser, which would take flags of the worker's
 * command line (`… train --steps 3`) as its own: this parser stops at the script's name.
 */
function parseLaunchFlags(argv: string[]) {
  const parsed = yargs(argv)
    .scriptName('moonlight launch')
    .usage(usage)
    .parserConfiguration({ 'halt-at-non-option': true, 'parse-positional-numbers': false })
    .option('nproc_per_node', { type: 'number', describe: 'Worker processes on this node (≥ 1) [required]' })
    .option('nnodes', { type: 'number', default: launchDefaults.nnodes, describe: 'Nodes in the job (launch runs once on each)' })
    .option('node_rank', { type: 'number', default: launchDefaults.nodeRank, describe: "This node's index, below --nnodes; RANK = node_rank·nproc_per_node + LOCAL_RANK" })
    .option('master_addr', { type: 'string', default: launchDefaults.masterAddr, describe: "Address of node 0, where rank 0's TCPStore listens" })
    .option('master_port', {
      type: 'number', default: launchDefaults.masterPort,
      describe: 'Port of the TCPStore, 1..65535; 0 picks a free port of this host (single node only)',
    })
    .option('grace_period_s', {
      type: 'number', default: launchDefaults.gracePeriodMs / 1000,
      describe: 'Seconds the other workers get between SIGTERM and SIGKILL when one worker failed',
    })
    .option('interrupt_grace_period_s', {
      type: 'number', default: launchDefaults.interruptGracePeriodMs / 1000,
      describe: 'Seconds workers get between a forwarded Ctrl-C / SIGTERM and SIGKILL (train saves a checkpoint then)',
    })
    .example('moonlight launch --nproc_per_node 2 train --steps 100', '`moonlight train` on 2 ranks of this host')
    .example('moonlight launch --nproc_per_node 4 my_worker.js --lr 3e-4', 'Your script on 4 ranks, with its own flags')
    .example(
      'moonlight launch --nnodes 2 --node_rank 1 --master_addr 10.0.0.1 --nproc_per_node 8 train',
      'The second of two nodes (run the same with --node_rank 0 on 10.0.0.1)',
    )
    .strict()
    .version(false)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      if (error) throw error;
      throw new ArgumentError(`${message.replace(/\s*\n\s*/g, ' ')} (see moonlight launch --help)`);
    })
    .parseSync() as Partial<LaunchFlags> & Omit<LaunchFlags, 'nproc_per_node'> & { _: string[] };
  // Checked here rather than by demandOption, so that a mistyped flag (--nproc) is reported as such.
  if (parsed.nproc_per_node === undefined) throw new ArgumentError('--nproc_per_node is required: how many workers to start on this node');
  const [target, ...targetArgs] = parsed._.map(String);
  if (target === undefined) throw new ArgumentError('name the worker script (a .js file) or `train` after the flags (see moonlight launch --help)');
  return { flags: { ...parsed, nproc_per_node: parsed.nproc_per_node }, target, targetArgs };
}

/** `moonlight launch …`: runs the workers with src/dist/launcher.ts and exits with its exit code. */
export const launchCommand: CommandModule = {
  command: 'launch',
  describe: 'Run a script or `train` on N worker processes with torchrun\'s environment (distributed training)',
  // Everything after `launch` reaches the handler untouched, to be parsed by parseLaunchFlags.
  builder: (y) => y.parserConfiguration({ 'halt-at-non-option': true, 'parse-positional-numbers': false }),
  handler: async (args) => {
    // With halt-at-non-option yargs 17 puts the command name in `_` twice (from the command lookup and from
    // the halted parse of the whole command line): what follows them is the launcher's own command line.
    const tokens = args._.map(String);
    const launcherArgv = tokens.slice(tokens[0] === 'launch' && tokens[1] === 'launch' ? 2 : 1);
    const { flags, target, targetArgs } = parseLaunchFlags(launcherArgv);
    // `train` is the package's own command; a file named train is reachable as ./train.
    const [script, scriptArgs] = target === 'train' ? [moonlightCliScript(), ['train', ...targetArgs]] : [target, targetArgs];
    const result = await launch({
      script,
      scriptArgs,
      nprocPerNode: flags.nproc_per_node,
      nnodes: flags.nnodes,
      nodeRank: flags.node_rank,
      masterAddr: flags.master_addr,
      masterPort: flags.master_port,
      gracePeriodMs: flags.grace_period_s * 1000,
      interruptGracePeriodMs: flags.interrupt_grace_period_s * 1000,
    });
    process.exitCode = result.exitCode;
  },
};
