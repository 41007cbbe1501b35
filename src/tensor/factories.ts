import { types } from 'util';
import { ArgumentError, DTypeError, ShapeError } from '../errors';
import { native, NativeTensorOptions } from '../native';
import { checkDim, checkShape, numelOf } from './checks';
import { checkDevice, Device } from './device';
import { checkDType, DType, isFloatingDType } from './dtype';
import { operandHandle, Tensor } from './tensor';

export interface TensorOptions {
  /** Default float32 (also for JS numbers: JS has no separate integer type), bool for booleans, int64 for bigints. */
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export interface TensorDataOptions extends TensorOptions {
  /** Shape of the result; defaults to the nesting of `data` (a flat TypedArray gives 1-D). */
  shape?: number[];
}

export type NestedNumbers = number | NestedNumbers[];
export type NestedBooleans = boolean | NestedBooleans[];
export type NestedBigInts = bigint | NestedBigInts[];
export type TensorData = NestedNumbers | NestedBooleans | NestedBigInts | ArrayBufferView;

function nativeOptions(options: TensorOptions, defaultDType: DType): NativeTensorOptions {
  if (options === null || typeof options !== 'object') throw new ArgumentError('options must be an object');
  const dtype = options.dtype === undefined ? defaultDType : checkDType(options.dtype, 'options.dtype');
  const result: NativeTensorOptions = { dtype };
  if (options.device !== undefined) result.device = checkDevice(options.device, 'options.device');
  if (options.requiresGrad !== undefined) {
    if (typeof options.requiresGrad !== 'boolean') throw new ArgumentError('options.requiresGrad must be a boolean');
    if (options.requiresGrad && !isFloatingDType(dtype)) {
      throw new DTypeError(`options.requiresGrad needs a floating dtype, got ${dtype}`);
    }
    result.requiresGrad = options.requiresGrad;
  }
  return result;
}

interface HostSource {
  values: ArrayBufferView;
  sourceDtype: DType;
  shape: number[];
}

// TypedArrays map onto the dtype of the same element type; the others are widened losslessly.
function typedArraySource(data: ArrayBufferView): HostSource {
  const length = (data as unknown as ArrayLike<unknown>).length;
  const from = (values: ArrayBufferView, sourceDtype: DType): HostSource => ({ values, sourceDtype, shape: [length] });
  if (types.isFloat32Array(data)) return from(data, 'float32');
  if (types.isFloat64Array(data)) return from(data, 'float64');
  if (types.isInt32Array(data)) return from(data, 'int32');
  if (types.isBigInt64Array(data)) return from(data, 'int64');
  if (types.isUint8Array(data) || types.isUint8ClampedArray(data)) return from(data, 'uint8');
  if (types.isInt8Array(data) || types.isInt16Array(data) || types.isUint16Array(data)) {
    return from(Int32Array.from(data as unknown as ArrayLike<number>), 'int32');
  }
  if (types.isUint32Array(data)) return from(Float64Array.from(data as unknown as ArrayLike<number>), 'float64');
  throw new ArgumentError(
    'data is a TypedArray of an unsupported type; use Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array',
  );
}

// Walks nested arrays once: checks they are rectangular and of one element kind, and flattens them.
function nestedSource(data: unknown): HostSource {
  const shape: number[] = [];
  for (let level = data; Array.isArray(level); level = level[0]) shape.push(level.length);
  const flat: unknown[] = [];
  const visit = (value: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(value)) throw new ShapeError(`data${path} is an array but its siblings are scalars`);
      flat.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      const found = Array.isArray(value) ? `length ${value.length}` : 'a scalar';
      throw new ShapeError(`data${path} has ${found} but data is not rectangular: expected length ${shape[depth]}`);
    }
    value.forEach((item, i) => visit(item, depth + 1, `${path}[${i}]`));
  };
  visit(data, 0, '');
  const kind = flat.length > 0 ? typeof flat[0] : 'number';
  flat.forEach((value, i) => {
    if (typeof value !== kind || !['number', 'boolean', 'bigint'].includes(kind)) {
      throw new ArgumentError(
        `data element ${i} is ${typeof value}; expected all elements to be numbers, all booleans or all bigints`,
      );
    }
  });
  if (kind === 'boolean') return { values: Uint8Array.from(flat as boolean[], Number), sourceDtype: 'bool', shape };
  if (kind === 'bigint') return { values: BigInt64Array.from(flat as bigint[]), sourceDtype: 'int64', shape };
  return { values: Float64Array.from(flat as number[]), sourceDtype: 'float64', shape };
}

