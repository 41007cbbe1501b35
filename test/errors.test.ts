// Mistakes surface as typed JS errors with useful messages; nothing aborts the process.
import {
  ArgumentError,
  DeviceError,
  DisposedError,
  MoonlightError,
  ShapeError,
  TorchError,
  arange,
  cudaAvailable,
  randnAsync,
  tensor,
  zeros,
} from '../src';

describe('libtorch errors become TorchError', () => {
  test('matmul of mismatched shapes carries libtorch’s message', () => {
    const a = zeros([2, 3]);
    const b = zeros([4, 5]);
    let caught: unknown;
    try {
      a.matmul(b);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TorchError);
    expect(caught).toBeInstanceOf(MoonlightError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).name).toBe('TorchError');
    expect((caught as Error).message).toContain('cannot be multiplied (2x3 and 4x5)');
    expect((caught as Error).message).not.toContain('frame #'); // no C++ backtrace noise
  });

  test('broadcast failures and non-contiguous views too', () => {
    expect(() => zeros([2, 3]).add(zeros([4]))).toThrow(TorchError);
    expect(() => arange(6).reshape([2, 3]).transpose(0, 1).view([6])).toThrow(TorchError);
  });

  test('errors inside async work reject the Promise with the same class', async () => {
    await expect(zeros([2, 3]).matmulAsync(zeros([4, 5]))).rejects.toThrow(TorchError);
  });

  test('the process keeps working after an error', () => {
    expect(() => zeros([3]).matmul(zeros([4]))).toThrow(TorchError);
    expect(tensor([1, 2]).add(1).toNumbers()).toEqual([2, 3]);
  });
});

describe('disposed tensors', () => {
  test('any use after dispose throws DisposedError naming the tensor', () => {
    const t = tensor([[1, 2]]);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.data()).toThrow(DisposedError);
    expect(() => t.add(1)).toThrow(/Tensor\(shape=\[1, 2\], dtype=float32\) was disposed/);
    expect(() => t.shape).toThrow(DisposedError);
    t.dispose(); // a second dispose is harmless
  });

  test('passing a disposed tensor as an argument names the argument', () => {
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    b.dispose();
    expect(() => a.add(b)).toThrow(DisposedError);
    expect(() => a.matmul(b)).toThrow(/other was disposed/);
  });

  test('`using` disposes at the end of the block', () => {
    let escaped: ReturnType<typeof tensor>;
    {
      using t = tensor([1]);
      escaped = t;
      expect(t.toNumbers()).toEqual([1]);
    }
    expect(escaped.isDisposed).toBe(true);
  });
});

describe('argument checks name the argument', () => {
  test('ragged nested arrays', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/data\[1\] has length 1/);
  });

  test('mixed element types', () => {
    expect(() => tensor([1, true] as never)).toThrow(ArgumentError);
  });

  test('shape and data disagree', () => {
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/options\.shape \[2, 2\] needs 4 elements but data has 3/);
  });

  test('bad shapes and dims', () => {
    expect(() => zeros([2, -1])).toThrow(/shape\[1\] is -1/);
    expect(() => zeros([2.5])).toThrow(ShapeError);
    expect(() => zeros([2, 3]).sum(2)).toThrow(/dim is 2 but the tensor has 2 dimension/);
    expect(() => zeros([2, 3]).reshape([4, 2])).toThrow(/does not fit a tensor of 6 element/);
    expect(() => zeros([2, 3]).slice(0, 0, 1, 0)).toThrow(/step is 0/);
  });

  test('non-tensor operands', () => {
    expect(() => zeros([2]).matmul([1, 2] as never)).toThrow(/other must be a Tensor, got Array/);
    expect(() => zeros([2]).add('1' as never)).toThrow(ArgumentError);
  });

  test('item() needs one element', () => {
    expect(() => zeros([2]).item()).toThrow(ShapeError);
  });
});

describe('devices', () => {
  test('unknown device strings are DeviceErrors', () => {
    expect(() => zeros([1], { device: 'tpu' as never })).toThrow(DeviceError);
    expect(() => zeros([1], { device: 'cuda:x' as never })).toThrow(/options\.device/);
  });

  test('CUDA without CUDA is a clear DeviceError (CPU builds)', async () => {
    if (cudaAvailable()) return; // on a GPU machine the CUDA tests below cover this path
    expect(() => zeros([1], { device: 'cuda' })).toThrow(/CUDA is not available/);
    expect(() => tensor([1]).to({ device: 'cuda:0' })).toThrow(DeviceError);
    await expect(randnAsync([2], { device: 'cuda' })).rejects.toThrow(DeviceError);
  });

  const onGpu = cudaAvailable() ? test : test.skip;
  onGpu('tensors move to CUDA and back with the same values', () => {
    const t = tensor([1, 2, 3]).to({ device: 'cuda' });
    expect(t.device).toBe('cuda:0');
    expect(t.mul(2).to({ device: 'cpu' }).toNumbers()).toEqual([2, 4, 6]);
  });
});
