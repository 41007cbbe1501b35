// Every dtype round-trips through the bridge; 16-bit float rounding is checked against values worked out
// by hand from the formats' definitions (bf16: 8 exponent + 7 mantissa bits, f16: 5 + 10, round to nearest even).
import { DTYPES, tensor, zeros, Tensor, DTypeError } from '../src';

describe('dtype round-trips', () => {
  test.each([
    ['float32', new Float32Array([1.5, -2.25, 3.4028234663852886e38, 1e-45])],
    ['float64', new Float64Array([Math.PI, -1e300, 5e-324, 0.1])],
    ['int32', new Int32Array([2147483647, -2147483648, 0, 7])],
    ['int64', new BigInt64Array([9007199254740993n, -(2n ** 62n), 0n, 42n])],
    ['uint8', new Uint8Array([0, 1, 128, 255])],
  ] as const)('%s TypedArray comes back bit-exact', (dtype, values) => {
    const t = tensor(values);
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual([4]);
    expect(Array.from(t.data() as ArrayLike<number | bigint>)).toEqual(Array.from(values as ArrayLike<number | bigint>));
    t.dispose();
  });

  test('bool comes back as 0/1 bytes and as booleans in tolist()', () => {
    const t = tensor([[true, false], [false, true]]);
    expect(t.dtype).toBe('bool');
    expect(t.toNumbers()).toEqual([1, 0, 0, 1]);
    expect(t.tolist()).toEqual([[true, false], [false, true]]);
  });

  test('the TypedArray type follows the dtype', () => {
    const kinds: Record<string, string> = {};
    for (const dtype of DTYPES) kinds[dtype] = Object.prototype.toString.call(zeros([2], { dtype }).data());
    expect(kinds).toEqual({
      float32: '[object Float32Array]',
      float64: '[object Float64Array]',
      bfloat16: '[object Float32Array]',
      float16: '[object Float32Array]',
      int64: '[object BigInt64Array]',
      int32: '[object Int32Array]',
      uint8: '[object Uint8Array]',
      bool: '[object Uint8Array]',
    });
  });

  test('bfloat16 rounds to nearest, ties to even', () => {
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even mantissa (1) wins.
    // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6 = 1.015625.
    // π = 1.5707963·2^1 → 1.5707963·128 = 201.06 → 201 → 201/64 = 3.140625.
    // 0.1 = 1.6·2^-4 → 1.6·128 = 204.8 → 205 → 205/2048 = 0.10009765625.
    // 65504·4 = 262016 = 1.99902·2^17 → 255.875 → 256 → 2^18 = 262144.
    const t = tensor([1.00390625, 1.01171875, Math.PI, 0.1, 262016], { dtype: 'bfloat16' });
    expect(t.dtype).toBe('bfloat16');
    expect(t.toNumbers()).toEqual([1, 1.015625, 3.140625, 0.10009765625, 262144]);
  });

  test('float16 rounds to nearest even and overflows to Infinity', () => {
    // 0.1 = 1.6·2^-4 → 1.6·1024 = 1638.4 → 1638 → 1638/16384 = 0.0999755859375.
    // 1 + 2^-11 is the tie between 1 and 1 + 2^-10: stays 1. 65520 is the tie above the max 65504: rounds to inf.
    const t = tensor([0.1, 1 + 2 ** -11, 65504, 65520], { dtype: 'float16' });
    expect(t.toNumbers()).toEqual([0.0999755859375, 1, 65504, Infinity]);
  });

  test('to() converts dtypes like torch (float → int truncates toward zero)', () => {
    const t = tensor([1.7, -1.7, 2.5]);
    expect(t.to({ dtype: "int32" }).toNumbers()).toEqual([1, -1, 2]);
    expect(t.to({ dtype: "bool" }).toNumbers()).toEqual([1, 1, 1]);
    expect(t.to({ dtype: 'float64' }).dtype).toBe('float64');
  });

  test('nested numbers default to float32 and keep their nesting as shape', () => {
    const t = tensor([[[1], [2]], [[3], [4]], [[5], [6]]]);
    expect(t.shape).toEqual([3, 2, 1]);
    expect(t.dtype).toBe('float32');
    expect(t.tolist()).toEqual([[[1], [2]], [[3], [4]], [[5], [6]]]);
  });

  test('a scalar is a 0-d tensor; item() reads it', () => {
    const t = tensor(2.5, { dtype: 'float64' });
    expect(t.shape).toEqual([]);
    expect(t.item()).toBe(2.5);
  });

  test('options.shape reshapes flat data', () => {
    const t = tensor(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    expect(t.tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  test('unknown dtypes are DTypeErrors naming the option', () => {
    expect(() => zeros([2], { dtype: 'float8' as never })).toThrow(DTypeError);
    expect(() => zeros([2], { dtype: 'float8' as never })).toThrow(/options\.dtype/);
  });

  test('int64 values beyond 2^53 survive a bigint round trip', () => {
    const big = 2n ** 60n + 1n;
    const t = tensor([big, -big]);
    expect(t.dtype).toBe('int64');
    expect(Array.from(t.data() as BigInt64Array)).toEqual([big, -big]);
    expect(t).toBeInstanceOf(Tensor);
  });
});
