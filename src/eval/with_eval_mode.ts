/** Runs scoring with the model in eval() mode (no autograd graph, no dropout) and restores its mode after. */
import type { CausalLM } from '../models/causal_lm';

export async function withEvalMode<T>(model: CausalLM, work: () => Promise<T>): Promise<T> {
  const wasTraining = model.training;
  model.eval();
  try {
    return await work();
  } finally {
    if (wasTraining) model.train();
  }
}
