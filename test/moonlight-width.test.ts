/**
 * Moonlight at its real width: Moonlight-16B-A3B's own config.json (hidden 2048, MLA with kv_lora_rank 512,
 * 16 heads; one dense layer of 11264, then one MoE layer of 64 routed experts × 1408, top-6, 2 shared) cut to
 * 2 layers and a 2048-token vocabulary, written by transformers as bf16 shards with an index, per-expert tensor
 * names as published and non-zero routing biases (test/helpers/moonlight_width.ts). Loaded by fromPretrained and compared with transformers' from_pretrained:
 * float32 logits to 1e-4; the default dtype ('auto' = the checkpoint's bf16) to bf16 tolerance, with the same
 * greedy tokens.
 */
import { CausalLM, tensor } from '../src';
import { moonlightWidthCheckpoint, moonlightWidthDirectory as directory, moonlightWidthOracle as oracle } from './helpers/moonlight_width';
import { runPythonFile } from './helpers/python';

const inputIds = [[1, 17, 42, 255, 3, 100, 77, 500, 1999, 12, 640, 7]];
const newTokens = 6;

interface Reference {
  logits: number[][][];
  greedy: number[][];
}

const reference = (dtype: string) =>
  runPythonFile<Reference>(oracle, { action: 'logits', dir: directory, dtype, input_ids: inputIds, new_tokens: newTokens }, 600_000);

async function ours(dtype?: 'float32') {
  const model = (await CausalLM.fromPretrained(directory, dtype ? { dtype } : {})).eval();
  try {
    const ids = tensor(inputIds, { dtype: 'int64' });
    const { logits } = await model.forward(ids);
    const parameterDtype = model.stateDict().get('model.layers.1.mlp.experts.0.gate_proj.weight')!.dtype;
    const generated = await model.generate(ids, { maxNewTokens: newTokens });
    return { logits: logits.toNumbers(), parameterDtype, greedy: generated.tokens };
  } finally {
    model.dispose();
  }
}

function maxAbsDifference(ours: number[], theirs: number[][][]): { difference: number; scale: number } {
  const flat = theirs.flat(2);
  expect(ours.length).toBe(flat.length);
  let difference = 0;
  let scale = 0;
  flat.forEach((value, i) => {
    difference = Math.max(difference, Math.abs(ours[i] - value));
    scale = Math.max(scale, Math.abs(value));
  });
  return { difference, scale };
}

beforeAll(() => moonlightWidthCheckpoint(), 900_000);

test('float32: logits equal transformers\' to 1e-4 and greedy tokens are the same', async () => {
  const theirs = reference('float32');
  const mine = await ours('float32');
  expect(mine.parameterDtype).toBe('float32');
  const { difference, scale } = maxAbsDifference(mine.logits, theirs.logits);
  expect(scale).toBeGreaterThan(0.1);
  expect(difference).toBeLessThanOrEqual(1e-4);
  expect(mine.greedy).toEqual(theirs.greedy);
}, 900_000);

test('the default dtype is the checkpoint\'s (bf16): logits within bf16 tolerance of transformers\' bf16, same greedy tokens', async () => {
  const theirs = reference('bfloat16');
  const mine = await ours();
  expect(mine.parameterDtype).toBe('bfloat16');
  const { difference, scale } = maxAbsDifference(mine.logits, theirs.logits);
  // bf16 keeps 8 significant bits: two correct bf16 implementations differ by a few units of 2^-8 of the scale.
  expect(difference).toBeLessThanOrEqual(scale * 2 ** -5);
  expect(mine.greedy).toEqual(theirs.greedy);
}, 900_000);
