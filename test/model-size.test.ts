/**
 * Parameter counts and training FLOPs per token read off the native model built on the meta device, against
 * transformers' own models of the same configs (built on torch's meta device: sum(p.numel()) of their
 * parameters), and the FLOPs formula evaluated on those counts.
 */
import { countParameters, parseModelConfig, trainingFlopsPerToken } from '../src';
import { deepseekExtrasTiny, llamaTiny, moonlight16B, moonlightTiny, qwen2Tiny } from './helpers/model_configs';
import { runPython } from './helpers/python';

interface Counted {
  total: number;
  totalExcludingEmbeddings: number;
  activated: number;
  activatedExcludingEmbeddings: number;
}

// transformers fuses each MoE layer's routed experts into gate_up_proj [E, 2I, H] and down_proj [E, H, I]:
// a token runs k of the E, so (E − k)/E of those stacks are not activated.
const oracle = `
import json, sys, torch
from transformers import DeepseekV3Config, DeepseekV3ForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
MODELS = {"deepseek_v3": (DeepseekV3Config, DeepseekV3ForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM),
          "llama": (LlamaConfig, LlamaForCausalLM)}
out = []
for raw in json.load(sys.stdin):
    config_class, model_class = MODELS[raw["model_type"]]
    config = config_class(**{k: v for k, v in raw.items() if k != "model_type"})
    with torch.device("meta"):
        model = model_class(config)
    params = dict(model.named_parameters())  # tied weights appear once
    total = sum(p.numel() for p in params.values())
    embeddings = sum(p.numel() for n, p in params.items() if "embed_tokens" in n or n == "lm_head.weight")
    inactive = 0
    for n, p in params.items():
        if n.endswith("mlp.experts.gate_up_proj") or n.endswith("mlp.experts.down_proj"):
            inactive += p.numel() // p.shape[0] * (p.shape[0] - config.num_experts_per_tok)
    out.append({"total": total, "totalExcludingEmbeddings": total - embeddings, "activated": total - inactive,
                "activatedExcludingEmbeddings": total - embeddings - inactive})
print(json.dumps(out))
`;

describe('parameter counts from the native model', () => {
  const configs = { moonlightTiny, deepseekExtrasTiny, qwen2Tiny, llamaTiny, tiedQwen2: { ...qwen2Tiny, tie_word_embeddings: true }, moonlight16B };
  let expected: Counted[];
  beforeAll(() => {
    expected = runPython<Counted[]>(oracle, Object.values(configs), 300_000);
  }, 300_000);

  test.each(Object.keys(configs).map((name, i) => [name, i] as const))('%s: as transformers counts', (_name, i) => {
    const config = parseModelConfig(Object.values(configs)[i]);
    const ours: Counted = {
      total: countParameters(config),
      totalExcludingEmbeddings: countParameters(config, { excludeEmbeddings: true }),
      activated: countParameters(config, { activatedOnly: true }),
      activatedExcludingEmbeddings: countParameters(config, { excludeEmbeddings: true, activatedOnly: true }),
    };
    expect(ours).toEqual(expected[i]);
  });

  test('training FLOPs per token: 6 · (activated matmul parameters + lm_head) + attention', () => {
    const i = Object.keys(configs).indexOf('moonlight16B');
    const config = parseModelConfig(moonlight16B);
    const seqLen = 8192;
    // Moonlight-16B-A3B: 163840 × 2048 lm_head; 16 heads, d_qk = 128 + 64, d_v = 128, 27 layers.
    const attention = 6 * 16 * seqLen * (192 + 128) * 27;
    expect(trainingFlopsPerToken(config, seqLen)).toBe(6 * (expected[i].activatedExcludingEmbeddings + 163840 * 2048) + attention);
    expect(() => trainingFlopsPerToken(config, 0)).toThrow(/seqLen/);
  });
});
