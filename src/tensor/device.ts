import { DeviceError } from '../errors';
import { native } from '../native';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** True when this build links a CUDA libtorch and a GPU is visible. */
export function cudaAvailable(): boolean {
  return native().cudaAvailable();
}

export function cudaDeviceCount(): number {
  return native().cudaDeviceCount();
}

/** Checks a device argument before it reaches native code, so the error names the argument. */
export function checkDevice(value: unknown, argumentName: string): Device {
  if (value === 'cpu') return value;
  const match = typeof value === 'string' ? /^cuda(?::(\d+))?$/.exec(value) : null;
  if (!match) {
    throw new DeviceError(`${argumentName} is ${JSON.stringify(value)}; expected 'cpu', 'cuda' or 'cuda:N'`);
  }
  if (!cudaAvailable()) {
    throw new DeviceError(
      `${argumentName} is '${value}' but CUDA is not available: this moonlight-torch build uses a CPU libtorch ` +
        'or no GPU is visible (see `moonlight info`)',
    );
  }
  const index = match[1] === undefined ? 0 : Number(match[1]);
  const count = cudaDeviceCount();
  if (index >= count) {
    throw new DeviceError(`${argumentName} is '${value}' but only ${count} CUDA device(s) are visible`);
  }
  return value as Device;
}
