/**
 * LoRA adapters on a CausalLM, computed natively (cpp/models/common/lora.h): y = W x + α/r · B A dropout(x), base
 * weights frozen, A/B trainable (2-D, so Muon can update them; routed experts hold stacked [E, r, in] adapters that
 * Muon treats as E matrices). Adapters are saved in PEFT's layout — adapter_config.json and adapter_model.safetensors
 * with `base_model.model.<module>.lora_A.weight` names — so Python PEFT's PeftModel.from_pretrained loads them.
 *
 * target_modules follows PEFT: a list of names, a module matching a name equal to its own or to a '.'-separated suffix
 * of it ('q_proj' matches model.layers.0.self_attn.q_proj); or 'all-linear': every linear layer except the routed
 * experts (transformers 5 keeps those as fused 3-D parameters, which PEFT's 'all-linear' does not reach; name them,
 * e.g. 'experts.gate_proj' or 'gate_proj', to adapt them). lm_head and the MoE router are never adapted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError, ConfigError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';
import { loadSafetensors, saveSafetensors } from '../io/safetensors';
import type { Tensor } from '../tensor/tensor';
import type { CausalLM } from './causal_lm';
import type { NativeModelHandle } from '../native';

export interface LoraOptions {
  /** Rank r (default 8). */
  rank?: number;
  /** α: the update is scaled by α/r (α/√r with useRslora). Default 32, ms-swift's. */
  alpha?: number;
  /** Dropout on the adapter input during training (default 0.05, ms-swift's). */
  dropout?: number;
  /** 'all-linear' (default) or module names / suffixes. */
  targetModules?: 'all-linear' | string[];
  useRslora?: boolean;
  /** Seed of A's Kaiming-uniform initialisation (default 0). */
  seed?: number;
}

export interface ResolvedLoraOptions {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: 'all-linear' | string[];
  useRslora: boolean;
  seed: number;
  /** Adapted module names (routed experts per expert). */
  modules: string[];
}

export const adapterConfigFile = 'adapter_config.json';
export const adapterWeightsFile = 'adapter_model.safetensors';
const peftPrefix = 'base_model.model.';
const loraTensorPattern = /^base_model\.model\.(.+)\.lora_[AB]\.weight$/;

const attached = new WeakMap<CausalLM, ResolvedLoraOptions>();

export function loraSettingsOf(model: CausalLM): ResolvedLoraOptions | null {
  return attached.get(model) ?? null;
}

export function forgetLora(model: CausalLM): void {
  attached.delete(model);
}

