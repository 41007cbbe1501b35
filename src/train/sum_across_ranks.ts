/** Numbers summed over the data-parallel ranks: one float64 all-reduce (every rank must call it). */
import { distributed } from '../dist/distributed';
import { tensor } from '../tensor/factories';

export async function sumAcrossRanks(values: readonly number[], worldSize: number): Promise<number[]> {
  if (worldSize === 1) return [...values];
  const local = tensor([...values], { dtype: 'float64' });
  try {
    const summed = await distributed.allReduce(local, 'sum');
    try {
      return summed.toNumbers();
    } finally {
      summed.dispose();
    }
  } finally {
    local.dispose();
  }
}
