/**
 * The one place that loads the native addon; this folder's other files declare its interface, one area each.
 *
 * src/binary/resolve.ts picks the binary: MOONLIGHT_BINARY, else a prebuilt platform package that matches
 * the libtorch found at run time (test-loaded in a child process first), else the local build in
 * <package>/build/Release (made with cmake-js if missing). A local build's RUNPATH points at the libtorch
 * it was built against (checked to still be there with the same version); a prebuilt binary has no
 * RUNPATH, and its libtorch libraries are preloaded by absolute path (scripts/load-binary.js). Either way
 * no LD_LIBRARY_PATH is needed, and a moved or mismatched libtorch is a LibtorchError, not a dlopen crash.
 */
import { LibtorchError, nativeErrorClasses } from '../errors';
import { BinaryBuildInfo, BinaryResolution, loadBinaryScript, readBinaryBuildInfo, resolveBinary } from '../binary/resolve';
import type { NativeAnalysisAddon } from './analysis';
import type { NativeDataAddon } from './data';
import type { NativeDistAddon } from './dist';
import type { NativeGenerateAddon } from './generate';
import type { NativeIoAddon } from './io';
import type { NativeModelsAddon } from './models';
import type { NativeOptimAddon } from './optim';
import type { NativePlanAddon } from './plan';
import type { NativeTensorAddon } from './tensor';

/** The addon itself: the libtorch it was built for, and how its errors become this package's classes. */
export interface NativeCoreAddon {
  libtorchVersion: string;
  /** How the build found the libtorch it compiled against (scripts/libtorch.js names the routes; "cmake" when unset). */
  libtorchRoute: string;
  registerErrorClasses(classes: Record<string, new (message: string) => Error>): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
}

/** The addon's whole interface: the core plus one interface per area, each declared in its file of this folder. */
export interface NativeAddon
  extends NativeCoreAddon, NativeTensorAddon, NativeIoAddon, NativeOptimAddon, NativeModelsAddon, NativeDataAddon,
    NativeDistAddon, NativeGenerateAddon, NativeAnalysisAddon, NativePlanAddon {}

export type * from './analysis';
export type * from './data';
export type * from './dist';
export type * from './generate';
export type * from './io';
export type * from './model_config';
export type * from './models';
export type * from './optim';
export type * from './plan';
export type * from './tensor';
export type * from './train_step';

export type BuildInfo = BinaryBuildInfo;

export { packageRoot } from '../binary/resolve';

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
