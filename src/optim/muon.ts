/**
 * Muon as Moonlight trains with it ("Muon is Scalable for LLM Training", examples/toy_train.py), with the
 * AdamW it uses for the parameters Muon should not take, in one optimizer object.
 *
 * Per matrix W (A×B) with gradient G: M ← μM + G; U = G + μM (Nesterov) or M; O = NewtonSchulz(U);
 * W ← W·(1 − lr·weightDecay) − lr·s·O, with s = 0.2·√max(A, B) ('match-rms-adamw': update RMS ≈ 0.2,
 * like AdamW's) or √max(1, A/B) ('original', Keller Jordan / torch's default).
 */
import { DistributedOptimizerOptions, NonFiniteGradPolicy, Optimizer } from './optimizer';
import { NamedParameters, ParamGroup } from './parameters';

/** A Newton–Schulz coefficient triple (a, b, c): X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ. */
export type NsCoefficients = readonly [number, number, number];

export interface MuonOptions {
  /** Learning rate, shared by the Muon and the AdamW parameters (as in Moonlight). Default 1e-3. */
  lr?: number;
  /** Decoupled weight decay, W·(1 − lr·weightDecay), of every parameter (see adamwWeightDecay). Default 0.1. */
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
  /**
   * Decoupled weight decay of the AdamW-routed parameters (norm gains, biases, embeddings, LM head).
   * Default: weightDecay, as Moonlight decays every parameter; 0 follows the common practice of not
   * decaying norm gains and biases (nanoGPT's configure_optimizers, transformers' Trainer; Keller Jordan's
   * MuonWithAuxAdam sets it per group). A param group's weightDecay overrides it for that group.
   */
  adamwWeightDecay?: number;
  /** Names containing any of these go to AdamW even when they are matrices. Default ['embed_tokens', 'lm_head']. */
  adamwNamePatterns?: readonly string[];
  /** NaN/Inf gradients: 'error' (default, parameters unchanged) or 'skip' the step. */
  nonFiniteGrads?: NonFiniteGradPolicy;
  /** Partition the state over the data-parallel ranks (needs `await distributed.init()` first). */
  distributed?: DistributedOptimizerOptions;
}

export class Muon extends Optimizer {
  /**
   * @param params named parameters ({name: Tensor}, Map, pairs, or Tensors), or param groups whose
   *   optimizer / lr / weightDecay override the defaults for their parameters.
   */
  constructor(params: NamedParameters | readonly ParamGroup[], options: MuonOptions = {}) {
    // The native core reads the options (cpp/optim/muon_options.cpp): unknown keys, wrong types and
    // out-of-range values are ConfigErrors naming options.<key>.
    super('muon', params, options);
  }
}
