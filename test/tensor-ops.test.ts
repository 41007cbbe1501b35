// Ops checked against values computed independently here in plain JS (loops over the same inputs).
import { arange, cat, full, manualSeed, ones, randn, stack, tensor, zeros } from '../src';
import { runPython } from './helpers/python';

const A = [
  [1, 2, 3],
  [4, 5, 6],
];
const B = [
  [0.5, -1],
  [2, 0.25],
  [-3, 4],
];

function jsMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((acc, v, k) => acc + v * b[k][j], 0)));
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6) {
  expect(actual.length).toBe(expected.length);
  Array.from(actual).forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(tolerance));
}

describe('arithmetic', () => {
  test('add/sub/mul/div with tensors and numbers', () => {
    const a = tensor(A);
    const b = tensor([10, 20, 30]);
    expect(a.add(b).tolist()).toEqual([[11, 22, 33], [14, 25, 36]]); // broadcast over rows
    expect(a.sub(1).tolist()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(a.mul(a).tolist()).toEqual(A.map((r) => r.map((v) => v * v)));
    expectClose(a.div(b).data() as Float32Array, [0.1, 0.1, 0.1, 0.4, 0.25, 0.2]);
    expect(a.pow(2).tolist()).toEqual([[1, 4, 9], [16, 25, 36]]);
    expect(a.neg().maximum(-3).tolist()).toEqual([[-1, -2, -3], [-3, -3, -3]]);
  });

  test('matmul equals the row-by-column sum', () => {
    const product = tensor(A).matmul(tensor(B));
    expect(product.shape).toEqual([2, 2]);
    expectClose(product.data() as Float32Array, jsMatmul(A, B).flat());
  });

  test('batched matmul broadcasts the matrix over the batch', () => {
    const batch = stack([tensor(A), tensor(A).mul(2)]);
    const product = batch.matmul(tensor(B));
    expect(product.shape).toEqual([2, 2, 2]);
    const expected = [...jsMatmul(A, B).flat(), ...jsMatmul(A.map((r) => r.map((v) => 2 * v)), B).flat()];
    expectClose(product.data() as Float32Array, expected);
  });

  test('elementwise functions match Math', () => {
    const values = [0.25, 1, 2.5];
    const t = tensor(values, { dtype: 'float64' });
    expectClose(t.exp().data() as Float64Array, values.map(Math.exp), 1e-12);
    expectClose(t.log().data() as Float64Array, values.map(Math.log), 1e-12);
    expectClose(t.sqrt().data() as Float64Array, values.map(Math.sqrt), 1e-12);
    expectClose(t.tanh().data() as Float64Array, values.map(Math.tanh), 1e-12);
    expectClose(t.sigmoid().data() as Float64Array, values.map((v) => 1 / (1 + Math.exp(-v))), 1e-12);
    expect(tensor([-2, 0, 3]).relu().tolist()).toEqual([0, 0, 3]);
    expect(tensor([-2, 0, 3]).abs().tolist()).toEqual([2, 0, 3]);
  });
});

describe('reductions', () => {
  test('sum/mean over all, one and several dims', () => {
    const a = tensor(A);
    expect(a.sum().item()).toBe(21);
    expect(a.sum(0).tolist()).toEqual([5, 7, 9]);
    expect(a.sum(1, { keepdim: true }).tolist()).toEqual([[6], [15]]);
    expect(a.mean([0, 1]).item()).toBe(3.5);
    expect(a.mean(-1).tolist()).toEqual([2, 5]);
  });

  test('max/min overall and along a dim with indices', () => {
    const t = tensor([
      [3, 9, 1],
      [7, 2, 8],
    ]);
    expect(t.max().item()).toBe(9);
    expect(t.min().item()).toBe(1);
    const { values, indices } = t.max(1);
    expect(values.tolist()).toEqual([9, 8]);
    expect(indices.dtype).toBe('int64');
    expect(Array.from(indices.data() as BigInt64Array, Number)).toEqual([1, 2]);
    expect(t.min(0).values.tolist()).toEqual([3, 2, 1]);
    expect(Array.from(t.argmax().data() as BigInt64Array, Number)).toEqual([1]);
  });

  test('softmax and logSoftmax follow exp(x)/Σexp(x)', () => {
    const rows = [
      [1, 2, 3],
      [-1, 0, 10],
    ];
    const expected = rows.flatMap((r) => {
      const z = r.reduce((acc, v) => acc + Math.exp(v), 0);
      return r.map((v) => Math.exp(v) / z);
    });
    const t = tensor(rows, { dtype: 'float64' });
    expectClose(t.softmax(1).data() as Float64Array, expected, 1e-12);
    expectClose(t.logSoftmax(-1).data() as Float64Array, expected.map(Math.log), 1e-12);
  });
});

describe('shapes and indexing', () => {
  test('reshape, view and transpose move values as row-major order says', () => {
    const t = arange(6);
    expect(t.reshape([2, 3]).tolist()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(t.view([3, -1]).shape).toEqual([3, 2]);
    expect(t.reshape([2, 3]).transpose(0, 1).tolist()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(t.reshape([1, 2, 3]).permute([2, 0, 1]).shape).toEqual([3, 1, 2]);
    expect(t.reshape([2, 3]).unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(t.reshape([1, 6, 1]).squeeze().shape).toEqual([6]);
  });

  test('slice follows Python slicing (negative bounds, step, clamping)', () => {
    const t = arange(10);
    expect(t.slice(0, 2, 5).tolist()).toEqual([2, 3, 4]);
    expect(t.slice(0, -3).tolist()).toEqual([7, 8, 9]);
    expect(t.slice(0, 1, undefined, 3).tolist()).toEqual([1, 4, 7]);
    expect(t.slice(0, 8, 100).tolist()).toEqual([8, 9]);
    expect(tensor(A).slice(1, 1, 3).tolist()).toEqual([[2, 3], [5, 6]]);
  });

  test('indexSelect picks rows by index', () => {
    const index = tensor([2, 0, 2], { dtype: 'int64' });
    expect(tensor(B).indexSelect(0, index).tolist()).toEqual([B[2], B[0], B[2]]);
  });

  test('cat and stack', () => {
    const a = tensor([[1, 2]]);
    const b = tensor([[3, 4]]);
    expect(cat([a, b], 0).tolist()).toEqual([[1, 2], [3, 4]]);
    expect(cat([a, b], 1).tolist()).toEqual([[1, 2, 3, 4]]);
    expect(stack([a, b], 1).shape).toEqual([1, 2, 2]);
  });

  test('factories: zeros, ones, full, arange with steps', () => {
    expect(zeros([2, 2]).tolist()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3], { dtype: 'int32' }).tolist()).toEqual([1, 1, 1]);
    expect(full([2], 7.5).tolist()).toEqual([7.5, 7.5]);
    expect(arange(1, 2, 0.25).tolist()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 0, -2).tolist()).toEqual([5, 3, 1]);
  });
});

describe('comparison', () => {
  test('allclose uses |a-b| <= atol + rtol*|b|', () => {
    const a = tensor([1, 100]);
    expect(a.allclose(tensor([1 + 1e-6, 100 + 1e-4]))).toBe(true);
    expect(a.allclose(tensor([1, 100.01]))).toBe(false);
    expect(a.allclose(tensor([1, 100.01]), { rtol: 0, atol: 0.02 })).toBe(true);
    expect(tensor([NaN]).allclose(tensor([NaN]))).toBe(false);
    expect(tensor([NaN]).allclose(tensor([NaN]), { equalNan: true })).toBe(true);
  });

  test('equal needs equal shapes and values', () => {
    expect(tensor([1, 2]).equal(tensor([1, 2]))).toBe(true);
    expect(tensor([1, 2]).equal(tensor([[1, 2]]))).toBe(false);
  });
});

describe('random', () => {
  test('manualSeed makes randn repeatable, and different seeds differ', () => {
    manualSeed(1234);
    const first = randn([64]).toNumbers();
    manualSeed(1234);
    const again = randn([64]).toNumbers();
    manualSeed(1235);
    const other = randn([64]).toNumbers();
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  test('manualSeed + randn give exactly the numbers of torch.manual_seed + torch.randn (Python oracle)', () => {
    const torchValues = runPython<number[]>(
      'import torch, json; torch.manual_seed(2024); print(json.dumps(torch.randn(3, 5).flatten().tolist()))',
    );
    manualSeed(2024);
    expect(randn([3, 5]).toNumbers()).toEqual(torchValues);
  });

  test('randn samples look standard normal', () => {
    manualSeed(7);
    const sample = randn([200_000]).data() as Float32Array;
    const mean = sample.reduce((acc, v) => acc + v, 0) / sample.length;
    const variance = sample.reduce((acc, v) => acc + (v - mean) ** 2, 0) / sample.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});
