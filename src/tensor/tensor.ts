import { inspect } from 'util';
import { ArgumentError, DisposedError, DTypeError } from '../errors';
import { native, NativeTensorHandle, TensorMeta } from '../native';
import { checkDim, checkInteger, checkShape } from './checks';
import { checkDevice, Device } from './device';
import { checkDType, DType, hostArrayFromBuffer, HostArray, isFloatingDType } from './dtype';
import { release, track } from './memory';


export interface ToOptions {
  dtype?: DType;
  device?: Device;
}

export interface AllcloseOptions {
  rtol?: number;
  atol?: number;
  equalNan?: boolean;
}

export type Operand = Tensor | number;

type Nested = number | boolean | Nested[];

/**
 * A tensor held by libtorch. Tensors own native memory: call dispose() when done (or `using t = …`);
 * a forgotten tensor is freed when JS garbage-collects it. Every op returns a new Tensor.
 */
export class Tensor {
  #handle: NativeTensorHandle | null;
  #meta: TensorMeta | undefined;
  readonly #tracking: ReturnType<typeof track>;

  /** @internal Use the factories (tensor, zeros, randn, …); this wraps a handle the addon made. */
  constructor(handle: NativeTensorHandle) {
    this.#handle = handle;
    this.#tracking = track(this, handle);
  }

  /** @internal The native handle, for bindings; throws DisposedError after dispose(). */
  get handle(): NativeTensorHandle {
    if (this.#handle === null) {
      const what = this.#meta ? `Tensor(shape=[${this.#meta.shape.join(', ')}], dtype=${this.#meta.dtype})` : 'Tensor';
      throw new DisposedError(`${what} was disposed and cannot be used any more`);
    }
    return this.#handle;
  }

  private get meta(): TensorMeta {
    const handle = this.handle; // throws DisposedError after dispose(), even if the metadata is cached
    this.#meta ??= handle.meta();
    return this.#meta;
  }

  get shape(): readonly number[] {
    return this.meta.shape;
  }

  get ndim(): number {
    return this.meta.shape.length;
  }

  get dtype(): DType {
    return this.meta.dtype as DType;
  }

  get device(): Device {
    return this.meta.device as Device;
  }

