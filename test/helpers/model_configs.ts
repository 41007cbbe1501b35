/**
 * Tiny model configurations (config.json objects) that together exercise every feature the parity tests
 * check against transformers. Sizes are deliberately unequal (v_head_dim ≠ qk_nope_head_dim, …) so a wrong
 * split or transpose cannot cancel out.
 */

/** Moonlight's shape in miniature, in Moonlight's own transformers-4 key style (Moonlight-16B-A3B's config.json). */
export const moonlightTiny: Record<string, unknown> = {
  architectures: ['DeepseekV3ForCausalLM'],
  auto_map: {
    AutoConfig: 'configuration_deepseek.DeepseekV3Config',
    AutoModelForCausalLM: 'modeling_deepseek.DeepseekV3ForCausalLM',
  },
  model_type: 'deepseek_v3',
  vocab_size: 512,
  hidden_size: 64,
  num_hidden_layers: 3,
  first_k_dense_replace: 1,
  intermediate_size: 128,
  moe_intermediate_size: 32,
  n_routed_experts: 8,
  num_experts_per_tok: 3,
  n_shared_experts: 2,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  q_lora_rank: null,
  kv_lora_rank: 32,
  qk_nope_head_dim: 16,
  qk_rope_head_dim: 8,
  v_head_dim: 12,
  topk_method: 'noaux_tc',
  scoring_func: 'sigmoid',
  n_group: 1,
  topk_group: 1,
  norm_topk_prob: true,
  routed_scaling_factor: 2.446,
  rope_theta: 50000.0,
  max_position_embeddings: 256,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
  hidden_act: 'silu',
  moe_layer_freq: 1,
  aux_loss_alpha: 0.001,
  seq_aux: true,
  num_nextn_predict_layers: 0,
  torch_dtype: 'bfloat16',
  bos_token_id: 1,
  eos_token_id: 2,
};

/** DeepSeek-V3's extras: q-LoRA, group-limited routing, YaRN with mscale, no renormalisation, 2 dense layers. */
export const deepseekExtrasTiny: Record<string, unknown> = {
  ...moonlightTiny,
  num_hidden_layers: 4,
  first_k_dense_replace: 2,
  q_lora_rank: 24,
  n_group: 4,
  topk_group: 2,
  norm_topk_prob: false,
  n_shared_experts: 3,
  routed_scaling_factor: 2.5,
  rope_theta: 10000.0,
  rope_scaling: {
    type: 'yarn',
    factor: 4.0,
    original_max_position_embeddings: 64,
    beta_fast: 32,
    beta_slow: 1,
    mscale: 1.0,
    mscale_all_dim: 0.707,
  },
};

/**
 * Written directly in transformers-5 keys (rope_parameters): half-split RoPE (rope_interleave false) with
 * linear position scaling, one shared expert, three routed per token.
 */
export const deepseekHalfRopeTiny: Record<string, unknown> = {
  ...(({ rope_theta: _theta, torch_dtype: _dtype, auto_map: _map, ...rest }) => rest)(moonlightTiny),
  rope_parameters: { rope_type: 'linear', rope_theta: 20000.0, factor: 2.0 },
  rope_interleave: false,
  dtype: 'float32',
  n_shared_experts: 1,
  num_hidden_layers: 2,
  norm_topk_prob: true,
  routed_scaling_factor: 1.7,
};

/** Qwen2 with q/k/v biases, GQA and tied embeddings (toy_train's shape, tiny). */
export const qwen2Tiny: Record<string, unknown> = {
  model_type: 'qwen2',
  vocab_size: 384,
  hidden_size: 48,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  tie_word_embeddings: true,
  use_sliding_window: false,
  hidden_act: 'silu',
};

/** Llama with GQA (4 query heads per kv head), llama3 RoPE scaling, attention and MLP biases. */
export const llamaTiny: Record<string, unknown> = {
  model_type: 'llama',
  vocab_size: 320,
  hidden_size: 64,
  intermediate_size: 112,
  num_hidden_layers: 2,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  head_dim: 10,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: {
    rope_type: 'llama3',
    factor: 8.0,
    low_freq_factor: 1.0,
    high_freq_factor: 4.0,
    original_max_position_embeddings: 16,
  },
  attention_bias: true,
  mlp_bias: true,
  tie_word_embeddings: false,
  hidden_act: 'silu',
};

/** Moonlight-16B-A3B-Instruct's config.json (values from the model card, transformers-4 key style). */
export const moonlight16B: Record<string, unknown> = {
  architectures: ['DeepseekV3ForCausalLM'],
  model_type: 'deepseek_v3',
  hidden_size: 2048,
  intermediate_size: 11264,
  moe_intermediate_size: 1408,
  n_routed_experts: 64,
  n_shared_experts: 2,
  num_experts_per_tok: 6,
  first_k_dense_replace: 1,
  moe_layer_freq: 1,
  num_hidden_layers: 27,
  num_attention_heads: 16,
  num_key_value_heads: 16,
  q_lora_rank: null,
  kv_lora_rank: 512,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  topk_method: 'noaux_tc',
  scoring_func: 'sigmoid',
  n_group: 1,
  topk_group: 1,
  routed_scaling_factor: 2.446,
  norm_topk_prob: true,
  vocab_size: 163840,
  rope_theta: 50000.0,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  bos_token_id: 163584,
  eos_token_id: 163586,
  hidden_act: 'silu',
  attention_bias: false,
  attention_dropout: 0.0,
  num_nextn_predict_layers: 0,
  aux_loss_alpha: 0.001,
  seq_aux: true,
  ep_size: 1,
  pretraining_tp: 1,
  initializer_range: 0.02,
  use_cache: true,
};
