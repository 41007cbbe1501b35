/**
 * Memory plans: will a model and a job fit? `planMemory(model, options)` predicts the peak memory of one process
 * running the job, split into its parts. Everything is computed by the core (cpp/train/memory_plan.h) from the
 * C++ model built on the meta device and from the optimizer's and ZeRO-1's own code run on meta tensors, so the
 * parameter routing (Muon for matrices, AdamW for the embedding, the LM head and vectors), the gradient buckets
 * and the per-rank state are those a real run allocates. This file resolves the model and the dtype and passes
 * the options through.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError } from '../errors';
import { native } from '../native';
import { nativeModelConfig, parseModelConfig } from '../models/config';
import { checkpointDType } from '../models/pretrained';

export type PlanTask = 'generate' | 'lora' | 'full';

export interface PlanOptions {
  /** generate: a KV-cached generation; lora: LoRA fine-tuning on a frozen base; full: every weight trains. */
  task: PlanTask;
  /** lora / full: 'muon' (default; AdamW for non-matrix parameters, as Moonlight) or 'adamw'. */
  optimizer?: 'muon' | 'adamw';
  /**
   * The weights' dtype. 'auto' (default for generate and lora): the checkpoint's torch_dtype, as fromPretrained
   * loads it; full training defaults to 'float32' (the Trainer's fp32 master weights).
   */
  dtype?: 'auto' | 'bfloat16' | 'float16' | 'float32';
  /** lora / full: 'fp32' (default: compute in the weights' dtype) or 'bf16-mixed' (bf16 autocast over fp32 weights). */
  precision?: 'fp32' | 'bf16-mixed';
  /** lora / full: data-parallel ranks (default 1); above 1 the optimizer state is ZeRO-1 partitioned. */
  worldSize?: number;
  /** lora / full: the rank planned (default: the one with the most optimizer state). */
  rank?: number;
  /** Sequences per micro-batch (default 1). */
  batchSize?: number;
  /** Tokens per sequence (default 2048); for generate the KV cache's positions (prompt and new tokens). */
  seqLen?: number;
  /** generate: tokens prefilled at once (default seqLen, the worst case). */
  promptLength?: number;
  /** lora: rank r (default 8), α (default 32), dropout (default 0.05) and target modules (default 'all-linear'). */
  loraRank?: number;
  loraAlpha?: number;
  loraDropout?: number;
  targetModules?: 'all-linear' | string[];
  /** lora / full: ZeRO-1's gradient bucket size in bytes (default 25 MiB, DDP's). */
  bucketBytes?: number;
}

/** Bytes per part. A training step peaks at weights + state + gradients + max(activations + autocast copies + allocator retention, step). */
export interface MemoryPlanParts {
  /** Every stored tensor (LoRA adapters included) in the weights' dtype. */
  weights: number;
  /** Of the trainable tensors; under ZeRO-1 also each rank's reduce-scattered chunks. */
  gradients: number;
  /** This rank's optimizer state: Muon's momentum, AdamW's two moments (its ZeRO-1 partition on several ranks). */
  optimizerState: number;
  /** The update's largest transient: one Newton–Schulz batch, or AdamW's temporaries. */
  optimizerStep: number;
  /** Train: saved for backward at the loss head's peak (the fp32 logits over the vocabulary); generate: the prefill. */
  activations: number;
  /** bf16-mixed: the bf16 casts of the weights autocast keeps for backward. */
  autocastCopies: number;
  /** Train: freed heap blocks glibc's malloc keeps during a step, allowed as the layers' saved activations once
   *  (README.md, "Will it fit?", gives what bench:plan measured). */
  allocatorRetention: number;
  /** generate: the MLA latent (or K/V) cache. */
  kvCache: number;
}

export interface MemoryPlan {
  /** Predicted peak above the process's RSS before the job. */
  peakBytes: number;
  /** Added once for the whole process: node with the addon and libtorch loaded. */
  runtimeBytes: number;
  parts: MemoryPlanParts;
  assumptions: {
    /** The model planned (a folder or a config.json) and the options after defaults were resolved. */
    model: string;
    task: PlanTask;
    dtype: string;
    rank: number;
    optimizerStateBytesPerRank: number[];
    parameters: number;
    trainableParameters: number;
    muonParameters: number;
    notes: string[];
  };
}

function readConfig(model: string): { config: Record<string, unknown>; file: string } {
  const resolved = path.resolve(model);
  const file = fs.existsSync(resolved) && fs.statSync(resolved).isDirectory() ? path.join(resolved, 'config.json') : resolved;
  if (!fs.existsSync(file)) throw new ArgumentError(`${file}: no such file (expected a model folder or its config.json)`);
  return { config: JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>, file };
}

/**
 * The plan of `options.task` on `model`: a Hugging Face model folder, its config.json, or a config object.
 * ConfigError naming options.<key> for a bad option or one that does not apply to the task.
 */
export function planMemory(model: string | Record<string, unknown>, options: PlanOptions): MemoryPlan {
  const { config, file } = typeof model === 'string' ? readConfig(model) : { config: model, file: 'config' };
  const { dtype = 'auto', ...rest } = options ?? ({} as PlanOptions);
  const resolvedDType = dtype !== 'auto' ? dtype : options?.task === 'full' ? 'float32' : checkpointDType(config, file);
  const nativeConfig = nativeModelConfig(parseModelConfig(config));
  type CorePlan = Omit<MemoryPlan, 'assumptions'> & { assumptions: Omit<MemoryPlan['assumptions'], 'model' | 'task' | 'dtype'> };
  const plan = JSON.parse(native().planMemory(nativeConfig, { ...rest, dtype: resolvedDType })) as CorePlan;
  return {
    ...plan,
    assumptions: {
      model: typeof model === 'string' ? path.resolve(model) : 'config',
      task: options.task,
      dtype: resolvedDType,
      ...plan.assumptions,
    },
  };
}
