/** The tensor part of the addon's interface (cpp/napi/tensor_handle.cpp; the core's tables cpp/tensor/tensor_*_api.cpp, called through cpp/napi/api_calls.cpp). */

/** A tensor's shape, dtype and device as the addon names them ('float32', 'cuda:0', …). */
export interface TensorMeta {
  shape: number[];
  dtype: string;
  device: string;
}

/** What a new tensor is made as; absent fields take libtorch's defaults (float32 on the CPU, no grad). */
export interface NativeTensorOptions {
  dtype?: string;
  device?: string;
  requiresGrad?: boolean;
}

/** A conversion target: what is absent stays as it is. */
export interface NativeConversionOptions {
  dtype?: string;
  device?: string;
}

/** One at::Tensor owned by the addon. */
export interface NativeTensorHandle {
  dispose(): void;
  isDisposed(): boolean;
  meta(): TensorMeta;
  numel(): number;
  /** Host (CPU) bytes this handle holds; 0 for device tensors. */
  hostBytes(): number;
  requiresGrad(): boolean;
  setRequiresGrad(flag: boolean): void;
  grad(): NativeTensorHandle | null;
  setGrad(grad: NativeTensorHandle | null): void;
  backward(gradient?: NativeTensorHandle | null, retainGraph?: boolean): void;
  item(): number | boolean;
  toHost(): ArrayBuffer;
}

type H = NativeTensorHandle;

export interface NativeTensorAddon {
  /** `data` must be a TypedArray (a DataView is refused); its bytes are read as `sourceDtype`. */
  fromHost(data: ArrayBufferView, sourceDtype: string, shape: number[], options: NativeTensorOptions): H;
  zeros(shape: number[], options: NativeTensorOptions): H;
  ones(shape: number[], options: NativeTensorOptions): H;
  randn(shape: number[], options: NativeTensorOptions): H;
  rand(shape: number[], options: NativeTensorOptions): H;
  full(shape: number[], value: number, options: NativeTensorOptions): H;
  arange(start: number, end: number, step: number, options: NativeTensorOptions): H;
  manualSeed(seed: number | bigint): void;
  /** uint8 copy of the default generator's state of `device` ('cpu' when absent), as torch.get_rng_state. */
  rngState(device?: string): H;
  setRngState(state: H, device?: string): void;

  add(a: H, b: H | number): H;
  sub(a: H, b: H | number): H;
  mul(a: H, b: H | number): H;
  div(a: H, b: H | number): H;
  pow(a: H, b: H | number): H;
  maximum(a: H, b: H | number): H;
  neg(a: H): H;
  exp(a: H): H;
  log(a: H): H;
  sqrt(a: H): H;
  abs(a: H): H;
  relu(a: H): H;
  sigmoid(a: H): H;
  tanh(a: H): H;
  clone(a: H): H;
  detach(a: H): H;
  contiguous(a: H): H;
  matmul(a: H, b: H): H;
  sum(a: H, dims: number[] | null, keepdim: boolean): H;
  mean(a: H, dims: number[] | null, keepdim: boolean): H;
  max(a: H): H;
  max(a: H, dim: number, keepdim: boolean): [H, H];
  min(a: H): H;
  min(a: H, dim: number, keepdim: boolean): [H, H];
  argmax(a: H, dim: number | null, keepdim: boolean): H;
  reshape(a: H, shape: number[]): H;
  view(a: H, shape: number[]): H;
  transpose(a: H, dim0: number, dim1: number): H;
  permute(a: H, dims: number[]): H;
  unsqueeze(a: H, dim: number): H;
  squeeze(a: H, dim?: number | null): H;
  slice(a: H, dim: number, start: number | null, end: number | null, step: number): H;
  indexSelect(a: H, dim: number, index: H): H;
  cat(tensors: H[], dim: number): H;
  stack(tensors: H[], dim: number): H;
  softmax(a: H, dim: number): H;
  logSoftmax(a: H, dim: number): H;
  allclose(a: H, b: H, rtol: number, atol: number, equalNan: boolean): boolean;
  equal(a: H, b: H): boolean;
  /** A converted copy, or the same storage when nothing changes (as torch's .to). */
  to(a: H, options: NativeConversionOptions): H;

  matmulAsync(a: H, b: H): Promise<H>;
  randnAsync(shape: number[], options: NativeTensorOptions): Promise<H>;
}
