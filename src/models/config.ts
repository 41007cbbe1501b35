/**
 * Hugging Face `config.json` → the typed config the native models run on.
 *
 * Accepts both key styles: transformers 4 (`rope_theta`, `rope_scaling`, `torch_dtype`; what Moonlight ships)
 * and transformers 5 (`rope_parameters`, `dtype`, `qk_head_dim`, and DeepSeek's `head_dim` = qk_rope_head_dim,
 * which is never the attention head size). Size keys are required; every other key defaults to the value
 * transformers' config class gives it, so the same config.json builds the same model here and there.
 * This file reads keys (types, defaults, the two styles); how they relate is checked by the core
 * (cpp/models/common/model_config.cpp). Every problem is a ConfigError naming the key.
 */
import { ConfigError } from '../errors';
import { native } from '../native';
import type { MlaConfig, ModelType, MoeConfig, NativeModelConfig, RopeConfig, RopeType } from '../native';

export const MODEL_TYPES: readonly ModelType[] = ['deepseek_v3', 'qwen2', 'llama'];

/** A parsed config: the typed config the native models run on, and the config.json it was made from. */
export interface ModelConfig extends NativeModelConfig {
  /** The config.json object as given. */
  hf: Readonly<Record<string, unknown>>;
}

type Raw = Record<string, unknown>;

class KeyReader {
  constructor(
    private readonly raw: Raw,
    private readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  private fail(key: string, expected: string): never {
    const value = this.raw[key];
    const shown = value === undefined ? 'missing' : `got ${JSON.stringify(value)}`;
    throw new ConfigError(`config key "${this.prefix}${key}" must be ${expected} (${shown})`);
  }

  int(key: string, fallback?: number, min = 1): number {
    if (!this.has(key)) {
      if (fallback === undefined) this.fail(key, min > 0 ? 'a positive integer' : `an integer >= ${min}`);
      return fallback;
    }
    const value = this.raw[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      this.fail(key, min > 0 ? 'a positive integer' : `an integer >= ${min}`);
    }
    return value;
  }

  nullableInt(key: string): number | null {
    if (!(key in this.raw)) this.fail(key, 'a positive integer or null');
    return this.raw[key] === null ? null : this.int(key);
  }

  number(key: string, fallback?: number, check: (v: number) => boolean = Number.isFinite, what = 'a finite number'): number {
    if (!this.has(key)) {
      if (fallback === undefined) this.fail(key, what);
      return fallback;
    }
    const value = this.raw[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) this.fail(key, what);
    return value;
  }

  positive(key: string, fallback?: number): number {
    return this.number(key, fallback, (v) => v > 0, 'a positive number');
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'boolean') this.fail(key, 'a boolean');
    return value;
  }

  string(key: string, fallback?: string): string {
    if (!this.has(key)) {
      if (fallback === undefined) this.fail(key, 'a string');
      return fallback;
    }
    const value = this.raw[key];
    if (typeof value !== 'string') this.fail(key, 'a string');
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(key, fallback);
    if (!(allowed as readonly string[]).includes(value)) this.fail(key, `one of ${allowed.join(', ')}`);
    return value as T;
  }
}

