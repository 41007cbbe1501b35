/** Optimizers (Muon with AdamW, standalone AdamW) and learning-rate schedules. */
export { Muon } from './muon';
export type { MuonOptions, NsCoefficients } from './muon';
export { AdamW } from './adamw';
export type { AdamWOptions } from './adamw';
export { Optimizer } from './optimizer';
export type { DistributedOptimizerOptions, NonFiniteGradPolicy, StepReport } from './optimizer';
export type { NamedParameters, OptimizerName, ParamGroup, ParamGroupInfo } from './parameters';
export { ConstantLR, CosineWithWarmup, WarmupStableDecay } from './schedule';
export type { CosineWithWarmupOptions, LrSchedule, WarmupStableDecayOptions, WsdDecayShape } from './schedule';
