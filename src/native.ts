/**
 * The one place that loads the native addon and declares its interface.
 *
 * The addon is found at MOONLIGHT_BINARY if set, else at <package>/build/Release/moonlight.node (built by
 * `npm run build:native` or the package's install script). Beside it, build-info.json records the
 * libtorch it was linked against; the addon's RUNPATH points at that libtorch's lib folder, so no
 * LD_LIBRARY_PATH is needed. Before loading, that libtorch is checked to still be there and to be the same
 * version, so a moved or upgraded libtorch gives a LibtorchError that says to rebuild, not a dlopen crash.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LibtorchError, nativeErrorClasses } from './errors';
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

export interface BuildInfo {
  libtorchVersion: string;
  libtorchRoot: string;
  libtorchLibDir: string;
  libtorchRoute: string;
  cuda: boolean;
  napiVersion: number;
}

export const packageRoot = path.resolve(__dirname, '..');

export function addonPath(): string {
  return process.env.MOONLIGHT_BINARY
    ? path.resolve(process.env.MOONLIGHT_BINARY)
    : path.join(packageRoot, 'build', 'Release', 'moonlight.node');
}

export function readBuildInfo(binary = addonPath()): BuildInfo {
  const infoPath = path.join(path.dirname(binary), 'build-info.json');
  if (!fs.existsSync(binary) || !fs.existsSync(infoPath)) {
    throw new LibtorchError(
      `moonlight-torch's native addon is not built: ${binary} or ${infoPath} is missing. ` +
        'Run `npm run setup` in the package folder (it finds or installs libtorch and builds the addon).',
    );
  }
  return JSON.parse(fs.readFileSync(infoPath, 'utf8')) as BuildInfo;
}

function installedTorchVersion(root: string): string | null {
  try {
    const text = fs.readFileSync(path.join(root, 'share', 'cmake', 'Torch', 'TorchConfigVersion.cmake'), 'utf8');
    return /set\(PACKAGE_VERSION "([^"]+)"\)/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

function loadAddon(): NativeAddon {
  const binary = addonPath();
  const info = readBuildInfo(binary);
  const found = installedTorchVersion(info.libtorchRoot);
  if (found === null) {
    throw new LibtorchError(
      `the addon ${binary} was built against libtorch ${info.libtorchVersion} at ${info.libtorchRoot} ` +
        `(route: ${info.libtorchRoute}), which is no longer there. Rebuild with \`npm run setup\`.`,
    );
  }
  if (found !== info.libtorchVersion) {
    throw new LibtorchError(
      `the addon ${binary} was built against libtorch ${info.libtorchVersion}, but ${info.libtorchRoot} now holds ` +
        `libtorch ${found}. Rebuild with \`npm run setup\`.`,
    );
  }
  let addon: NativeAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(binary) as NativeAddon;
  } catch (error) {
    throw new LibtorchError(
      `could not load ${binary} (built against libtorch ${info.libtorchVersion} at ${info.libtorchLibDir}): ` +
        `${(error as Error).message}. Rebuild with \`npm run setup\`.`,
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
