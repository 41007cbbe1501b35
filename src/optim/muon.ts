/**
 * Muon as Moonlight trains with it ("Muon is Scalable for LLM Training", examples/toy_train.py), with the
 * AdamW it uses for the parameters Muon should not take, in one optimizer object.
 *
 * Per matrix W (A×B) with gradient G: M ← μM + G; U = G + μM (Nesterov) or M; O = NewtonSchulz(U);
 * W ← W·(1 − lr·weightDecay) − lr·s·O, with s = 0.2·√max(A, B) ('match-rms-adamw': update RMS ≈ 0.2,
 * like AdamW's) or √max(1, A/B) ('original', Keller Jordan / torch's default).
 */
import { ConfigError } from '../errors';
import { checkDistributedOptions, checkNonFiniteGradPolicy, checkOptionKeys, DistributedOptimizerOptions, NativeMuonOptions, NonFiniteGradPolicy, Optimizer } from './optimizer';
import { collectParameters, NamedParameters, ParamGroup } from './parameters';

/** A Newton–Schulz coefficient triple (a, b, c): X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ. */
export type NsCoefficients = readonly [number, number, number];

export interface MuonOptions {
  /** Learning rate, shared by the Muon and the AdamW parameters (as in Moonlight). Default 1e-3. */
  lr?: number;
  /** Decoupled weight decay, applied as W·(1 − lr·weightDecay) to every parameter. Default 0.1. */
  weightDecay?: number;
  /** Momentum μ in [0, 1). Default 0.95. */
  momentum?: number;
  /** Orthogonalize G + μM instead of M. Default true. */
  nesterov?: boolean;
  /** Newton–Schulz iterations (1–99). Default 5. */
  nsSteps?: number;
  /**
   * 'keller-jordan' (default: (3.4445, −4.7750, 2.0315) every step), 'polar-express' (5 per-step
   * triples, input scaled by 1/(1.02·‖X‖)), or your own list (the last triple repeats if nsSteps exceeds it).
   */
  nsCoefficients?: 'keller-jordan' | 'polar-express' | readonly NsCoefficients[];
  /** Newton–Schulz input is X / (nsNormScale·‖X‖_F + eps). Default 1, or 1.02 with 'polar-express'. */
  nsNormScale?: number;
  /** Precision of the Newton–Schulz iteration. Default 'bfloat16' (as every reference). */
  nsDtype?: 'bfloat16' | 'float16' | 'float32' | 'float64';
  /** Newton–Schulz input is X / (‖X‖_F + eps). Default 1e-7. */
  eps?: number;
  /** Shape factor s of the update. Default 'match-rms-adamw' (Moonlight). */
  updateScale?: 'match-rms-adamw' | 'original';
  /** AdamW betas for the non-Muon parameters. Default [0.9, 0.95]. */
  adamwBetas?: readonly [number, number];
  /** AdamW eps. Default 1e-8. */
  adamwEps?: number;
  /** Where AdamW adds eps: 'moonlight' (default, on the raw √v) or 'torch' (on the bias-corrected √v̂). */
  adamwEpsPlacement?: 'moonlight' | 'torch';
  /** Names containing any of these go to AdamW even when they are matrices. Default ['embed_tokens', 'lm_head']. */
  adamwNamePatterns?: readonly string[];
  /** NaN/Inf gradients: 'error' (default, parameters unchanged) or 'skip' the step. */
  nonFiniteGrads?: NonFiniteGradPolicy;
  /** Partition the state over the data-parallel ranks (needs `await distributed.init()` first). */
  distributed?: DistributedOptimizerOptions;
}

const MUON_OPTION_KEYS = new Set<string>([
  'lr', 'weightDecay', 'momentum', 'nesterov', 'nsSteps', 'nsCoefficients', 'nsNormScale', 'nsDtype', 'eps', 'updateScale',
  'adamwBetas', 'adamwEps', 'adamwEpsPlacement', 'adamwNamePatterns', 'nonFiniteGrads', 'distributed',
]);

function checkBetas(value: unknown, where: string): readonly [number, number] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 2 || value.some((beta) => typeof beta !== 'number')) {
    throw new ConfigError(`${where} must be a pair of numbers [beta1, beta2]`);
  }
  return value as unknown as readonly [number, number];
}

function checkType(value: unknown, type: 'number' | 'boolean' | 'string', where: string): void {
  if (value !== undefined && typeof value !== type) throw new ConfigError(`${where} is ${String(value)}; expected a ${type}`);
}

function checkInteger(value: unknown, where: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value))) {
    throw new ConfigError(`${where} is ${String(value)}; expected an integer`);
  }
}

export class Muon extends Optimizer {
  /**
   * @param params named parameters ({name: Tensor}, Map, pairs, or Tensors), or param groups whose
   *   optimizer / lr / weightDecay override the defaults for their parameters.
   */
  constructor(params: NamedParameters | readonly ParamGroup[], options: MuonOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new ConfigError('options must be an object');
    checkOptionKeys(options, MUON_OPTION_KEYS, 'options');
    for (const key of ['lr', 'weightDecay', 'momentum', 'eps', 'nsNormScale', 'adamwEps'] as const) {
      checkType(options[key], 'number', `options.${key}`);
    }
    checkInteger(options.nsSteps, 'options.nsSteps');
    checkType(options.nesterov, 'boolean', 'options.nesterov');
    checkType(options.nsDtype, 'string', 'options.nsDtype');
    checkType(options.updateScale, 'string', 'options.updateScale');
    checkType(options.adamwEpsPlacement, 'string', 'options.adamwEpsPlacement');
    const coefficients = options.nsCoefficients;
    if (coefficients !== undefined && typeof coefficients !== 'string' && !Array.isArray(coefficients)) {
      throw new ConfigError("options.nsCoefficients must be 'keller-jordan', 'polar-express' or a list of [a, b, c]");
    }
    const betas = checkBetas(options.adamwBetas, 'options.adamwBetas');
    const patterns = options.adamwNamePatterns;
    if (patterns !== undefined && (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string'))) {
      throw new ConfigError('options.adamwNamePatterns must be an array of strings');
    }
    const { params: nativeParams, groups } = collectParameters(params, 'params');
    const muonOptions: NativeMuonOptions = {
      lr: options.lr,
      weightDecay: options.weightDecay,
      momentum: options.momentum,
      nesterov: options.nesterov,
      nsSteps: options.nsSteps,
      // Malformed triples pass through unchanged: the native side names the bad entry in its ConfigError.
      nsCoefficients: Array.isArray(coefficients)
        ? coefficients.map((triple: unknown) => (Array.isArray(triple) ? [...triple] : triple) as number[])
        : (coefficients as string),
      nsNormScale: options.nsNormScale,
      nsDtype: options.nsDtype,
      eps: options.eps,
      updateScale: options.updateScale,
    };
    super({
      params: nativeParams,
      groups,
      muonOptions,
      // Moonlight's AdamW part shares lr and weight decay with Muon.
      adamwOptions: {
        lr: options.lr,
        weightDecay: options.weightDecay,
        beta1: betas?.[0],
        beta2: betas?.[1],
        eps: options.adamwEps,
        epsPlacement: options.adamwEpsPlacement ?? 'moonlight',
      },
      routing: patterns === undefined ? {} : { adamwNamePatterns: [...patterns] },
      nonFiniteGrads: checkNonFiniteGradPolicy(options.nonFiniteGrads, 'options.nonFiniteGrads'),
      distributed: checkDistributedOptions(options.distributed, 'options.distributed'),
    });
  }
}
