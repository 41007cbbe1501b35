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

test('CausalLM.create initialises a Moonlight-width model off the JS thread', async () => {
  const config = moonlightWidthConfig();
  // float32, the default. A bfloat16 create draws each tensor in fp32 and converts it, and freeing those
  // temporaries measured a 73 ms stall in CI: not yet under the limit, so not what this test claims.
  const { result: model, stallMs, seconds } = await largestStall(() => CausalLM.create(config, { seed: 1 }));
  try {
    expect(model.numParameters()).toBeGreaterThan(6e8);
    expect(seconds).toBeGreaterThan(0.2); // real work happened while the loop was watched
    expect(stallMs).toBeLessThan(stallLimitMs);
  } finally {
    model.dispose();
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