function positiveNumber(value: unknown, where: string, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) {
    throw new ConfigError(`${where} is ${String(value)}; expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

export function resolveLoraOptions(options: LoraOptions): Omit<ResolvedLoraOptions, 'modules'> {
  if (options === null || typeof options !== 'object') throw new ConfigError('LoRA options must be an object');
  const dropout = options.dropout ?? 0.05;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new ConfigError(`lora dropout is ${String(dropout)}; expected a number in [0, 1)`);
  const targets = options.targetModules ?? 'all-linear';
  if (targets !== 'all-linear' && !(Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string' && t !== ''))) {
    throw new ConfigError(`lora targetModules is ${JSON.stringify(targets)}; expected 'all-linear' or a non-empty list of module names`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`lora seed is ${String(seed)}; expected a non-negative integer`);
  return {
    rank: positiveNumber(options.rank ?? 8, 'lora rank', true),
    alpha: positiveNumber(options.alpha ?? 32, 'lora alpha', false),
    dropout,
    targetModules: targets,
    useRslora: options.useRslora ?? false,
    seed,
  };
}

/** Freezes the base model and attaches adapters (CausalLM.attachLora). */
export function attachLoraTo(model: CausalLM, handle: NativeModelHandle, options: LoraOptions): string[] {
  const resolved = resolveLoraOptions(options);
  const modules = handle.attachLora(resolved);
  handle.freeze('.');  // PEFT trains the adapters alone
  attached.set(model, { ...resolved, modules });
  return modules;
}

/** The adapters' tensors under PEFT's names (experts per expert), from namedParameters(). */
export function loraTensors(model: CausalLM): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [name, tensor] of model.namedParameters()) {
    if (loraTensorPattern.test(name)) tensors.set(name, tensor);
    else tensor.dispose();
  }
  return tensors;
}

export interface SaveAdapterOptions {
  /** adapter_config.json's base_model_name_or_path (default: null). */
  baseModelNameOrPath?: string | null;
}

/** Writes adapter_config.json and adapter_model.safetensors (PEFT's layout); returns the files written. */
export async function saveLoraAdapter(model: CausalLM, directory: string, options: SaveAdapterOptions = {}): Promise<string[]> {
  const settings = loraSettingsOf(model);
  if (settings === null) throw new ConfigError('the model has no LoRA adapters to save: attachLora() or loadLoraAdapter() first');
  const folder = path.resolve(directory);
  fs.mkdirSync(folder, { recursive: true });
  const tensors = loraTensors(model);
  try {
    await saveSafetensors(path.join(folder, adapterWeightsFile), tensors, { metadata: { format: 'pt' } });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  // PEFT saves the short names of the adapted modules (its own 'all-linear' is expanded the same way).
  const targetModules = [...new Set(settings.modules.map((module) => module.slice(module.lastIndexOf('.') + 1)))].sort();
  const config = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: settings.alpha,
    lora_dropout: settings.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: settings.rank,
    rank_pattern: {},
    revision: null,
    target_modules: targetModules,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: settings.useRslora,
  };
  writeFileAtomically(path.join(folder, adapterConfigFile), `${JSON.stringify(config, null, 2)}\n`);
  return [path.join(folder, adapterWeightsFile), path.join(folder, adapterConfigFile)];
}

function readAdapterConfig(folder: string): Record<string, unknown> {
  const file = path.join(folder, adapterConfigFile);
  if (!fs.existsSync(file)) throw new CheckpointError(`${folder}: no ${adapterConfigFile} (expected a PEFT LoRA adapter folder)`);
  let config: unknown;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new CheckpointError(`${file}: expected a JSON object`);
  const c = config as Record<string, unknown>;
  const unsupported: string[] = [];
  if (c.peft_type !== undefined && c.peft_type !== 'LORA') unsupported.push(`peft_type ${String(c.peft_type)} (only LORA)`);
  if (c.use_dora === true) unsupported.push('use_dora');
  if (c.bias !== undefined && c.bias !== 'none') unsupported.push(`bias '${String(c.bias)}'`);
  if (c.fan_in_fan_out === true) unsupported.push('fan_in_fan_out');
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    if (c[key] !== undefined && c[key] !== null && Object.keys(c[key] as object).length > 0) unsupported.push(key);
  }
  if (Array.isArray(c.modules_to_save) && c.modules_to_save.length > 0) unsupported.push('modules_to_save');
  if (unsupported.length > 0) throw new ConfigError(`${file}: unsupported adapter settings: ${unsupported.join(', ')}`);
  return c;
}

/**
 * Attaches the adapters of a PEFT LoRA folder (ours or Python PEFT's) to `model` and loads their weights. The adapted
 * modules are the ones the weights file names (exactly), so a short target_modules list cannot over-reach.
 */
export async function loadLoraAdapter(model: CausalLM, directory: string): Promise<ResolvedLoraOptions> {
  const folder = path.resolve(directory);
  const config = readAdapterConfig(folder);
  const weightsFile = path.join(folder, adapterWeightsFile);
  if (!fs.existsSync(weightsFile)) throw new CheckpointError(`${folder}: no ${adapterWeightsFile}`);
  const tensors = await loadSafetensors(weightsFile);
  try {
    const modules = new Set<string>();
    for (const name of Object.keys(tensors)) {
      const match = loraTensorPattern.exec(name);
      if (match === null) throw new CheckpointError(`${weightsFile}: tensor '${name}' is not a LoRA weight (${peftPrefix}<module>.lora_A/lora_B.weight)`);
      modules.add(match[1]);
    }
    if (modules.size === 0) throw new CheckpointError(`${weightsFile}: holds no LoRA tensors`);
    const rank = (tensors[[...Object.keys(tensors)].find((n) => n.includes('.lora_A.'))!] as Tensor).shape[0];
    if (config.r !== undefined && config.r !== rank) throw new CheckpointError(`${weightsFile}: lora_A has rank ${rank} but ${adapterConfigFile} says r = ${String(config.r)}`);
    model.attachLora({
      rank,
      alpha: positiveNumber(config.lora_alpha ?? rank, `${adapterConfigFile} lora_alpha`, false),
      dropout: typeof config.lora_dropout === 'number' ? config.lora_dropout : 0,
      useRslora: config.use_rslora === true,
      targetModules: [...modules],
    });
    try {
      model.loadLoraTensors(tensors);
    } catch (error) {
      model.removeLora();
      throw new CheckpointError(`${folder}: ${(error as Error).message}`, { cause: error });
    }
    return loraSettingsOf(model)!;
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
