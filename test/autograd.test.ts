// Gradients checked against derivatives worked out by hand.
import { tensor, DTypeError } from '../src';

test('grad of sum(w·x² + 3x) is 2wx + 3', () => {
  const xs = [1, -2, 0.5];
  const ws = [2, 3, -4];
  const x = tensor(xs, { requiresGrad: true, dtype: 'float64' });
  const w = tensor(ws, { dtype: 'float64' });
  const y = x.mul(x).mul(w).add(x.mul(3)).sum();
  y.backward();
  expect(x.grad!.toNumbers()).toEqual(xs.map((v, i) => 2 * ws[i] * v + 3));
  expect(w.grad).toBeNull();
});

test('grad through matmul and softmax: d/dX of sum(softmax(XW)[:, 0])', () => {
  // f = Σ_i p_i0 with p = softmax(X W) rowwise; ∂f/∂z_ij = p_i0 (δ_j0 − p_ij); ∂f/∂X = (∂f/∂z) Wᵀ.
  const X = [
    [0.1, 0.2],
    [0.3, -0.4],
  ];
  const W = [
    [1, -1, 0.5],
    [0.25, 2, -1],
  ];
  const x = tensor(X, { requiresGrad: true, dtype: 'float64' });
  const p = x.matmul(tensor(W, { dtype: 'float64' })).softmax(1);
  p.slice(1, 0, 1).sum().backward();
  const z = X.map((row) => W[0].map((_, j) => row[0] * W[0][j] + row[1] * W[1][j]));
  const expected = z.flatMap((zi) => {
    const e = zi.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    const pi = e.map((v) => v / s);
    const dz = pi.map((pij, j) => pi[0] * ((j === 0 ? 1 : 0) - pij));
    return [0, 1].map((k) => dz.reduce((acc, d, j) => acc + d * W[k][j], 0));
  });
  const got = x.grad!.toNumbers();
  got.forEach((g, i) => expect(Math.abs(g - expected[i])).toBeLessThan(1e-12));
});

test('gradients accumulate over two backward passes and can be reset', () => {
  const x = tensor([2], { requiresGrad: true });
  x.mul(x).sum().backward();
  x.mul(x).sum().backward();
  expect(x.grad!.tolist()).toEqual([8]);
  x.grad = null;
  expect(x.grad).toBeNull();
  x.grad = tensor([1.5]);
  expect(x.grad!.tolist()).toEqual([1.5]);
});

test('backward with an explicit output gradient (vector-Jacobian product)', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).backward(tensor([1, 0.5, -1]));
  expect(x.grad!.tolist()).toEqual([2, 2, -6]);
});

test('requiresGrad can be toggled on floating tensors only', () => {
  const x = tensor([1, 2]);
  expect(x.requiresGrad).toBe(false);
  x.requiresGrad = true;
  expect(x.requiresGrad).toBe(true);
  expect(() => {
    tensor([1], { dtype: 'int64' }).requiresGrad = true;
  }).toThrow(DTypeError);
  expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(/requiresGrad needs a floating dtype/);
});
