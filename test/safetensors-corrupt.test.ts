// Every corrupt file or folder of the generated corpus is a CheckpointError naming the file and the
// problem; random mutations of valid files never crash the process.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CheckpointError,
  loadSafetensors,
  loadShardedSafetensors,
  openSafetensors,
  saveSafetensors,
  tensor,
  ArgumentError,
} from '../src';
import { seededUniform } from '../src/experiments/seeded_uniform';
import { validFile, writeCorruptCorpus } from './helpers/corrupt-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'corrupt-corpus-'));
const corpus = writeCorruptCorpus(root);

test('the corpus has at least 30 cases', () => {
  expect(corpus.length).toBeGreaterThanOrEqual(30);
});

test.each(corpus.map((c) => [c.name, c] as const))('%s', async (_, corruptCase) => {
  const isFolder = fs.existsSync(corruptCase.target) && fs.statSync(corruptCase.target).isDirectory();
  const load = isFolder ? loadShardedSafetensors(corruptCase.target) : loadSafetensors(corruptCase.target);
  const error = await load.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  const message = (error as Error).message;
  expect(message).toContain(path.basename(corruptCase.target));
  expect(message).toMatch(corruptCase.problem);
});

test('a valid file from the same generator loads (the corpus corrupts something real)', async () => {
  const file = path.join(root, 'valid.safetensors');
  fs.writeFileSync(file, validFile());
  const loaded = await loadSafetensors(file);
  expect(Object.keys(loaded)).toEqual(['a', 'b']);
});

test('2,000 random byte flips and truncations never crash: each load succeeds or is a CheckpointError', async () => {
  const seeds: Buffer[] = [validFile()];
  const ours = path.join(root, 'fuzz-seed.safetensors');
  await saveSafetensors(ours, {
    w: tensor([[1, 2], [3, 4]], { dtype: 'bfloat16' }),
    ids: tensor([1, 2, 3], { dtype: 'int32' }),
    flag: tensor([true, false]),
  });
  seeds.push(fs.readFileSync(ours));
  const next = seededUniform(1234); // a failure replays from its iteration number
  const target = path.join(root, 'fuzz.safetensors');
  const outcomes = { loaded: 0, rejected: 0 };
  for (let iteration = 0; iteration < 2000; iteration++) {
    const bytes = Buffer.from(seeds[iteration % seeds.length]);
    const mutation = next();
    let mutated: Buffer = bytes;
    if (mutation < 0.15) {
      mutated = bytes.subarray(0, Math.floor(next() * bytes.length));
    } else if (mutation < 0.25) {
      mutated.writeUInt32LE(Math.floor(next() * 2 ** 32), 0); // a random header length
    } else {
      const flips = 1 + Math.floor(next() * 4);
      for (let i = 0; i < flips; i++) {
        // Mostly inside the header, where the structure lives.
        const at = next() < 0.8 ? 8 + Math.floor(next() * (bytes.readUInt32LE(0) || 1)) : Math.floor(next() * bytes.length);
        if (at < mutated.length) mutated[at] = Math.floor(next() * 256);
      }
    }
    fs.writeFileSync(target, mutated);
    try {
      const loaded = await loadSafetensors(target);
      for (const t of Object.values(loaded)) t.dispose();
      outcomes.loaded++;
    } catch (error) {
      if (!(error instanceof CheckpointError)) {
        throw new Error(`iteration ${iteration}: unexpected ${(error as Error).name}: ${(error as Error).message}`);
      }
      outcomes.rejected++;
    }
  }
  expect(outcomes.loaded + outcomes.rejected).toBe(2000);
  expect(outcomes.rejected).toBeGreaterThan(1000);
}, 120_000);

describe('writing never leaves a partial file', () => {
  test('a failed save keeps the previous file intact and leaves no temporary file behind', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-save-'));
    const file = path.join(folder, 'weights.safetensors');
    await saveSafetensors(file, { a: tensor([1, 2]) });
    const before = fs.readFileSync(file);
    await expect(saveSafetensors(file, [['a', tensor([1])], ['a', tensor([2])]])).rejects.toThrow(ArgumentError);
    await expect(saveSafetensors(file, { __metadata__: tensor([1]) })).rejects.toThrow(/cannot name a tensor/);
    expect(fs.readFileSync(file)).toEqual(before);
    expect(fs.readdirSync(folder)).toEqual(['weights.safetensors']);
  });

  test('saving into a missing folder is a CheckpointError naming the path', async () => {
    await expect(saveSafetensors('/nonexistent-folder/x.safetensors', { a: tensor([1]) })).rejects.toThrow(
      /nonexistent-folder\/\.x\.safetensors\.tmp-.*: cannot create/,
    );
  });

  test('open() of a file that is a folder is a CheckpointError', async () => {
    await expect(openSafetensors(root)).rejects.toThrow(/not a regular file/);
  });
});
