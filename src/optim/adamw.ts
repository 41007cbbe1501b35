/**
 * AdamW with decoupled weight decay, W ← W·(1 − lr·weightDecay), applied to every parameter (norm gains
 * included, as the Moonlight paper does). Defaults are Moonlight's: lr 1e-3, betas (0.9, 0.95), eps 1e-8,
 * weightDecay 0.1. epsPlacement 'torch' (default here) matches torch.optim.AdamW; 'moonlight' is the
 * variant inside Moonlight's Muon (eps on the raw √v, bias correction folded into the step size).
 */
import { DistributedOptimizerOptions, NonFiniteGradPolicy, Optimizer } from './optimizer';
import { NamedParameters, ParamGroup } from './parameters';

export interface AdamWOptions {
  lr?: number;
  weightDecay?: number;
  betas?: readonly [number, number];
  eps?: number;
  epsPlacement?: 'torch' | 'moonlight';
  nonFiniteGrads?: NonFiniteGradPolicy;
  /** Partition the state over the data-parallel ranks (needs `await distributed.init()` first). */
  distributed?: DistributedOptimizerOptions;
}

export class AdamW extends Optimizer {
  /** Param groups may not ask for Muon (ConfigError). */
  constructor(params: NamedParameters | readonly ParamGroup[], options: AdamWOptions = {}) {
    // The native core reads the options (cpp/optim/adamw_options.cpp), naming options.<key> in its errors.
    super('adamw', params, options);
  }
}
