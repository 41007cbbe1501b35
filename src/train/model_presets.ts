/**
 * Named model shapes for `moonlight train --model NAME` and Trainer({ model: NAME }): config.json objects
 * built from a few size knobs, with the vocabulary taken from the tokenizer. 'qwen' is Moonlight's
 * examples/toy_train.py model (Qwen2ForCausalLM: intermediate 4864, 12 layers, 16 heads, tied embeddings);
 * 'moonlight' keeps Moonlight-16B-A3B's proportions (MLA, 64 sigmoid-routed experts, 6 active, 2 shared)
 * at a chosen width; 'moonlight-tiny' is the small MoE that trains on two CPU cores in minutes.
 */
import { ConfigError } from '../errors';

export const MODEL_PRESETS = ['moonlight-tiny', 'moonlight', 'qwen', 'llama'] as const;
export type ModelPreset = (typeof MODEL_PRESETS)[number];

export interface ModelPresetOptions {
  /** Every id the tokenizer produces must be below it. */
  vocabSize: number;
  /** Longest sequence the run feeds (sets max_position_embeddings). */
  maxPositions: number;
  hiddenSize?: number;
  numLayers?: number;
  intermediateSize?: number;
  numHeads?: number;
}

export function isModelPreset(name: string): name is ModelPreset {
  return (MODEL_PRESETS as readonly string[]).includes(name);
}

function positiveInteger(value: number | undefined, fallback: number, flag: string): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result <= 0) throw new ConfigError(`${flag} is ${String(value)}; expected a positive integer`);
  return result;
}

/** The preset's width and attention heads: the options', else its defaults; the heads must divide the width. */
function widthAndHeads(
  preset: ModelPreset,
  options: ModelPresetOptions,
  defaults: { hidden: number; heads: number },
): { hidden: number; heads: number } {
  const hidden = positiveInteger(options.hiddenSize, defaults.hidden, 'hidden_size');
  const heads = positiveInteger(options.numHeads, defaults.heads, 'num_heads');
  if (hidden % heads !== 0) {
    throw new ConfigError(`hidden size ${hidden} is not divisible by ${heads} attention heads (${preset}); pick a multiple of ${heads} or set the number of heads`);
  }
  return { hidden, heads };
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** A config.json object for the preset (transformers-4 key style, which parseModelConfig reads). */
export function presetConfig(preset: ModelPreset, options: ModelPresetOptions): Record<string, unknown> {
  const vocab = positiveInteger(options.vocabSize, 0, 'vocab size');
  const maxPositions = positiveInteger(options.maxPositions, 0, 'max positions');
  switch (preset) {
    case 'qwen': {
      const { hidden, heads } = widthAndHeads(preset, options, { hidden: 1024, heads: 16 });
      return {
        architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: vocab, hidden_size: hidden,
        intermediate_size: positiveInteger(options.intermediateSize, 4864, 'intermediate_size'),
        num_hidden_layers: positiveInteger(options.numLayers, 12, 'num_layers'),
        num_attention_heads: heads, num_key_value_heads: heads, max_position_embeddings: maxPositions + 1,
        rope_theta: 1_000_000, rms_norm_eps: 1e-6, initializer_range: 0.02, attention_dropout: 0.0,
        tie_word_embeddings: true, hidden_act: 'silu', use_sliding_window: false,
      };
    }
    case 'llama': {
      const { hidden, heads } = widthAndHeads(preset, options, { hidden: 1024, heads: 16 });
      return {
        architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: vocab, hidden_size: hidden,
        intermediate_size: positiveInteger(options.intermediateSize, roundUp((8 / 3) * hidden, 64), 'intermediate_size'),
        num_hidden_layers: positiveInteger(options.numLayers, 12, 'num_layers'),
        num_attention_heads: heads, num_key_value_heads: heads % 4 === 0 ? heads / 4 : heads,
        max_position_embeddings: maxPositions, rope_theta: 500_000, rms_norm_eps: 1e-5, initializer_range: 0.02,
        tie_word_embeddings: false, hidden_act: 'silu', attention_bias: false, mlp_bias: false,
      };
    }
    case 'moonlight':
    case 'moonlight-tiny': {
      const tiny = preset === 'moonlight-tiny';
      const { hidden, heads } = widthAndHeads(preset, options, tiny ? { hidden: 128, heads: 4 } : { hidden: 1024, heads: 16 });
      // Moonlight at width 2048: 16 heads of 128 (+64 RoPE dims), kv_lora_rank 512, dense MLP 5.5×, experts 0.6875×.
      const headDim = hidden / heads;
      return {
        architectures: ['DeepseekV3ForCausalLM'], model_type: 'deepseek_v3', vocab_size: vocab, hidden_size: hidden,
        num_hidden_layers: positiveInteger(options.numLayers, tiny ? 4 : 12, 'num_layers'), first_k_dense_replace: 1,
        intermediate_size: positiveInteger(options.intermediateSize, roundUp(5.5 * hidden, 16), 'intermediate_size'),
        moe_intermediate_size: roundUp(0.6875 * hidden, 16),
        n_routed_experts: tiny ? 8 : 64, num_experts_per_tok: tiny ? 2 : 6, n_shared_experts: tiny ? 1 : 2,
        num_attention_heads: heads, num_key_value_heads: heads, q_lora_rank: null, kv_lora_rank: Math.max(16, hidden / 4),
        qk_nope_head_dim: headDim, qk_rope_head_dim: Math.max(8, headDim / 2), v_head_dim: headDim,
        topk_method: 'noaux_tc', scoring_func: 'sigmoid', n_group: 1, topk_group: 1, norm_topk_prob: true,
        routed_scaling_factor: 2.446, rope_theta: 50_000, max_position_embeddings: maxPositions, rms_norm_eps: 1e-5,
        initializer_range: 0.02, tie_word_embeddings: false, hidden_act: 'silu', moe_layer_freq: 1, aux_loss_alpha: 0.001,
        seq_aux: true, num_nextn_predict_layers: 0, torch_dtype: 'bfloat16',
      };
    }
  }
}
