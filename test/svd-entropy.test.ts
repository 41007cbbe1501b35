/**
 * SVD entropy (the Moonlight paper's spectral analysis: p_i = σ_i²/Σσ_j², H = −Σ p_i log p_i / log n) against
 * numpy on fixed matrices, the matrix-type grouping against hand-written names, and `moonlight analyze`'s
 * per-type means on a saved model against numpy over the safetensors file Python reads itself.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { analyzeCheckpoints, CausalLM, matrixType, svdEntropy, tensor } from '../src';
import { ShapeError } from '../src/errors';
import { moonlightTiny } from './helpers/model_configs';
import { runPython } from './helpers/python';

const numpyEntropy = `
import json, sys
import numpy as np
def entropy(m):
    s = np.linalg.svd(np.asarray(m, dtype=np.float64), compute_uv=False)
    p = s**2 / np.sum(s**2)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)) / np.log(min(np.shape(m))))
request = json.load(sys.stdin)
print(json.dumps([entropy(m) for m in request]))
`;

function seededMatrix(rows: number, cols: number, seed: number, decay = 0): number[][] {
  // A fixed, deterministic matrix (no RNG dependence across languages): sines with a decaying column scale.
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => Math.sin(seed + 1.7 * i + 0.31 * j * j + i * j) * Math.exp(-decay * j)));
}

describe('SVD entropy', () => {
  const matrices: number[][][] = [
    seededMatrix(8, 8, 1),
    seededMatrix(6, 11, 2),      // wide
    seededMatrix(13, 5, 3),      // tall
    seededMatrix(10, 10, 4, 0.6), // fast-decaying spectrum: low entropy
    Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => (i === j ? 1 : 0))), // identity: 1
    Array.from({ length: 4 }, (_, i) => Array.from({ length: 7 }, (_, j) => (i + 1) * (j - 3))),  // rank one: 0
  ];

  test('equals numpy on fixed matrices (float64)', async () => {
    const expected = runPython<number[]>(numpyEntropy, matrices);
    for (const [i, m] of matrices.entries()) {
      const t = tensor(m, { dtype: 'float64' });
      const [value] = await svdEntropy(t);
      expect(value).toBeCloseTo(expected[i], 10);
      t.dispose();
    }
    expect(expected[4]).toBeCloseTo(1, 12);
    expect(expected[5]).toBeCloseTo(0, 6);
  });

  test('a stack gives one entropy per matrix; float32 input agrees to 1e-5', async () => {
    const stack = [seededMatrix(6, 9, 5), seededMatrix(6, 9, 6), seededMatrix(6, 9, 7, 0.4)];
    const expected = runPython<number[]>(numpyEntropy, stack);
    const t = tensor(stack, { dtype: 'float32' });
    const values = await svdEntropy(t);
    t.dispose();
    expect(values).toHaveLength(3);
    for (let i = 0; i < 3; ++i) expect(values[i]).toBeCloseTo(expected[i], 5);
  });

  test('a zero matrix has entropy 0; a vector is a ShapeError', async () => {
    const zero = tensor([[0, 0], [0, 0]]);
    expect(await svdEntropy(zero)).toEqual([0]);
    const vector = tensor([1, 2, 3]);
    await expect(svdEntropy(vector)).rejects.toThrow(ShapeError);
    zero.dispose();
    vector.dispose();
  });

  test('matrix types group parameters as the paper reports them', () => {
    const cases: Array<[string, string]> = [
      ['model.layers.0.self_attn.q_proj.weight', 'q_proj'],
      ['model.layers.3.self_attn.q_b_proj.weight', 'q_b_proj'],
      ['model.layers.1.self_attn.kv_a_proj_with_mqa.weight', 'kv_a_proj_with_mqa'],
      ['model.layers.1.self_attn.kv_a_layernorm.weight', 'norms'],
      ['model.layers.2.self_attn.q_proj.bias', 'q_proj.bias'],
      ['model.layers.0.mlp.down_proj.weight', 'mlp.down_proj'],
      ['model.layers.1.mlp.experts.gate_proj.weight', 'experts.gate_proj'],
      ['model.layers.1.mlp.experts.7.up_proj.weight', 'experts.up_proj'],
      ['model.layers.1.mlp.shared_experts.down_proj.weight', 'shared_experts.down_proj'],
      ['model.layers.1.mlp.gate.weight', 'router'],
      ['model.embed_tokens.weight', 'embed_tokens'],
      ['lm_head.weight', 'lm_head'],
      ['model.norm.weight', 'norms'],
    ];
    for (const [name, type] of cases) expect(matrixType(name)).toBe(type);
  });

  test('analyzeCheckpoints on a saved model: per-type means equal numpy over the safetensors Python reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-analyze-'));
    try {
      const model = CausalLM.fromConfig(moonlightTiny, { seed: 3 });
      await model.savePretrained(dir);
      model.dispose();
      const [result] = await analyzeCheckpoints([dir]);
      const expected = runPython<Record<string, number>>(`
import json, os, re, sys
import numpy as np
from safetensors.numpy import load_file
request = json.load(sys.stdin)
tensors = {}
for name in os.listdir(request):
    if name.endswith('.safetensors'):
        tensors.update(load_file(os.path.join(request, name)))
def entropy(m):
    s = np.linalg.svd(m.astype(np.float64), compute_uv=False)
    p = s**2 / np.sum(s**2)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)) / np.log(min(m.shape)))
def kind(name):  # hand-written grouping for this model's names
    if 'norm' in name: return 'norms'
    if name == 'model.embed_tokens.weight': return 'embed_tokens'
    if name == 'lm_head.weight': return 'lm_head'
    if name.endswith('mlp.gate.weight'): return 'router'
    m = re.match(r'model\\.layers\\.\\d+\\.self_attn\\.(\\w+)\\.weight$', name)
    if m: return m.group(1)
    m = re.match(r'model\\.layers\\.\\d+\\.mlp\\.experts\\.\\d+\\.(\\w+)\\.weight$', name)
    if m: return 'experts.' + m.group(1)
    m = re.match(r'model\\.layers\\.\\d+\\.mlp\\.shared_experts\\.(\\w+)\\.weight$', name)
    if m: return 'shared_experts.' + m.group(1)
    m = re.match(r'model\\.layers\\.\\d+\\.mlp\\.(\\w+)\\.weight$', name)
    return 'mlp.' + m.group(1)
groups = {}
for name, value in tensors.items():
    if value.ndim >= 2:
        groups.setdefault(kind(name), []).append(entropy(value))
print(json.dumps({k: float(np.mean(v)) for k, v in groups.items()}))
`, dir);
      expect(Object.fromEntries(result.types.map((t) => [t.type, t.mean]))).toEqual(
        Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, expect.closeTo(v, 5)])),
      );
      expect(result.types.find((t) => t.type === 'experts.gate_proj')!.matrices).toBe(16); // 2 MoE layers × 8 experts
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
