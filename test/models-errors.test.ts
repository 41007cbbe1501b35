/** Bad configs and inputs fail with typed errors that name the key or argument and the value. */
import { ArgumentError, CausalLM, ConfigError, parseModelConfig, tensor } from '../src';
import { native } from '../src/native';
import { operandHandle } from '../src/tensor/tensor';
import { deepseekExtrasTiny, moonlightTiny, qwen2Tiny } from './helpers/model_configs';

const withKey = (base: Record<string, unknown>, key: string, value: unknown) => ({ ...base, [key]: value });
const without = (base: Record<string, unknown>, key: string) => {
  const copy = { ...base };
  delete copy[key];
  return copy;
};

describe('config errors', () => {
  test.each([
    ['unknown model_type', withKey(qwen2Tiny, 'model_type', 'mamba'), /"model_type" is "mamba"/],
    ['missing model_type', without(qwen2Tiny, 'model_type'), /"model_type" is missing/],
    ['missing hidden_size', without(qwen2Tiny, 'hidden_size'), /"hidden_size" must be a positive integer \(missing\)/],
    ['non-integer vocab_size', withKey(qwen2Tiny, 'vocab_size', 12.5), /"vocab_size" must be a positive integer \(got 12.5\)/],
    ['string num_experts_per_tok', withKey(moonlightTiny, 'num_experts_per_tok', 'three'), /"num_experts_per_tok"/],
    ['missing kv_lora_rank', without(moonlightTiny, 'kv_lora_rank'), /"kv_lora_rank"/],
    ['missing q_lora_rank', without(moonlightTiny, 'q_lora_rank'), /"q_lora_rank" must be a positive integer or null/],
    ['n_group not dividing the experts', withKey(moonlightTiny, 'n_group', 3), /"n_group" \(3\)/],
    ['topk_group above n_group', { ...moonlightTiny, n_group: 2, topk_group: 4 }, /"topk_group" \(4\)/],
    // 4 experts in the kept group, 5 chosen of 8: the fifth would be one of four tied -inf scores.
    ['top-k between the kept experts and all experts', { ...moonlightTiny, n_group: 2, topk_group: 1, num_experts_per_tok: 5 }, /"num_experts_per_tok" \(5\) exceeds the 4 experts of topk_group groups/],
    ['top-k above the experts', { ...moonlightTiny, num_experts_per_tok: 9 }, /"num_experts_per_tok" \(9\)/],
    ['unsupported scoring_func', withKey(moonlightTiny, 'scoring_func', 'softmax'), /"scoring_func" must be one of sigmoid/],
    ['unsupported rope type', withKey(qwen2Tiny, 'rope_scaling', { type: 'dynamic', factor: 2 }), /"rope_scaling.rope_type" is "dynamic"/],
    [
      'yarn without original_max_position_embeddings',
      withKey(deepseekExtrasTiny, 'rope_scaling', { type: 'yarn', factor: 4 }),
      /"rope_scaling.original_max_position_embeddings"/,
    ],
    ['num_key_value_heads not dividing heads', withKey(qwen2Tiny, 'num_key_value_heads', 3), /"num_key_value_heads" \(3\)/],
    ['sliding window', withKey(qwen2Tiny, 'use_sliding_window', true), /"use_sliding_window"/],
    ['unknown activation', withKey(qwen2Tiny, 'hidden_act', 'gelu'), /"hidden_act" must be one of silu/],
    ['inconsistent qk_head_dim', withKey(moonlightTiny, 'qk_head_dim', 8), /"qk_head_dim" is 8/],
  ])('%s → ConfigError', (_name, config, message) => {
    expect(() => parseModelConfig(config)).toThrow(ConfigError);
    expect(() => CausalLM.fromConfig(config)).toThrow(message);
  });

  test('the native side re-checks a config handed to it directly (typed error, no abort)', () => {
    const { hf: _hf, ...parsed } = parseModelConfig(moonlightTiny);
    const Handle = native().ModelHandle;
    expect(() => new Handle({ ...parsed, modelType: 'gpt2' as never }, {})).toThrow(/config\.modelType is 'gpt2'; expected 'deepseek_v3', 'qwen2' or 'llama'/);
    expect(() => new Handle({ ...parsed, moe: { ...parsed.moe!, nGroup: 3 } }, {})).toThrow(ConfigError);
    expect(() => new Handle({ ...parsed, hiddenSize: 'wide' as never }, {})).toThrow(/config\.hiddenSize is 'wide'; expected an integer/);
    expect(() => new Handle({ ...parsed, hiddenSize: 64.5 }, {})).toThrow(/config\.hiddenSize is 64\.5; expected an integer/);
    expect(() => new Handle({ ...parsed, mla: { ...parsed.mla!, rank: 4 } as never }, {})).toThrow(/config\.mla\.rank is not an option/);
    expect(() => new Handle({ ...parsed, rope: { ...parsed.rope, type: 'dynamic' as never } }, {})).toThrow(
      /rope_type 'dynamic'/,
    );
  });

  test('a config that is not an object', () => {
    expect(() => CausalLM.fromConfig(null as unknown as Record<string, unknown>)).toThrow(ConfigError);
  });
});