  get numel(): number {
    return this.meta.shape.reduce((product, dim) => product * dim, 1);
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  get requiresGrad(): boolean {
    return this.handle.requiresGrad();
  }

  set requiresGrad(flag: boolean) {
    if (typeof flag !== 'boolean') throw new ArgumentError(`requiresGrad must be a boolean, got ${typeof flag}`);
    if (flag && !isFloatingDType(this.dtype)) {
      throw new DTypeError(`requiresGrad needs a floating dtype, but this tensor is ${this.dtype}`);
    }
    this.handle.setRequiresGrad(flag);
  }

  /** The gradient accumulated by backward(), or null. Each read returns a new Tensor over the same memory. */
  get grad(): Tensor | null {
    const grad = this.handle.grad();
    return grad === null ? null : new Tensor(grad);
  }

  set grad(value: Tensor | null) {
    this.handle.setGrad(value === null ? null : operandHandle(value, 'grad'));
  }

  /** Frees the native memory now. Safe to call twice; any later use throws DisposedError. */
  dispose(): void {
    if (this.#handle === null) return;
    this.#meta ??= this.#handle.meta();
    release(this, this.#tracking);
    this.#handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    this.handle.backward(gradient === undefined ? null : operandHandle(gradient, 'gradient'), options.retainGraph);
  }

  /** The single value of a one-element tensor (booleans for bool tensors). */
  item(): number {
    return Number(this.handle.item());
  }

  /** A copy of the values, row-major: see HostArrayOf for the TypedArray of each dtype. */
  data(): HostArray {
    return hostArrayFromBuffer(this.dtype, this.handle.toHost());
  }

  /** Same as data(). */
  toArray(): HostArray {
    return this.data();
  }

  /** The values as a flat array of numbers, row-major (int64 beyond 2^53 loses precision: use data()). */
  toNumbers(): number[] {
    return Array.from(this.data() as ArrayLike<number | bigint>, Number);
  }

  /** The values as nested JS arrays (numbers; booleans for bool tensors). */
  tolist(): Nested {
    const flat = Array.from(this.data() as ArrayLike<number | bigint>, (value) =>
      this.dtype === 'bool' ? value !== 0 : Number(value),
    );
    const build = (dim: number, offset: number): Nested => {
      if (dim === this.ndim) return flat[offset];
      const stride = this.shape.slice(dim + 1).reduce((product, size) => product * size, 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  to(options: ToOptions): Tensor {
    const request: { dtype?: string; device?: string } = {};
    if (options.dtype !== undefined) request.dtype = checkDType(options.dtype, 'options.dtype');
    if (options.device !== undefined) request.device = checkDevice(options.device, 'options.device');
    return new Tensor(native().to(this.handle, request));
  }

  clone(): Tensor {
    return new Tensor(native().clone(this.handle));
  }

  detach(): Tensor {
    return new Tensor(native().detach(this.handle));
  }

  contiguous(): Tensor {
    return new Tensor(native().contiguous(this.handle));
  }

  add(other: Operand): Tensor {
    return new Tensor(native().add(this.handle, operand(other)));
  }

  sub(other: Operand): Tensor {
    return new Tensor(native().sub(this.handle, operand(other)));
  }

  mul(other: Operand): Tensor {
    return new Tensor(native().mul(this.handle, operand(other)));
  }

  div(other: Operand): Tensor {
    return new Tensor(native().div(this.handle, operand(other)));
  }

  pow(exponent: Operand): Tensor {
    return new Tensor(native().pow(this.handle, operand(exponent, 'exponent')));
  }

  maximum(other: Operand): Tensor {
    return new Tensor(native().maximum(this.handle, operand(other)));
  }

  neg(): Tensor {
    return new Tensor(native().neg(this.handle));
  }

  exp(): Tensor {
    return new Tensor(native().exp(this.handle));
  }

  log(): Tensor {
    return new Tensor(native().log(this.handle));
  }

  sqrt(): Tensor {
    return new Tensor(native().sqrt(this.handle));
  }

  abs(): Tensor {
    return new Tensor(native().abs(this.handle));
  }

  relu(): Tensor {
    return new Tensor(native().relu(this.handle));
  }

  sigmoid(): Tensor {
    return new Tensor(native().sigmoid(this.handle));
  }

  tanh(): Tensor {
    return new Tensor(native().tanh(this.handle));
  }

  /** Matrix product with torch.matmul's broadcasting rules; shape mismatches are libtorch's TorchError. */
  matmul(other: Tensor): Tensor {
    return new Tensor(native().matmul(this.handle, operandHandle(other, 'other')));
  }

  /** matmul computed off the JS thread: the event loop keeps running meanwhile. */
  async matmulAsync(other: Tensor): Promise<Tensor> {
    return new Tensor(await native().matmulAsync(this.handle, operandHandle(other, 'other')));
  }

  sum(dim?: number | number[], options: { keepdim?: boolean } = {}): Tensor {
    return new Tensor(native().sum(this.handle, this.dims(dim), options.keepdim ?? false));
  }

  mean(dim?: number | number[], options: { keepdim?: boolean } = {}): Tensor {
    return new Tensor(native().mean(this.handle, this.dims(dim), options.keepdim ?? false));
  }

  /** max() over all elements, or max(dim) → {values, indices} like torch.max(input, dim). */
  max(): Tensor;
  max(dim: number, options?: { keepdim?: boolean }): { values: Tensor; indices: Tensor };
  max(dim?: number, options: { keepdim?: boolean } = {}): Tensor | { values: Tensor; indices: Tensor } {
    return this.extreme('max', dim, options.keepdim ?? false);
  }

  min(): Tensor;
  min(dim: number, options?: { keepdim?: boolean }): { values: Tensor; indices: Tensor };
  min(dim?: number, options: { keepdim?: boolean } = {}): Tensor | { values: Tensor; indices: Tensor } {
    return this.extreme('min', dim, options.keepdim ?? false);
  }

  argmax(dim?: number, options: { keepdim?: boolean } = {}): Tensor {
    const checked = dim === undefined ? null : checkDim(dim, this.ndim, 'dim');
    return new Tensor(native().argmax(this.handle, checked, options.keepdim ?? false));
  }

  /** A tensor of `shape` with the same values; one dimension may be -1 (inferred). */
  reshape(shape: number[]): Tensor {
    return new Tensor(native().reshape(this.handle, checkViewShape(shape, this.numel, 'shape')));
  }

  /** Like reshape, but always shares memory (fails for non-contiguous layouts, as in torch). */
  view(shape: number[]): Tensor {
    return new Tensor(native().view(this.handle, checkViewShape(shape, this.numel, 'shape')));
  }

  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(
      native().transpose(this.handle, checkDim(dim0, this.ndim, 'dim0'), checkDim(dim1, this.ndim, 'dim1')),
    );
  }

  permute(dims: number[]): Tensor {
    if (!Array.isArray(dims) || dims.length !== this.ndim) {
      throw new ArgumentError(`dims must list all ${this.ndim} dimensions, got ${JSON.stringify(dims)}`);
    }
    return new Tensor(native().permute(this.handle, dims.map((d, i) => checkDim(d, this.ndim, `dims[${i}]`))));
  }

  unsqueeze(dim: number): Tensor {
    return new Tensor(native().unsqueeze(this.handle, checkDim(dim, this.ndim, 'dim', 1)));
  }

  squeeze(dim?: number): Tensor {
    return new Tensor(native().squeeze(this.handle, dim === undefined ? null : checkDim(dim, this.ndim, 'dim')));
  }

  /** Elements start ≤ i < end (step apart) along dim; bounds are clamped as in Python slicing. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    const d = checkDim(dim, this.ndim, 'dim');
    const from = start === undefined ? null : checkInteger(start, 'start');
    const to = end === undefined ? null : checkInteger(end, 'end');
    if (checkInteger(step, 'step') < 1) throw new ArgumentError(`step is ${step}; expected a positive integer`);
    return new Tensor(native().slice(this.handle, d, from, to, step));
  }

  indexSelect(dim: number, index: Tensor): Tensor {
    const indexHandle = operandHandle(index, 'index');
    if (index.dtype !== 'int64' && index.dtype !== 'int32') {
      throw new DTypeError(`index must be an int64 or int32 tensor, got ${index.dtype}`);
    }
    return new Tensor(native().indexSelect(this.handle, checkDim(dim, this.ndim, 'dim'), indexHandle));
  }

  softmax(dim: number): Tensor {
    return new Tensor(native().softmax(this.handle, checkDim(dim, this.ndim, 'dim')));
  }

  logSoftmax(dim: number): Tensor {
    return new Tensor(native().logSoftmax(this.handle, checkDim(dim, this.ndim, 'dim')));
  }

  /** torch.allclose: |a − b| ≤ atol + rtol·|b| elementwise (defaults rtol 1e-5, atol 1e-8). */
  allclose(other: Tensor, options: AllcloseOptions = {}): boolean {
    const { rtol = 1e-5, atol = 1e-8, equalNan = false } = options;
    return native().allclose(this.handle, operandHandle(other, 'other'), rtol, atol, equalNan);
  }

  /** Same shape and exactly the same values. */
  equal(other: Tensor): boolean {
    return native().equal(this.handle, operandHandle(other, 'other'));
  }

  toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    const previewLimit = 16;
    const values =
      this.numel <= previewLimit ? `, values=${JSON.stringify(this.tolist(), (_, v) => (Number.isNaN(v) ? 'NaN' : v))}` : '';
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${values})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  private extreme(which: 'max' | 'min', dim: number | undefined, keepdim: boolean) {
    if (dim === undefined) return new Tensor(native()[which](this.handle));
    const [values, indices] = native()[which](this.handle, checkDim(dim, this.ndim, 'dim'), keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }

  private dims(dim: number | number[] | undefined): number[] | null {
    if (dim === undefined) return null;
    const list = Array.isArray(dim) ? dim : [dim];
    return list.map((d, i) => checkDim(d, this.ndim, Array.isArray(dim) ? `dim[${i}]` : 'dim'));
  }
}

/** The native handle of a Tensor argument, with errors that name the argument. */
export function operandHandle(value: unknown, argumentName: string): NativeTensorHandle {
  if (!(value instanceof Tensor)) {
    throw new ArgumentError(`${argumentName} must be a Tensor, got ${describe(value)}`);
  }
  if (value.isDisposed) throw new DisposedError(`${argumentName} was disposed and cannot be used any more`);
  return value.handle;
}

function operand(value: unknown, argumentName = 'other'): NativeTensorHandle | number {
  if (typeof value === 'number') return value;
  return operandHandle(value, argumentName);
}

function checkViewShape(shape: unknown, numel: number, argumentName: string): number[] {
  if (!Array.isArray(shape)) throw new ArgumentError(`${argumentName} must be an array of integers`);
  let inferred = -1;
  let known = 1;
  shape.forEach((dim, i) => {
    if (dim === -1 && inferred === -1) {
      inferred = i;
      return;
    }
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ArgumentError(`${argumentName}[${i}] is ${String(dim)}; expected a non-negative integer or one -1`);
    }
    known *= dim;
  });
  const fits = inferred === -1 ? known === numel : known !== 0 && numel % known === 0;
  if (!fits) {
    throw new ArgumentError(
      `${argumentName} [${shape.join(', ')}] does not fit a tensor of ${numel} element(s)`,
    );
  }
  return checkShape(
    shape.map((dim, i) => (i === inferred ? numel / known : dim)),
    argumentName,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
