// Argument checks done in TS before a native call, so the error names the argument the user wrote.
import { ArgumentError, ShapeError } from '../errors';

export function checkInteger(value: unknown, argumentName: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ArgumentError(`${argumentName} is ${String(value)}; expected an integer`);
  }
  return value;
}

export function checkShape(value: unknown, argumentName: string): number[] {
  if (!Array.isArray(value)) {
    throw new ShapeError(`${argumentName} must be an array of non-negative integers, got ${typeof value}`);
  }
  value.forEach((dim, i) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ShapeError(`${argumentName}[${i}] is ${String(dim)}; dimensions must be non-negative integers`);
    }
  });
  return value as number[];
}

/** A dimension index valid for a tensor of `ndim` dimensions (negative counts from the end, as in torch). */
export function checkDim(value: unknown, ndim: number, argumentName: string, extra = 0): number {
  const dim = checkInteger(value, argumentName);
  const size = Math.max(ndim + extra, 1);
  if (dim < -size || dim >= size) {
    throw new ShapeError(
      `${argumentName} is ${dim} but the tensor has ${ndim} dimension(s); expected a value in [${-size}, ${size - 1}]`,
    );
  }
  return dim;
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}
