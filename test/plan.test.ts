/**
 * planMemory's exact parts: the optimizer state of each rank equals what the distributed code itself allocates
 * (ZeRO-1 Muon and ZeRO-1 AdamW on 1 and 2 ranks, small buckets so parameters split across the ranks' chunks,
 * and one process without data parallelism); the weights equal the loaded model's bytes (the Moonlight-width
 * checkpoint in bf16 as fromPretrained loads it, and with LoRA adapters attached).
 */
import { CausalLM, planMemory } from '../src';
import type { Tensor } from '../src';
import { killAllRanks, runRank, runWorld } from './helpers/dist-ranks';
import { moonlightTiny } from './helpers/model_configs';
import { moonlightWidthCheckpoint } from './helpers/moonlight_width';

jest.setTimeout(900_000);
afterAll(killAllRanks);

const config = { ...moonlightTiny, vocab_size: 256 };
const bucketBytes = 64 * 1024;
const job = { task: 'train', config, steps: 1, globalBatch: 4, seqLen: 8, bucketBytes, timeoutMs: 30000 };

function bytesOf(tensors: Iterable<Tensor>): number {
  let bytes = 0;
  for (const t of tensors) bytes += t.numel * (t.dtype === 'bfloat16' || t.dtype === 'float16' ? 2 : 4);
  return bytes;
}

describe.each(['muon', 'adamw'] as const)('%s optimizer state equals the distributed code\'s own', (optimizer) => {
  test('one process', async () => {
    const report = await runRank({ ...job, optimizer, mode: null, rank: 0, worldSize: 1, port: 0 });
    expect(report.ok).toBe(true);
    const plan = planMemory(config, { task: 'full', optimizer, bucketBytes });
    expect(plan.parts.optimizerState).toBe(report.stateBytes);
  });

  test.each([1, 2])('ZeRO-1 on %i rank(s), every rank', async (worldSize) => {
    const reports = await runWorld(worldSize, { ...job, optimizer, mode: 'zero1' });
    for (const [rank, report] of reports.entries()) {
      expect(report.ok).toBe(true);
      const plan = planMemory(config, { task: 'full', optimizer, worldSize, rank, bucketBytes });
      expect(plan.parts.optimizerState).toBe(report.stateBytes);
      expect(plan.assumptions.optimizerStateBytesPerRank[rank]).toBe(report.stateBytes);
    }
    if (worldSize === 2) {
      const plan = planMemory(config, { task: 'full', optimizer, worldSize, bucketBytes });
      expect(plan.parts.optimizerState).toBe(Math.max(...reports.map((r) => r.stateBytes as number)));
    }
  });
});

test('weights equal the loaded Moonlight-width model, bf16 as loaded, and with LoRA adapters', async () => {
  const directory = moonlightWidthCheckpoint();
  const model = await CausalLM.fromPretrained(directory);
  expect(model.dtype).toBe('bfloat16');
  const state = model.stateDict();
  const baseBytes = bytesOf(state.values());
  for (const t of state.values()) t.dispose();
  expect(planMemory(directory, { task: 'generate' }).parts.weights).toBe(baseBytes);

  model.attachLora({ targetModules: 'all-linear', rank: 8 });
  const adapters = model.namedParameters({ expertStacks: true });
  const lora = planMemory(directory, { task: 'lora', loraRank: 8 });
  expect(lora.parts.weights).toBe(baseBytes + bytesOf(adapters.values()));
  expect(lora.assumptions.trainableParameters).toBe([...adapters.values()].reduce((n, t) => n + t.numel, 0));
  // The plan's Muon/AdamW split is the optimizer's: every adapter is a matrix, so Muon takes all of them.
  expect(lora.assumptions.muonParameters).toBe(lora.assumptions.trainableParameters);
  model.dispose();
});
