/** The model config as the addon takes it: what every model binding builds a model from. */

export type ModelType = 'deepseek_v3' | 'qwen2' | 'llama';

export type RopeType = 'default' | 'linear' | 'llama3' | 'yarn';

export interface RopeConfig {
  type: RopeType;
  theta: number;
  factor: number;
  originalMaxPositionEmbeddings: number;
  attentionFactor: number | null;
  betaFast: number;
  betaSlow: number;
  mscale: number;
  mscaleAllDim: number;
  truncate: boolean;
  lowFreqFactor: number;
  highFreqFactor: number;
}

/** Multi-head latent attention (DeepSeek-V3 / Moonlight). */
export interface MlaConfig {
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  ropeInterleave: boolean;
}

export interface MoeConfig {
  nRoutedExperts: number;
  numExpertsPerTok: number;
  nSharedExperts: number;
  moeIntermediateSize: number;
  firstKDenseReplace: number;
  moeLayerFreq: number;
  nGroup: number;
  topkGroup: number;
  normTopkProb: boolean;
  routedScalingFactor: number;
  auxLossAlpha: number;
  seqAux: boolean;
}

/**
 * The typed model config the core reads (cpp/models/common/model_config.h), which checks it again:
 * src/models/config.ts makes it from a Hugging Face config.json.
 */
export interface NativeModelConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** Attention head size of the dense models (Llama/Qwen2). */
  headDim: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v (Qwen2 always; Llama: attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama: attention_bias). */
  outputBias: boolean;
  mlpBias: boolean;
  initializerRange: number;
  padTokenId: number | null;
  rope: RopeConfig;
  mla: MlaConfig | null;
  moe: MoeConfig | null;
}
