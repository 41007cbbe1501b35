/**
 * Parity with transformers (fp32): the same weights — written by transformers' save_pretrained (sharded, with
 * an index), read here by our own safetensors reader — give the same logits (1e-4 abs), loss (1e-5) and gradient of every
 * parameter (1e-4 relative to the largest reference entry), for tiny configs covering every feature.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM, loadSafetensors, loadShardedSafetensors, Tensor, tensor } from '../src';
import {
  deepseekExtrasTiny,
  deepseekHalfRopeTiny,
  llamaTiny,
  moonlightTiny,
  qwen2Tiny,
} from './helpers/model_configs';
import { runPython } from './helpers/python';

interface Case {
  name: string;
  config: Record<string, unknown>;
  /** Build our model from the config.json transformers saved (transformers-5 keys) instead of the given one. */
  useSavedConfig: boolean;
  inputIds: number[][];
  labels: number[][];
  attentionMask: number[][] | null;
}

const ids = (rows: number, cols: number, vocab: number, salt: number): number[][] =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => (r * 131 + c * 37 + salt * 7 + 1) % vocab));

const cases: Case[] = [
  {
    name: 'moonlight tiny (transformers-4 keys, q_lora null, no group limit)',
    config: moonlightTiny,
    useSavedConfig: false,
    inputIds: [
      [1, 17, 42, 255, 3, 100, 77, 500],
      [5, 6, 7, 8, 9, 10, 11, 12],
    ],
    labels: [
      [1, 17, 42, 255, 3, 100, 77, 500],
      [5, 6, 7, 8, 9, 10, 11, 12],
    ],
    attentionMask: null,
  },
  {
    name: 'deepseek-v3 extras (transformers-5 keys, q-LoRA, n_group 4/topk_group 2, YaRN+mscale, no renorm, right padding)',
    config: deepseekExtrasTiny,
    useSavedConfig: true,
    inputIds: ids(2, 12, 512, 1),
    labels: ids(2, 12, 512, 1).map((row, r) => row.map((id, c) => (r === 1 && c >= 9 ? -100 : id))),
    attentionMask: [Array(12).fill(1), [...Array(9).fill(1), 0, 0, 0]],
  },
  {
    // transformers' own DeepseekV3 test configuration routes top-8 of 8 experts with n_group 2 / topk_group 1: the
    // dropped group's experts score -inf for the choice, yet k = 8 takes them all, with their sigmoid weights.
    name: 'deepseek-v3 routing every expert past a group limit (top-8 of 8, n_group 2, topk_group 1)',
    config: { ...moonlightTiny, n_group: 2, topk_group: 1, num_experts_per_tok: 8 },
    useSavedConfig: false,
    inputIds: ids(2, 10, 512, 5),
    labels: ids(2, 10, 512, 5),
    attentionMask: null,
  },
  {
    name: 'deepseek-v3 with half-split RoPE (rope_interleave false) and linear scaling, given in transformers-5 keys',
    config: deepseekHalfRopeTiny,
    useSavedConfig: false,
    inputIds: ids(3, 16, 512, 4),
    labels: ids(3, 16, 512, 4),
    attentionMask: null,
  },
  {
    // Left padding: the first real token has no real predecessor, so its label is ignored too.
    name: 'qwen2 tiny (biases, GQA, tied embeddings, left padding)',
    config: qwen2Tiny,
    useSavedConfig: true,
    inputIds: ids(2, 10, 384, 2),
    labels: ids(2, 10, 384, 2).map((row, r) => row.map((id, c) => (r === 0 && c < 4 ? -100 : id))),
    attentionMask: [[0, 0, 0, ...Array(7).fill(1)], Array(10).fill(1)],
  },
  {
    name: 'llama tiny (GQA 4:1, llama3 rope scaling, attention and mlp biases)',
    config: llamaTiny,
    useSavedConfig: false,
    inputIds: ids(2, 20, 320, 3),
    labels: ids(2, 20, 320, 3),
    attentionMask: null,
  },
];

const oracleScript = fs.readFileSync(path.join(__dirname, '..', 'scripts', 'oracle', 'transformers_reference.py'), 'utf8');

function maxAbs(t: Tensor): number {
  return t.abs().max().item();
}

describe('parity with transformers (fp32)', () => {
  let root: string;
  let results: Array<{ loss: number | null; num_parameters: number }>;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-parity-'));
    const request = {
      cases: cases.map((c, i) => ({
        config: c.config,
        seed: 10 + i,
        out_dir: path.join(root, `case${i}`),
        input_ids: c.inputIds,
        labels: c.labels,
        attention_mask: c.attentionMask,
      })),
    };
    results = runPython<{ results: typeof results }>(oracleScript, request, 240_000).results;
  }, 300_000);

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  cases.forEach((c, i) => {
    test(c.name, async () => {
      const dir = path.join(root, `case${i}`);
      const config = c.useSavedConfig
        ? (JSON.parse(fs.readFileSync(path.join(dir, 'model', 'config.json'), 'utf8')) as Record<string, unknown>)
        : c.config;
      const model = CausalLM.fromConfig(config, { seed: 123 });
      expect(fs.existsSync(path.join(dir, 'model', 'model.safetensors.index.json'))).toBe(true);  // sharded
      model.loadStateDict(await loadShardedSafetensors(path.join(dir, 'model')));
      expect(model.numParameters()).toBe(results[i].num_parameters);

      const reference = (await loadSafetensors(path.join(dir, 'outputs.safetensors'))).logits;
      const options = {
        labels: tensor(c.labels, { dtype: 'int64' }),
        ...(c.attentionMask ? { attentionMask: tensor(c.attentionMask, { dtype: 'int64' }) } : {}),
      };
      const { logits, loss } = await model.forward(c.inputIds, options);
      expect(logits.shape).toEqual(reference.shape);
      // Padding positions are compared out: what a query that may attend to nothing outputs is a convention
      // (transformers' eager path averages every key; sdpa gives zeros), and no real token ever sees it.
      const keep = c.attentionMask ? tensor(c.attentionMask).unsqueeze(2) : tensor(1);
      expect(maxAbs(logits.sub(reference).mul(keep))).toBeLessThan(1e-4);
      expect(Math.abs(loss!.item() - results[i].loss!)).toBeLessThan(1e-5);

      // Gradients through the native train step (no balance loss, no bias update: transformers has neither).
      const metrics = await model.trainStep(c.inputIds, { ...options, auxLossAlpha: 0, routerBiasUpdateRate: 0 });
      expect(Math.abs(metrics.loss - results[i].loss!)).toBeLessThan(1e-5);
      const referenceGrads = new Map(Object.entries(await loadSafetensors(path.join(dir, 'grads.safetensors'))));
      const ours = model.namedGradients();
      expect([...ours.keys()].sort()).toEqual([...referenceGrads.keys()].sort());
      for (const [name, expected] of referenceGrads) {
        const grad = ours.get(name);
        expect(grad).not.toBeNull();
        const scale = Math.max(maxAbs(expected), 1e-12);
        const relative = maxAbs(grad!.sub(expected)) / scale;
        if (relative >= 1e-4) throw new Error(`gradient of ${name} differs: relative error ${relative}`);
      }
      model.dispose();
    });
  });
});
