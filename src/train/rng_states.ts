/**
 * libtorch's default random generators (CPU, and each device the model lives on), saved with a checkpoint so
 * that what draws from them after a resume (LoRA dropout) repeats exactly. A state is a uint8 tensor
 * (torch.get_rng_state's layout), stored in the checkpoint's JSON as base64.
 */
import { native } from '../native';
import { tensorBytes } from '../io/safetensors';
import { Tensor } from '../tensor/tensor';

/** Device name → base64 generator state. */
export type RngStates = Record<string, string>;

/** The generator states of 'cpu' and of each device given. */
export function captureRngStates(devices: readonly string[]): RngStates {
  const states: RngStates = {};
  for (const device of new Set(['cpu', ...devices])) {
    const state = new Tensor(native().rngState(device));
    try {
      states[device] = Buffer.from(tensorBytes(state)).toString('base64');
    } finally {
      state.dispose();
    }
  }
  return states;
}

export function restoreRngStates(states: RngStates): void {
  for (const [device, encoded] of Object.entries(states)) {
    const bytes = new Uint8Array(Buffer.from(encoded, 'base64'));
    const handle = native().fromHost(bytes, 'uint8', [bytes.length], { dtype: 'uint8' });
    try {
      native().setRngState(handle, device);
    } finally {
      handle.dispose();
    }
  }
}
