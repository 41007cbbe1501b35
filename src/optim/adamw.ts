/**
 * AdamW with decoupled weight decay, W ← W·(1 − lr·weightDecay), applied to every parameter (norm gains
 * included, as the Moonlight paper does). Defaults are Moonlight's: lr 1e-3, betas (0.9, 0.95), eps 1e-8,
 * weightDecay 0.1. epsPlacement 'torch' (default here) matches torch.optim.AdamW; 'moonlight' is the
 * variant inside Moonlight's Muon (eps on the raw √v, bias correction folded into the step size).
 */
import { ConfigError } from '../errors';
import { checkDistributedOptions, checkNonFiniteGradPolicy, checkOptionKeys, DistributedOptimizerOptions, NonFiniteGradPolicy, Optimizer } from './optimizer';
import { collectParameters, NamedParameters, ParamGroup } from './parameters';

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

const ADAMW_OPTION_KEYS = new Set<string>(['lr', 'weightDecay', 'betas', 'eps', 'epsPlacement', 'nonFiniteGrads', 'distributed']);

export class AdamW extends Optimizer {
  constructor(params: NamedParameters | readonly ParamGroup[], options: AdamWOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new ConfigError('options must be an object');
    checkOptionKeys(options, ADAMW_OPTION_KEYS, 'options');
    for (const key of ['lr', 'weightDecay', 'eps'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'number') {
        throw new ConfigError(`options.${key} is ${String(options[key])}; expected a number`);
      }
    }
    const betas = options.betas;
    if (betas !== undefined && (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => typeof b !== 'number'))) {
      throw new ConfigError('options.betas must be a pair of numbers [beta1, beta2]');
    }
    const { params: nativeParams, groups } = collectParameters(params, 'params');
    for (const group of groups) {
      if (group.optimizer === 'muon') throw new ConfigError(`param group '${group.name}' asks for Muon; use Muon for that`);
      group.optimizer = 'adamw';
    }
    super({
      params: nativeParams,
      groups,
      muonOptions: {},
      adamwOptions: {
        lr: options.lr,
        weightDecay: options.weightDecay,
        beta1: betas?.[0],
        beta2: betas?.[1],
        eps: options.eps,
        epsPlacement: options.epsPlacement ?? 'torch',
      },
      routing: {},
      nonFiniteGrads: checkNonFiniteGradPolicy(options.nonFiniteGrads, 'options.nonFiniteGrads'),
      distributed: checkDistributedOptions(options.distributed, 'options.distributed'),
    });
  }
}