describe('input errors', () => {
  const model = CausalLM.fromConfig(moonlightTiny);
  afterAll(() => model.dispose());

  test('token ids outside the vocabulary name the id and vocab_size', async () => {
    await expect(model.forward([[1, 2, 512]])).rejects.toThrow(ArgumentError);
    await expect(model.forward([[1, 2, 512]])).rejects.toThrow(/inputIds holds token id 512.*vocab_size=512/);
    await expect(model.forward([[-1, 2]])).rejects.toThrow(/token id -1/);
  });

  test('a sequence longer than max_position_embeddings names the key', async () => {
    const long = [Array.from({ length: 257 }, (_, i) => i % 500)];
    await expect(model.forward(long)).rejects.toThrow(/sequence length 257.*max_position_embeddings \(256\)/);
  });

  test('labels outside the vocabulary, mismatched shapes, non-integer ids', async () => {
    await expect(model.forward([[1, 2]], { labels: [[1, 600]] })).rejects.toThrow(/labels holds 600/);
    await expect(model.forward([[1, 2]], { labels: [[1, 2, 3]] })).rejects.toThrow(/labels has shape \[1, 3\]/);
    await expect(model.forward([[1, 2.5]])).rejects.toThrow(ArgumentError);
    await expect(model.trainStep([[1, 2]], {} as never)).rejects.toThrow(/needs options.labels/);
    await expect(model.trainStep([[1, 2]], { labels: [[1, 2]], precision: 'fp8' as never })).rejects.toThrow(
      /precision is 'fp8'/,
    );
  });

  test('bf16-mixed needs fp32 master weights', async () => {
    const bf16 = CausalLM.fromConfig(qwen2Tiny, { dtype: 'bfloat16' });
    await expect(bf16.trainStep([[1, 2, 3]], { labels: [[1, 2, 3]], precision: 'bf16-mixed' })).rejects.toThrow(
      /fp32 master weights/,
    );
    bf16.dispose();
  });
});

describe('native handles are checked for their type, never reinterpreted', () => {
  // The addon's generate() takes a model handle: another handle type (a tensor's) or a plain object is an
  // ArgumentError naming the argument (reinterpreting it as a model would be undefined behaviour).
  const addon = native() as unknown as { generate(...args: unknown[]): Promise<unknown> };
  const ids = tensor([[1, 2, 3]], { dtype: 'int64' });
  test.each([
    ['a tensor handle', () => operandHandle(ids, 'ids')],
    ['a plain object', () => ({ forward: () => undefined })],
    ['a number', () => 42],
  ])('generate(model = %s) is an ArgumentError', (_name, wrong) => {
    expect(() => addon.generate(wrong(), null, null, {}, null, null)).toThrow(ArgumentError);
    expect(() => addon.generate(wrong(), null, null, {}, null, null)).toThrow(/model must be a model handle \(CausalLM\)/);
  });
});
