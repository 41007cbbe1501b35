/**
 * Making a model — initialising it from a config, loading a Moonlight-width checkpoint — and a Trainer's
 * set-up run off the JS thread: the event loop's largest delay (perf_hooks.monitorEventLoopDelay) stays
 * under 50 ms while they run, although each takes seconds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { CausalLM, cudaAvailable, Trainer } from '../src';
import { moonlightWidthCheckpoint, moonlightWidthConfig } from './helpers/moonlight_width';

const stallLimitMs = 50;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'off-thread-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Runs work and returns its result with the event loop's largest delay meanwhile, in ms. */
async function largestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; seconds: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const start = performance.now();
  histogram.enable();
  try {
    const result = await work();
    return { result, stallMs: histogram.max / 1e6, seconds: (performance.now() - start) / 1000 };
  } finally {
    histogram.disable();
  }
}

beforeAll(() => {
  cudaAvailable(); // loads the addon (libtorch's dlopen takes a moment): not what these tests measure
  moonlightWidthCheckpoint();
}, 900_000);

describe.each(['float32', 'bfloat16'] as const)('CausalLM.create in %s', (dtype) => {
  test('initialises a Moonlight-width model off the JS thread', async () => {
    const config = moonlightWidthConfig();
    const { result: model, stallMs, seconds } = await largestStall(() => CausalLM.create(config, { seed: 1, dtype }));
    try {
      expect(model.dtype).toBe(dtype);
      expect(model.numParameters()).toBeGreaterThan(6e8);
      expect(seconds).toBeGreaterThan(0.2); // real work happened while the loop was watched
      expect(stallMs).toBeLessThan(stallLimitMs);
    } finally {
      model.dispose();
    }
  }, 600_000);
});

test('a seed gives a bfloat16 model the float32 model\'s weights, rounded', async () => {
  // A bfloat16 model's weights are drawn in fp32 through a 4 Mi-value chunk and rounded: at this width the dense
  // MLP (11264 x 2048) and the expert stacks (64 x 1408 x 2048) span many chunks, so this compares the chunked
  // draw with one draw over the whole tensor. Non-trainable state stays fp32 in both.
  const config = moonlightWidthConfig();
  const [float, half] = await Promise.all([
    CausalLM.create(config, { seed: 7, dtype: 'float32' }),
    CausalLM.create(config, { seed: 7, dtype: 'bfloat16' }),
  ]);
  const floatWeights = float.stateDict();
  const halfWeights = half.stateDict();
  try {
    let compared = 0;
    for (const [name, weight] of floatWeights) {
      const other = halfWeights.get(name);
      if (other === undefined) throw new Error(`${name} is missing from the bfloat16 model`);
      const rounded = weight.to({ dtype: other.dtype });
      const equal = rounded.equal(other);
      rounded.dispose();
      if (!equal) throw new Error(`${name} differs from the float32 model's, rounded`);
      compared += 1;
    }
    expect(compared).toBe(halfWeights.size);
  } finally {
    // The views hold the weights' memory: released here, not by a garbage collection during the next test.
    for (const view of [...floatWeights.values(), ...halfWeights.values()]) view.dispose();
    float.dispose();
    half.dispose();
  }
}, 600_000);

test('fromPretrained loads a Moonlight-width checkpoint off the JS thread', async () => {
  const directory = moonlightWidthCheckpoint();
  const { result: model, stallMs, seconds } = await largestStall(() => CausalLM.fromPretrained(directory));
  try {
    expect(seconds).toBeGreaterThan(0.2);
    expect(stallMs).toBeLessThan(stallLimitMs);
  } finally {
    model.dispose();
  }
}, 600_000);

test('a Trainer sets up (tokenizer, token cache, model, optimizer) without blocking the event loop', async () => {
  const cacheDir = path.join(scratch, 'cache');
  const options = {
    model: 'moonlight-tiny', tokenizer: 'byte', dataset: 'moby-dick', batchSize: 4, seqLen: 64, maxSteps: 1, cacheDir,
  } as const;
  // The first run builds the token cache; the measured one starts as users' runs do, with the cache made.
  const warm = new Trainer({ ...options, outDir: path.join(scratch, 'warm') });
  await warm.fit();
  warm.dispose();
  const trainer = new Trainer({ ...options, outDir: path.join(scratch, 'measured') });
  try {
    const { stallMs } = await largestStall(() => trainer.setup());
    expect(stallMs).toBeLessThan(stallLimitMs);
  } finally {
    trainer.dispose();
  }
}, 600_000);