/**
 * A tensor from JS data: a number, boolean or bigint, nested arrays of them, or a TypedArray.
 * `tensor([[1, 2], [3, 4]])` is float32 2×2; `tensor(new Int32Array(6), {shape: [2, 3]})` is int32 2×3.
 */
export function tensor(data: TensorData, options: TensorDataOptions = {}): Tensor {
  const source = ArrayBuffer.isView(data) ? typedArraySource(data) : nestedSource(data);
  const defaultDType: DType =
    source.sourceDtype === 'float64' && !types.isFloat64Array(data) ? 'float32' : source.sourceDtype;
  let shape = source.shape;
  if (options.shape !== undefined) {
    shape = checkShape(options.shape, 'options.shape');
    const have = numelOf(source.shape);
    if (numelOf(shape) !== have) {
      throw new ShapeError(`options.shape [${shape.join(', ')}] needs ${numelOf(shape)} elements but data has ${have}`);
    }
  }
  // The bool source travels as bytes: the addon reads it as uint8 and converts.
  const sourceDtype = source.sourceDtype === 'bool' ? 'uint8' : source.sourceDtype;
  return new Tensor(native().fromHost(source.values, sourceDtype, shape, nativeOptions(options, defaultDType)));
}

export function zeros(shape: number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native().zeros(checkShape(shape, 'shape'), nativeOptions(options, 'float32')));
}

export function ones(shape: number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native().ones(checkShape(shape, 'shape'), nativeOptions(options, 'float32')));
}

export function full(shape: number[], value: number, options: TensorOptions = {}): Tensor {
  if (typeof value !== 'number') throw new ArgumentError(`value must be a number, got ${typeof value}`);
  return new Tensor(native().full(checkShape(shape, 'shape'), value, nativeOptions(options, 'float32')));
}

/** Values start, start+step, … below end (torch.arange); arange(n) is 0…n−1. Default dtype float32. */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, step?: number, options?: TensorOptions): Tensor;
export function arange(
  a: number,
  b?: number | TensorOptions,
  c?: number | TensorOptions,
  d?: TensorOptions,
): Tensor {
  const [start, end, step, options] =
    typeof b === 'number'
      ? [a, b, typeof c === 'number' ? c : 1, (typeof c === 'object' ? c : d) ?? {}]
      : [0, a, 1, b ?? {}];
  for (const [name, value] of [['start', start], ['end', end], ['step', step]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ArgumentError(`${name} must be a finite number`);
  }
  if (step === 0) throw new ArgumentError('step must be non-zero');
  if ((end - start) / step < 0) {
    throw new ArgumentError(`arange(${start}, ${end}, ${step}) is empty in the wrong direction: check the sign of step`);
  }
  return new Tensor(native().arange(start, end, step, nativeOptions(options, 'float32')));
}

/** Standard normal samples from libtorch's default generator (seed it with manualSeed). */
export function randn(shape: number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native().randn(checkShape(shape, 'shape'), nativeOptions(options, 'float32')));
}

/** Uniform samples in [0, 1) from libtorch's default generator. */
export function rand(shape: number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native().rand(checkShape(shape, 'shape'), nativeOptions(options, 'float32')));
}

/** randn computed off the JS thread, for big tensors. */
export async function randnAsync(shape: number[], options: TensorOptions = {}): Promise<Tensor> {
  return new Tensor(await native().randnAsync(checkShape(shape, 'shape'), nativeOptions(options, 'float32')));
}

/** Seeds libtorch's default generator (torch.manual_seed): the same seed gives the same randn stream. */
export function manualSeed(seed: number | bigint): void {
  if (typeof seed === 'number' ? !Number.isSafeInteger(seed) || seed < 0 : typeof seed !== 'bigint' || seed < 0n) {
    throw new ArgumentError(`seed must be a non-negative integer, got ${String(seed)}`);
  }
  native().manualSeed(seed);
}

function tensorListHandles(tensors: Tensor[], argumentName: string) {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ArgumentError(`${argumentName} must be a non-empty array of Tensors`);
  }
  return tensors.map((t, i) => operandHandle(t, `${argumentName}[${i}]`));
}

/** Concatenates along an existing dimension (torch.cat). */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  const handles = tensorListHandles(tensors, 'tensors');
  return new Tensor(native().cat(handles, checkDim(dim, tensors[0].ndim, 'dim')));
}

/** Stacks along a new dimension (torch.stack). */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  const handles = tensorListHandles(tensors, 'tensors');
  return new Tensor(native().stack(handles, checkDim(dim, tensors[0].ndim, 'dim', 1)));
}
