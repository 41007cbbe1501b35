/**
 * Every error moonlight-torch throws is a MoonlightError; the subclass says what went wrong, the message
 * names the argument, key or file and what was expected. Native code throws these same classes
 * (src/native/index.ts registers them with the addon), so a libtorch failure is a TorchError, never an abort.
 */
export class MoonlightError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** libtorch rejected an operation (c10::Error): shape mismatch in matmul, out-of-range index, … */
export class TorchError extends MoonlightError {}
/** An argument has the wrong type or value. */
export class ArgumentError extends MoonlightError {}
/** A shape or dimension argument is invalid or inconsistent with the data. */
export class ShapeError extends MoonlightError {}
/** An unknown dtype, or one the operation does not accept. */
export class DTypeError extends MoonlightError {}
/** An unknown or unavailable device (e.g. CUDA asked for on a CPU-only machine). */
export class DeviceError extends MoonlightError {}
/** A tensor or object was used after dispose(). */
export class DisposedError extends MoonlightError {}
/** A model or run configuration is missing a key or has an invalid value. */
export class ConfigError extends MoonlightError {}
/** A checkpoint or safetensors file is unreadable or inconsistent. */
export class CheckpointError extends MoonlightError {}
/** A distributed setup or collective failed. */
export class DistributedError extends MoonlightError {}
/** libtorch or the native addon could not be found or loaded. */
export class LibtorchError extends MoonlightError {}

/** The classes the addon may throw, by name. */
export const nativeErrorClasses = {
  MoonlightError,
  TorchError,
  ArgumentError,
  ShapeError,
  DTypeError,
  DeviceError,
  DisposedError,
  ConfigError,
  CheckpointError,
  DistributedError,
};
