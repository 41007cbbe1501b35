/** moonlight-torch: Moonlight-style LLM training for Node.js on libtorch. */
import { native } from './native';

export * from './errors';
export { Tensor } from './tensor/tensor';
export type { AllcloseOptions, Operand, ToOptions } from './tensor/tensor';
export { DTYPES, isFloatingDType } from './tensor/dtype';
export type { DType, HostArray, HostArrayOf } from './tensor/dtype';
export { cudaAvailable, cudaDeviceCount } from './tensor/device';
export { memoryStats, setCollectThreshold } from './tensor/memory';
export type { MemoryStats } from './tensor/memory';
export type { Device } from './tensor/device';
export {
  arange,
  cat,
  full,
  manualSeed,
  ones,
  rand,
  randn,
  randnAsync,
  stack,
  tensor,
  zeros,
} from './tensor/factories';
export type { TensorData, TensorDataOptions, TensorOptions } from './tensor/factories';
export {
  SafetensorsFile,
  inspectCheckpoint,
  loadSafetensors,
  loadShardedSafetensors,
  openSafetensors,
  resolveCheckpoint,
  saveSafetensors,
  saveShardedSafetensors,
  tensorBytes,
} from './io/safetensors';
export {
  checkpointsFolder,
  listTrainingCheckpoints,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
} from './io/training_checkpoint';
export type {
  LoadedTrainingCheckpoint,
  SaveTrainingCheckpointOptions,
  TrainingCheckpointContent,
} from './io/training_checkpoint';
export type {
  CheckpointTensorInfo,
  LoadOptions,
  NamedTensors,
  SaveOptions,
  ShardedSaveOptions,
} from './io/safetensors';
export type { SafetensorsDType, SafetensorsTensorInfo } from './native';
export * from './optim';
export * from './models';
export * from './data';
export * from './train';
export * from './plot';
export * from './dist';
export * from './infer';
export * from './eval';
export * from './plan';

/** The libtorch version the addon was compiled against (loads the addon on first read). */
export declare const libtorchVersion: string;
Object.defineProperty(exports, 'libtorchVersion', {
  enumerable: true,
  get: () => native().libtorchVersion,
});
export * from './experiments';
