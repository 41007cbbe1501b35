import { DTypeError } from '../errors';

export const DTYPES = ['float32', 'float64', 'bfloat16', 'float16', 'int64', 'int32', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

/** The TypedArray a tensor's values come back in: 16-bit floats widen exactly to float32, bool is 0/1 bytes. */
export type HostArrayOf<D extends DType> = D extends 'float64'
  ? Float64Array
  : D extends 'int64'
    ? BigInt64Array
    : D extends 'int32'
      ? Int32Array
      : D extends 'uint8' | 'bool'
        ? Uint8Array
        : Float32Array;
export type HostArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function checkDType(value: unknown, argumentName: string): DType {
  if (!isDType(value)) {
    throw new DTypeError(`${argumentName} is ${JSON.stringify(value)}; expected one of ${DTYPES.join(', ')}`);
  }
  return value;
}

export function isFloatingDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'bfloat16' || dtype === 'float16';
}

/** Wraps the bytes the addon copied out in the TypedArray type of hostTransferType(dtype). */
export function hostArrayFromBuffer(dtype: DType, buffer: ArrayBuffer): HostArray {
  switch (dtype) {
    case 'float64':
      return new Float64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
    default:
      return new Float32Array(buffer);
  }
}
