/**
 * Hugging Face model folders: config.json (either transformers key style), generation_config.json, and
 * weights in model.safetensors or shards named by model.safetensors.index.json.
 *
 * Loading runs off the JS thread: the native side builds the model without initialising its weights and
 * reads every checkpoint tensor from disk straight into place (per-expert tensors into their slice of the
 * expert stack), converting dtype on the way, so the peak is the model itself plus a small staging buffer.
 * The routers' e_score_correction_bias stays fp32 whatever the file holds. Tensors the model does not know
 * (e.g. persisted rotary inv_freq buffers) are reported and ignored; tensors it needs but the folder lacks
 * are a CheckpointError listing them, raised before any weight is read. Saving writes what transformers'
 * from_pretrained loads with no missing or unexpected keys: tied embeddings are stored once.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, ConfigError, CheckpointError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';
import { saveShardedSafetensors } from '../io/safetensors';
import { native } from '../native';
import type { NativeModelHandle } from '../native';
import { Device } from '../tensor/device';
import { checkDType, DType, isFloatingDType } from '../tensor/dtype';
import type { Tensor } from '../tensor/tensor';
import type { CausalLM } from './causal_lm';
import { ModelConfig, nativeModelConfig, parseModelConfig } from './config';

export interface FromPretrainedOptions {
  /**
   * Parameter dtype of the model. 'auto' (the default): the checkpoint's own, from config.json's
   * `torch_dtype` (transformers 4) or `dtype` (transformers 5), float32 when it names none — bf16 for
   * Moonlight, half the memory of float32, as transformers' `from_pretrained(torch_dtype="auto")`.
   * Training code that needs fp32 master weights asks for 'float32' explicitly.
   */
  dtype?: DType | 'auto';
  device?: Device;
  /** Called with the names of checkpoint tensors the model does not use (default: one console.warn). */
  onUnexpectedTensors?: (names: string[]) => void;
}

export interface SavePretrainedOptions {
  /** dtype of the saved floating-point weights (default: the model's). */
  dtype?: DType;
  /** Largest shard in bytes (default 5 GB, as transformers). */
  maxShardBytes?: number;
}

/** What fromPretrained read besides the weights. */
export interface PretrainedInfo {
  directory: string;
  generationConfig: Record<string, unknown> | null;
  unexpectedTensors: string[];
}

const pretrainedInfo = new WeakMap<CausalLM, PretrainedInfo>();

/** What fromPretrained found in the folder (null for models not loaded from one). */
export function pretrainedInfoOf(model: CausalLM): PretrainedInfo | null {
  return pretrainedInfo.get(model) ?? null;
}

function readJson(file: string, required: boolean): Record<string, unknown> | null {
  if (!fs.existsSync(file)) {
    if (required) throw new ConfigError(`${file}: missing (a Hugging Face model folder needs config.json)`);
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${file}: expected a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function listNames(names: string[], limit = 12): string {
  return names.length <= limit ? names.join(', ') : `${names.slice(0, limit).join(', ')} … (${names.length} in all)`;
}

/** The dtype a config.json says its weights are stored in (float32 when it names none). */
export function checkpointDType(config: Record<string, unknown>, file: string): DType {
  const named = config.torch_dtype ?? config.dtype;
  if (named === undefined || named === null || named === 'auto') return 'float32';
  if (typeof named !== 'string') throw new ConfigError(`${file}: "torch_dtype" is ${JSON.stringify(named)}; expected a dtype name`);
  const dtype = checkDType(named.replace(/^torch\./, ''), `${file}: "torch_dtype"`);
  if (!isFloatingDType(dtype)) throw new ConfigError(`${file}: "torch_dtype" is ${dtype}; expected a floating dtype`);
  return dtype;
}

export async function loadPretrained(
  wrap: (config: ModelConfig, handle: NativeModelHandle, dtype: DType) => CausalLM,
  directory: string,
  options: FromPretrainedOptions = {},
): Promise<CausalLM> {
  if (typeof directory !== 'string') throw new ArgumentError('directory must be a path');
  const folder = path.resolve(directory);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new CheckpointError(`${folder}: not a folder (expected a Hugging Face model folder)`);
  }
  const configFile = path.join(folder, 'config.json');
  const config = readJson(configFile, true)!;
  const generationConfig = readJson(path.join(folder, 'generation_config.json'), false);
  const requested = options.dtype ?? 'auto';
  const dtype = requested === 'auto' ? checkpointDType(config, configFile) : checkDType(requested, 'options.dtype');
  if (!isFloatingDType(dtype)) throw new ArgumentError(`options.dtype must be a floating dtype, got ${dtype}`);
  const parsed = parseModelConfig(config);
  const loaded = await native().loadPretrainedModel(nativeModelConfig(parsed), folder, { dtype, device: options.device ?? 'cpu' });
  const model = wrap(parsed, loaded.model, dtype);
  if (loaded.unexpected.length > 0) {
    const report = options.onUnexpectedTensors ??
      ((names: string[]) => console.warn(`moonlight-torch: ${folder}: ignored ${names.length} tensor(s) the model does not use: ${listNames(names)}`));
    report(loaded.unexpected);
  }
  pretrainedInfo.set(model, { directory: folder, generationConfig, unexpectedTensors: loaded.unexpected });
  return model;
}

export async function savePretrained(model: CausalLM, directory: string, options: SavePretrainedOptions = {}): Promise<string[]> {
  if (typeof directory !== 'string') throw new ArgumentError('directory must be a path');
  const folder = path.resolve(directory);
  fs.mkdirSync(folder, { recursive: true });
  const state = model.stateDict();
  const modelDtype = [...state.values()].find((t) => isFloatingDType(t.dtype))?.dtype ?? 'float32';
  const dtype = checkDType(options.dtype ?? modelDtype, 'options.dtype');
  if (!isFloatingDType(dtype)) throw new ArgumentError(`options.dtype must be a floating dtype, got ${dtype}`);

  const tensors: Array<[string, Tensor]> = [];
  const converted: Tensor[] = [];
  for (const [name, t] of state) {
    // transformers keeps the routing bias in fp32 (_keep_in_fp32_modules_strict); so do we.
    const keepFp32 = name.endsWith('e_score_correction_bias');
    if (isFloatingDType(t.dtype) && !keepFp32 && t.dtype !== dtype) {
      const copy = t.to({ dtype });
      converted.push(copy);
      tensors.push([name, copy]);
    } else {
      tensors.push([name, t]);
    }
  }
  try {
    const files = await saveShardedSafetensors(folder, tensors, { maxShardBytes: options.maxShardBytes });
    const config: Record<string, unknown> = { ...model.config.hf };
    // Keep the key style the config came in: transformers 5 writes `dtype`, transformers 4 `torch_dtype`.
    if ('dtype' in config && !('torch_dtype' in config)) config.dtype = dtype;
    else config.torch_dtype = dtype;
    writeFileAtomically(path.join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    files.push(path.join(folder, 'config.json'));
    const generation = pretrainedInfo.get(model)?.generationConfig;
    if (generation) {
      writeFileAtomically(path.join(folder, 'generation_config.json'), `${JSON.stringify(generation, null, 2)}\n`);
      files.push(path.join(folder, 'generation_config.json'));
    }
    return files;
  } finally {
    for (const t of converted) t.dispose();
    for (const t of state.values()) t.dispose();
  }
}
