/** DeepSeek-V3's balance loss on given routing (the train step computes it natively per MoE layer). */
import { ArgumentError } from '../errors';
import { native } from '../native';
import { operandHandle, Tensor } from '../tensor/tensor';

export interface BalanceLossOptions {
  /** Weight α (aux_loss_alpha). */
  alpha: number;
  /** seq_aux: average the loss of each sequence (default true) instead of one loss over all tokens. */
  perSequence?: boolean;
}

/**
 * L = α · Σ_i f_i · P_i with scores normalised per token (s / Σ s), P_i their mean over a sequence and
 * f_i = E / (K·T) · (tokens of the sequence routed to expert i).
 * scores: [B, T, E] float (sigmoid scores); indices: [B, T, K] chosen experts.
 */
export function balanceLoss(scores: Tensor, indices: Tensor, options: BalanceLossOptions): Tensor {
  if (typeof options?.alpha !== 'number' || !Number.isFinite(options.alpha) || options.alpha < 0) {
    throw new ArgumentError(`options.alpha must be a number >= 0, got ${String(options?.alpha)}`);
  }
  return new Tensor(
    native().balanceLoss(
      operandHandle(scores, 'scores'),
      operandHandle(indices, 'indices'),
      options.alpha,
      options.perSequence ?? true,
    ),
  );
}
