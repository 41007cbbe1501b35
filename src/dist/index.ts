/** Data parallelism: the process group and its collectives (distributed optimizers: src/optim). */
export { distributed } from './distributed';
export type { DistributedInitOptions, ReduceOpName } from './distributed';
export { launch, launchDefaults } from './launcher';
export type { LaunchOptions, LaunchResult, WorkerOutcome } from './launcher';
