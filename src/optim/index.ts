/** Optimizers (Muon with AdamW, standalone AdamW) and learning-rate schedules. */
export { Muon } from './muon';
export type { MuonOptions, NsCoefficients } from './muon';
export { AdamW } from './adamw';
export type { AdamWOptions } from './adamw';
export { Optimizer } from './optimizer';
export type { DistributedOptimizerOptions, NonFiniteGradPolicy } from './optimizer';
export type { NamedParameters, ParamGroup } from './parameters';
export type { OptimizerName, ParamGroupInfo, StepReport } from '../native';
export { ConstantLR, CosineWithWarmup, WarmupStableDecay } from './schedule';
export type { CosineWithWarmupOptions, LrSchedule, WarmupStableDecayOptions, WsdDecayShape } from './schedule';
