/**
 * The one place that loads the native addon and declares its interface.
 *
 * src/binary/resolve.ts picks the binary: MOONLIGHT_BINARY, else a prebuilt platform package that matches
 * the libtorch found at run time (test-loaded in a child process first), else the local build in
 * <package>/build/Release (made with cmake-js if missing). A local build's RUNPATH points at the libtorch
 * it was built against (checked to still be there with the same version); a prebuilt binary has no
 * RUNPATH, and its libtorch libraries are preloaded by absolute path (scripts/load-binary.js). Either way
 * no LD_LIBRARY_PATH is needed, and a moved or mismatched libtorch is a LibtorchError, not a dlopen crash.
 */
import * as path from 'path';
import { LibtorchError, nativeErrorClasses } from './errors';
import { BinaryBuildInfo, BinaryResolution, loadBinaryScript, readBinaryBuildInfo, resolveBinary } from './binary/resolve';
import type { NativeIoAddon } from './io/safetensors';
import type { NativeOptimAddon } from './optim/optimizer';
import type { NativeModelsAddon } from './models/native';
import type { NativeDataAddon } from './data/token_cache';
import type { NativeDistAddon } from './dist/distributed';
import type { NativeGenerateAddon } from './infer/native';
import type { NativeAnalysisAddon } from './experiments/svd_entropy';

export interface TensorMeta {
  shape: number[];
  dtype: string;
  device: string;
}

export interface NativeTensorOptions {
  dtype?: string;
  device?: string;
  requiresGrad?: boolean;
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

/**
 * The addon's whole interface: the core below plus one interface per area (optim, models, io, …),
 * each declared beside the TS code that uses it and listed in `extends` here.
 */
export interface NativeAddon
  extends NativeCoreAddon, NativeTensorAddon, NativeIoAddon, NativeOptimAddon, NativeModelsAddon, NativeDataAddon,
    NativeDistAddon, NativeGenerateAddon,
    NativeAnalysisAddon {}

export interface NativeCoreAddon {
  libtorchVersion: string;
  libtorchRoute: string;
  registerErrorClasses(classes: Record<string, new (message: string) => Error>): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
}

export interface NativeTensorAddon {
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
  to(a: H, options: { dtype?: string; device?: string }): H;

  matmulAsync(a: H, b: H): Promise<H>;
  randnAsync(shape: number[], options: NativeTensorOptions): Promise<H>;
}

export type BuildInfo = BinaryBuildInfo;

export const packageRoot = path.resolve(__dirname, '..');

let resolution: BinaryResolution | undefined;

/** Which binary is (or will be) loaded, the libtorch it runs on, and every route tried (src/binary/resolve.ts). */
export function binaryResolution(): BinaryResolution {
  resolution ??= resolveBinary();
  return resolution;
}

export function addonPath(): string {
  return binaryResolution().binary;
}

/** build-info.json beside the binary: the libtorch it was built for (see BinaryBuildInfo for prebuilt ones). */
export function readBuildInfo(binary = addonPath()): BinaryBuildInfo {
  return readBinaryBuildInfo(binary);
}

function loadAddon(): NativeAddon {
  const chosen = binaryResolution();
  for (const warning of chosen.warnings) console.error(`${warning}; using ${chosen.route} (${chosen.binary})`);
  let addon: NativeAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadBinary } = require(loadBinaryScript) as {
      loadBinary(binary: string, libDir: string, libraries: string[]): unknown;
    };
    addon = loadBinary(chosen.binary, chosen.libtorch.libDir, chosen.preload) as NativeAddon;
  } catch (error) {
    throw new LibtorchError(
      `could not load ${chosen.binary} (${chosen.route}; libtorch ${chosen.buildInfo.libtorchVersion} at ${chosen.libtorch.libDir}): ` +
        `${(error as Error).message}. Run \`npx moonlight doctor\`, or rebuild with \`npm run setup\`.`,
      { cause: error },
    );
  }
  addon.registerErrorClasses(nativeErrorClasses);
  return addon;
}

let cached: NativeAddon | undefined;

/** The addon, loaded on first use. */
export function native(): NativeAddon {
  cached ??= loadAddon();
  return cached;
}
