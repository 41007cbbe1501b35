/**
 * `moonlight launch --nproc_per_node 2 … train --from DIR` (LoRA, ZeRO-1 Muon): each rank takes its slice of the
 * global batch of chat samples and pads it to its own longest sample, so the ranks' padding differs from one
 * process padding the whole batch. With the loss normalised by the global count of labelled tokens, 2 ranks ×
 * batch 2 track 1 process × batch 4 within dist-trainer.test.ts's tolerances; rank 0 alone writes the run.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSftFixture, SftFixture } from './helpers/sft_fixture';

jest.setTimeout(300_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-sft-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let fixture: SftFixture;

beforeAll(() => {
  fixture = writeSftFixture(root);
}, 300_000);

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 280_000 });
}

type Line = { type: string; step: number; loss?: number; lmLoss?: number; tokens: number; valLoss?: number };

function metrics(runDir: string): Line[] {
  return fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Line);
}

test('2 ranks × batch 2 (padded per rank) track 1 process × batch 4; rank 0 writes the run once', () => {
  const flags = ['train', '--from', fixture.qwen2, '--dataset', fixture.chat, '--tokenizer', 'byte', '--lora_rank', '4', '--lora_alpha', '8',
    '--lora_dropout', '0', '--optimizer', 'muon', '--lr', '0.01', '--steps', '4', '--max_length', '256', '--seed', '5',
    '--eval_every', '2', '--val_fraction', '0.2', '--no-plot'];
  const twoRanks = path.join(root, 'two-ranks');
  const launched = moonlight('launch', '--nproc_per_node', '2', '--master_port', '0', ...flags, '--batch_size', '2', '--out', twoRanks);
  expect(launched.stderr).not.toMatch(/Error/);
  expect(launched.status).toBe(0);
  expect(launched.stdout).toMatch(/\[rank 0\] finished at step 4\/4/);
  expect(launched.stdout).toMatch(/\[rank 1\] finished at step 4\/4/);
  expect(JSON.parse(fs.readFileSync(path.join(twoRanks, 'run.json'), 'utf8'))).toMatchObject({ kind: 'sft', worldSize: 2, distributed: 'zero1', status: 'completed' });

  const oneRank = path.join(root, 'one-rank');
  const single = moonlight(...flags, '--batch_size', '4', '--out', oneRank);
  expect(single.stderr).not.toMatch(/Error/);
  expect(single.status).toBe(0);

  const trainOf = (lines: Line[]) => lines.filter((l) => l.type === 'train');
  const distributedLines = trainOf(metrics(twoRanks));
  const singleLines = trainOf(metrics(oneRank));
  expect(distributedLines.map((l) => l.step)).toEqual([1, 2, 3, 4]); // written once, not per rank
  expect(distributedLines.map((l) => l.tokens)).toEqual(singleLines.map((l) => l.tokens));
  const pairs = distributedLines.map((l, i) => [l.lmLoss!, singleLines[i].lmLoss!]);
  console.log(`assistant-token loss, 2 ranks vs 1: ${pairs.map(([a, b]) => `${a.toFixed(6)}/${b.toFixed(6)}`).join(', ')}`);
  // Same global batches and weights: the first loss agrees to rounding; later ones within bf16 Newton-Schulz noise.
  expect(Math.abs(pairs[0][0] - pairs[0][1])).toBeLessThan(1e-5);
  for (const [a, b] of pairs) expect(Math.abs(a - b)).toBeLessThan(2e-2);
  const evals = (lines: Line[]) => lines.filter((l) => l.type === 'eval').map((l) => l.valLoss!);
  expect(evals(metrics(twoRanks))).toHaveLength(2);
  evals(metrics(twoRanks)).forEach((value, i) => expect(Math.abs(value - evals(metrics(oneRank))[i])).toBeLessThan(2e-2));
});
