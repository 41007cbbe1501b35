/** Data parallelism: the process group and its collectives (distributed optimizers: src/optim). */
export { distributed } from './distributed';
export type { DistributedInitOptions } from './distributed';
export type { ReduceOpName } from '../native';
export { launch, launchDefaults } from './launcher';
export type { LaunchOptions, LaunchResult, WorkerOutcome } from './launcher';
