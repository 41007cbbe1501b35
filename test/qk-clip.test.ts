/**
 * QK-Clip for MLA (Kimi K2, arXiv:2507.20534 §2.1: per head h over τ with η = τ/S_h: q_nope rows ×η^α, q_pe rows ×η, k_nope rows
 * of kv_b_proj ×η^(1−α), value rows and the shared rope key untouched; with q-LoRA the query rows are
 * q_b_proj's) and the max-logit measurement it acts on:
 * - the per-head max logits equal transformers' own pre-softmax scores (eager attention, softmax input captured);
 * - one clip with lr 0 rescales exactly the rows the rule names, computed here by hand from the weights before;
 * - on the same batch afterwards every clipped head of the first layer (whose inputs the clip does not
 *   change) has max logit exactly τ, the others unchanged (the logit is bilinear in q and k).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM, Muon, Tensor } from '../src';
import { ArgumentError } from '../src/errors';
import { deepseekExtrasTiny, moonlightTiny } from './helpers/model_configs';
import { runPython } from './helpers/python';

const oracleDir = path.join(__dirname, '..', 'scripts', 'oracle');
const ids = Array.from({ length: 2 }, (_, b) => Array.from({ length: 24 }, (_, t) => (b * 131 + t * 37 + 5) % 500));

function muonAtLrZero(model: CausalLM): Muon {
  return new Muon(model.namedParameters({ expertStacks: true }), { lr: 0, weightDecay: 0 });
}

async function measureLogits(model: CausalLM): Promise<number[][]> {
  const metrics = await model.trainStepAccumulated([{ inputIds: ids, labels: ids }], null, { recordAttentionLogits: true, routerBiasUpdateRate: 0 });
  return metrics.maxAttentionLogits!.map((layer) => layer!);
}

function rows(t: Tensor): number[][] {
  const [r, c] = t.shape;
  const flat = t.toNumbers();
  return Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
}

describe.each([
  ['q_proj (no q-LoRA)', moonlightTiny, 'q_proj'],
  ['q_b_proj (q-LoRA)', deepseekExtrasTiny, 'q_b_proj'],
])('QK-Clip, %s', (_label, config, queryName) => {
  const heads = config.num_attention_heads as number;
  const nope = config.qk_nope_head_dim as number;
  const rope = config.qk_rope_head_dim as number;
  const vDim = config.v_head_dim as number;
  let dir: string;
  let model: CausalLM;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-qkclip-'));
    // transformers builds and saves the model; its eager attention's softmax inputs are the oracle's logits.
    const expected = runPython<number[][]>(`
import json, sys, os
sys.path.insert(0, ${JSON.stringify(oracleDir)})
import torch
from transformers_reference import build_model
request = json.load(sys.stdin)
model = build_model(request["config"], 7)
model.save_pretrained(request["dir"])
captured = []
original = torch.nn.functional.softmax
def capture(input, *args, **kwargs):
    if input.dim() == 4:
        captured.append(input.detach().float().amax(dim=(0, 2, 3)).tolist())
    return original(input, *args, **kwargs)
torch.nn.functional.softmax = capture
with torch.no_grad():
    model(input_ids=torch.tensor(request["ids"]))
print(json.dumps(captured))
`, { config, dir, ids });
    model = await CausalLM.fromPretrained(dir);
    const measured = await measureLogits(model);
    expect(measured).toHaveLength(expected.length);
    for (const [layer, perHead] of measured.entries()) {
      for (const [h, value] of perHead.entries()) expect(value).toBeCloseTo(expected[layer][h], 3);
    }
  });

  afterAll(() => {
    model?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('rescales exactly the rows of the rule; clipped heads then sit at τ, the others unchanged', async () => {
    const before = await measureLogits(model);
    const all = before.flat().sort((a, b) => a - b);
    const threshold = all[Math.floor(all.length / 2)]; // about half the heads are over it
    const alpha = 0.3;
    const weightsBefore = new Map([...model.namedParameters().entries()].map(([name, t]) => [name, rows(t)]));
    const optimizer = muonAtLrZero(model);
    const metrics = await model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, {
      qkClip: { threshold, alpha }, routerBiasUpdateRate: 0,
    });
    const clippedHeads = before.flat().filter((s) => s > threshold).length;
    expect(metrics.qkClippedHeads).toBe(clippedHeads);
    expect(clippedHeads).toBeGreaterThan(0);

    const after = model.namedParameters();
    for (const [name, original] of weightsBefore) {
      const current = rows(after.get(name)!);
      const layer = Number(/layers\.(\d+)\./.exec(name)?.[1] ?? -1);
      const eta = (h: number): number => Math.min(1, threshold / before[layer][h]);
      const expectedRow = (r: number): number => {
        if (name.endsWith(`self_attn.${queryName}.weight`)) {
          const h = Math.floor(r / (nope + rope));
          return (r % (nope + rope)) < nope ? eta(h) ** alpha : eta(h);
        }
        if (name.endsWith('self_attn.kv_b_proj.weight')) {
          const h = Math.floor(r / (nope + vDim));
          return (r % (nope + vDim)) < nope ? eta(h) ** (1 - alpha) : 1; // value rows untouched
        }
        return 1; // kv_a_proj_with_mqa (shared rope key), o_proj, q_a_proj, MLPs, norms: untouched
      };
      for (const [r, row] of original.entries()) {
        const factor = expectedRow(r);
        for (const [c, value] of row.entries()) expect(current[r][c]).toBeCloseTo(value * factor, 5);
      }
    }

    // Layer 0 sees the same inputs (the embeddings) after the clip, so its logits scale exactly by η: clipped
    // heads sit at τ, the others are unchanged. Later layers' inputs change with the clips before them.
    const measuredAfter = await measureLogits(model);
    for (const [h, s] of before[0].entries()) {
      expect(measuredAfter[0][h]).toBeCloseTo(s > threshold ? threshold : s, 3);
    }
  });
});

test('qkClip options are checked', async () => {
  const model = CausalLM.fromConfig(moonlightTiny, { seed: 1 });
  const optimizer = muonAtLrZero(model);
  await expect(model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, { qkClip: { threshold: 0 } })).rejects.toThrow(ArgumentError);
  await expect(model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, { qkClip: { alpha: 2 } })).rejects.toThrow(/alpha/);
  model.dispose();
});