// rope_parameters (transformers 5) or rope_theta + rope_scaling (transformers 4).
function parseRope(raw: Raw, maxPositionEmbeddings: number): RopeConfig {
  const top = new KeyReader(raw);
  let params: Raw;
  let prefix: string;
  if (top.has('rope_parameters')) {
    if (typeof raw.rope_parameters !== 'object' || Array.isArray(raw.rope_parameters)) {
      throw new ConfigError('config key "rope_parameters" must be an object');
    }
    params = { ...(raw.rope_parameters as Raw) };
    prefix = 'rope_parameters.';
    if (params.rope_theta === undefined && raw.rope_theta !== undefined) params.rope_theta = raw.rope_theta;
  } else {
    if (top.has('rope_scaling') && (typeof raw.rope_scaling !== 'object' || Array.isArray(raw.rope_scaling))) {
      throw new ConfigError('config key "rope_scaling" must be an object or null');
    }
    params = { ...((raw.rope_scaling as Raw | null | undefined) ?? {}) };
    prefix = 'rope_scaling.';
    if (params.rope_type === undefined && params.type !== undefined) params.rope_type = params.type;
    params.rope_theta = raw.rope_theta;
  }
  const rope = new KeyReader(params, prefix);
  const type = rope.string('rope_type', 'default');
  if (!['default', 'linear', 'llama3', 'yarn'].includes(type)) {
    throw new ConfigError(
      `config key "${prefix}rope_type" is ${JSON.stringify(type)}; supported: default, linear, llama3, yarn`,
    );
  }
  const theta = new KeyReader(params, prefix === 'rope_scaling.' ? '' : prefix).positive('rope_theta', 10000);
  const needsOriginal = type === 'yarn' || type === 'llama3';
  const originalMax = needsOriginal
    ? rope.int('original_max_position_embeddings')
    : rope.int('original_max_position_embeddings', maxPositionEmbeddings);
  let factor = 1;
  if (type === 'yarn') {
    // transformers: a missing factor is max_position_embeddings / original_max_position_embeddings.
    factor = rope.positive('factor', maxPositionEmbeddings / originalMax);
  } else if (type !== 'default') {
    factor = rope.positive('factor');
  }
  return {
    type: type as RopeType,
    theta,
    factor,
    originalMaxPositionEmbeddings: originalMax,
    attentionFactor: rope.has('attention_factor') ? rope.positive('attention_factor') : null,
    // transformers treats 0/null as "use the default" for the betas.
    betaFast: rope.number('beta_fast', 32) || 32,
    betaSlow: rope.number('beta_slow', 1) || 1,
    mscale: rope.number('mscale', 0),
    mscaleAllDim: rope.number('mscale_all_dim', 0),
    truncate: rope.bool('truncate', true),
    lowFreqFactor: type === 'llama3' ? rope.positive('low_freq_factor') : 1,
    highFreqFactor: type === 'llama3' ? rope.positive('high_freq_factor') : 4,
  };
}

function parseMla(raw: Raw, keys: KeyReader): MlaConfig {
  const mla: MlaConfig = {
    qLoraRank: keys.nullableInt('q_lora_rank'),
    kvLoraRank: keys.int('kv_lora_rank'),
    qkNopeHeadDim: keys.int('qk_nope_head_dim'),
    qkRopeHeadDim: keys.int('qk_rope_head_dim'),
    vHeadDim: keys.int('v_head_dim'),
    ropeInterleave: keys.bool('rope_interleave', true),
  };
  if (keys.has('qk_head_dim') && raw.qk_head_dim !== mla.qkNopeHeadDim + mla.qkRopeHeadDim) {
    throw new ConfigError(
      `config key "qk_head_dim" is ${String(raw.qk_head_dim)} but qk_nope_head_dim + qk_rope_head_dim = ` +
        `${mla.qkNopeHeadDim + mla.qkRopeHeadDim}`,
    );
  }
  return mla;
}

function parseMoe(raw: Raw, keys: KeyReader): MoeConfig {
  // Only DeepSeek-V3's routing is implemented: say so instead of silently computing something else.
  if (keys.has('scoring_func')) keys.oneOf('scoring_func', ['sigmoid'], 'sigmoid');
  if (keys.has('topk_method')) keys.oneOf('topk_method', ['noaux_tc'], 'noaux_tc');
  const experts = keys.has('n_routed_experts') ? keys.int('n_routed_experts') : keys.int('num_local_experts');
  const moe: MoeConfig = {
    nRoutedExperts: experts,
    numExpertsPerTok: keys.int('num_experts_per_tok'),
    nSharedExperts: keys.int('n_shared_experts', 1, 0),
    moeIntermediateSize: keys.int('moe_intermediate_size'),
    firstKDenseReplace: keys.int('first_k_dense_replace', 3, 0),
    moeLayerFreq: keys.int('moe_layer_freq', 1),
    nGroup: keys.int('n_group', 8),
    topkGroup: keys.int('topk_group', 4),
    normTopkProb: keys.bool('norm_topk_prob', true),
    routedScalingFactor: keys.positive('routed_scaling_factor', 2.5),
    auxLossAlpha: keys.number('aux_loss_alpha', 0, (v) => v >= 0, 'a number >= 0'),
    seqAux: keys.bool('seq_aux', true),
  };
  return moe;
}

