/** The default generator's state (torch.get_rng_state / set_rng_state): save, draw, restore, draw the same. */
import { DTypeError, ArgumentError, DeviceError, manualSeed, rand, tensor, Tensor } from '../src';
import { native } from '../src/native';
import { runPython } from './helpers/python';

describe('rng state', () => {
  test('restoring a saved CPU state replays the same draws', () => {
    manualSeed(1234);
    rand([3]).dispose();
    const saved = new Tensor(native().rngState());
    expect(saved.dtype).toBe('uint8');
    const first = rand([5]).toNumbers();
    const other = rand([5]).toNumbers();
    expect(other).not.toEqual(first);
    native().setRngState(saved.handle);
    expect(rand([5]).toNumbers()).toEqual(first);
    native().setRngState(saved.handle, 'cpu');
    expect(rand([5]).toNumbers()).toEqual(first);
    saved.dispose();
  });

  test('the state is torch.get_rng_state() byte for byte after the same seed', () => {
    manualSeed(42);
    const ours = new Tensor(native().rngState('cpu'));
    const theirs = runPython<number[]>(
      'import json, torch\ntorch.manual_seed(42)\nprint(json.dumps(torch.get_rng_state().tolist()))');
    expect(Array.from(ours.data() as Uint8Array)).toEqual(theirs);
    ours.dispose();
  });

  test('a state that is not a uint8 generator state is a typed error', () => {
    const floats = tensor([1, 2, 3]);
    expect(() => native().setRngState(floats.handle)).toThrow(DTypeError);
    const short = tensor(new Uint8Array([1, 2, 3]));
    expect(() => native().setRngState(short.handle)).toThrow(ArgumentError);
    expect(() => native().setRngState({} as never)).toThrow(ArgumentError);
    expect(() => native().rngState('tpu')).toThrow(DeviceError);
    floats.dispose();
    short.dispose();
  });
});
