export { CausalLM } from './causal_lm';
export type {
  CausalLMOptions,
  ForwardOptions,
  ForwardResult,
  NamedParametersOptions,
  Precision,
  TrainStepMetrics,
  TrainStepOptions,
  AccumulatedStepOptions,
  MicroBatch,
  OptimizerStepMetrics,
} from './causal_lm';
export { MODEL_TYPES, parseModelConfig } from './config';
export type { ModelConfig } from './config';
export type { MlaConfig, ModelType, MoeConfig, RopeConfig, RopeType } from '../native';
export { countParameters } from './parameter_count';
export type { ParameterCountOptions } from './parameter_count';
export { balanceLoss } from './load_balance';
export type { BalanceLossOptions } from './load_balance';
export { pretrainedInfoOf } from './pretrained';
export type { FromPretrainedOptions, PretrainedInfo, SavePretrainedOptions } from './pretrained';
export { adapterConfigFile, adapterWeightsFile, loadLoraAdapter, loraTensors, resolveLoraOptions, saveLoraAdapter } from './lora';
export type { LoraOptions, ResolvedLoraOptions, SaveAdapterOptions } from './lora';