/** Parses and checks a config.json object (already JSON-decoded). */
export function parseModelConfig(input: unknown): ModelConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('config must be a config.json object');
  }
  const raw = input as Raw;
  const keys = new KeyReader(raw);
  if (!keys.has('model_type')) throw new ConfigError('config key "model_type" is missing');
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !(MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new ConfigError(
      `config key "model_type" is ${JSON.stringify(modelType)}; supported: ${MODEL_TYPES.join(', ')}`,
    );
  }
  keys.oneOf('hidden_act', ['silu'], 'silu');
  if (modelType === 'qwen2' && keys.bool('use_sliding_window', false)) {
    throw new ConfigError('config key "use_sliding_window" is true: sliding-window attention is not supported');
  }
  const isDeepseek = modelType === 'deepseek_v3';
  const hiddenSize = keys.int('hidden_size');
  const numAttentionHeads = keys.int('num_attention_heads');
  const numKeyValueHeads = keys.int('num_key_value_heads', numAttentionHeads);
  // DeepSeek's head_dim is the rope size, never a head size: ignore it there.
  const headDim = isDeepseek ? hiddenSize / numAttentionHeads : keys.int('head_dim', hiddenSize / numAttentionHeads);
  if (!isDeepseek) {
    if (!Number.isInteger(headDim)) {
      throw new ConfigError(`config key "hidden_size" (${hiddenSize}) must be a multiple of num_attention_heads`);
    }
  }
  const maxPositionEmbeddings = keys.int('max_position_embeddings', isDeepseek ? 4096 : modelType === 'qwen2' ? 32768 : 2048);
  const vocabSize = keys.int('vocab_size');
  const padTokenId = keys.has('pad_token_id') ? keys.int('pad_token_id', undefined, 0) : null;
  const attentionBias = keys.bool('attention_bias', false);
  if (isDeepseek && attentionBias) {
    throw new ConfigError('config key "attention_bias" is true: not supported for deepseek_v3');
  }
  const config: ModelConfig = {
    modelType: modelType as ModelType,
    vocabSize,
    hiddenSize,
    intermediateSize: keys.int('intermediate_size'),
    numHiddenLayers: keys.int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim: Number.isInteger(headDim) ? headDim : 0,
    maxPositionEmbeddings,
    rmsNormEps: keys.positive('rms_norm_eps', 1e-6),
    tieWordEmbeddings: keys.bool('tie_word_embeddings', false),
    qkvBias: modelType === 'qwen2' ? true : attentionBias,
    outputBias: modelType === 'llama' ? attentionBias : false,
    mlpBias: modelType === 'llama' ? keys.bool('mlp_bias', false) : false,
    initializerRange: keys.positive('initializer_range', 0.02),
    padTokenId,
    rope: parseRope(raw, maxPositionEmbeddings),
    mla: isDeepseek ? parseMla(raw, keys) : null,
    moe: isDeepseek ? parseMoe(raw, keys) : null,
    hf: Object.freeze({ ...raw }),
  };
  // How keys relate (divisibility, routing groups and top-k, the vocabulary) is the core's to check, once.
  native().checkModelConfig(nativeModelConfig(config));
  return config;
}

/** The typed config without the config.json it came from: what the native side takes. */
export function nativeModelConfig(config: ModelConfig): NativeModelConfig {
  const { hf: _hf, ...nativeConfig } = config;
  return nativeConfig;
}
