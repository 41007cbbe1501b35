'use strict';
// The small models the benchmarks share (bench:train, bench:generate, the GPU check), so their numbers compare.
module.exports = {
  // bench:muon's 30 matrices of a small LLM's layer stack.
  muonMatrices: [
    ...Array(4).fill([1024, 1024]),
    ...Array(16).fill([352, 1024]),
    ...Array(8).fill([1024, 352]),
    [2816, 1024],
    [1024, 2816],
  ],
  // DeepSeek-V3 / Moonlight shape: MLA without q-LoRA, 8 routed experts (top-2), 2 shared.
  deepseek_v3: {
    model_type: 'deepseek_v3', vocab_size: 4096, hidden_size: 256, intermediate_size: 704, moe_intermediate_size: 176,
    num_hidden_layers: 4, first_k_dense_replace: 1, num_attention_heads: 4, num_key_value_heads: 4,
    n_routed_experts: 8, num_experts_per_tok: 2, n_shared_experts: 2, kv_lora_rank: 64, q_lora_rank: null,
    qk_rope_head_dim: 16, qk_nope_head_dim: 32, v_head_dim: 32, n_group: 1, topk_group: 1, norm_topk_prob: true,
    routed_scaling_factor: 2.446, rope_theta: 50000, max_position_embeddings: 4096, rms_norm_eps: 1e-5,
    tie_word_embeddings: false, aux_loss_alpha: 0,
  },
  qwen2: {
    model_type: 'qwen2', vocab_size: 4096, hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 4096, rms_norm_eps: 1e-6,
    rope_theta: 1000000, tie_word_embeddings: true,
  },
};
