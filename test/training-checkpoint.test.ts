// Training checkpoints: round trip, rotation, validation, and crash safety under SIGKILL.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CheckpointError,
  listTrainingCheckpoints,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
  tensor,
  full,
} from '../src';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'training-checkpoint-'));

test('save and load round-trip model, optimizer and state; keepLast rotates', async () => {
  const run = tmp();
  for (const step of [10, 20, 30]) {
    await saveTrainingCheckpoint(
      run,
      step,
      {
        model: { w: tensor([[step, 2], [3, 4]]), bias: tensor([0.5]) },
        optimizer: { 'w.momentum': tensor([[1, 1], [1, 1]]).mul(step) },
        state: { step, lr: 0.01, rng: [1, 2, 3], config: { model: 'tiny' } },
      },
      { keepLast: 2 },
    );
  }
  expect(listTrainingCheckpoints(run).map((c) => c.step)).toEqual([20, 30]);
  const latest = await loadTrainingCheckpoint(run);
  expect(latest.step).toBe(30);
  expect(latest.model.w.tolist()).toEqual([[30, 2], [3, 4]]);
  expect(latest.optimizer['w.momentum'].toNumbers()).toEqual([30, 30, 30, 30]);
  expect(latest.state).toEqual({ step: 30, lr: 0.01, rng: [1, 2, 3], config: { model: 'tiny' } });
  const older = await loadTrainingCheckpoint(listTrainingCheckpoints(run)[0].path);
  expect(older.model.w.tolist()).toEqual([[20, 2], [3, 4]]);
  expect(fs.readdirSync(path.join(run, 'checkpoints')).sort()).toEqual(['step-00000020', 'step-00000030']);
});

test('a checkpoint whose tensors disagree with its manifest is a CheckpointError', async () => {
  const run = tmp();
  const saved = await saveTrainingCheckpoint(run, 1, { model: { w: tensor([1, 2]) }, state: {} });
  const manifestPath = path.join(saved, 'trainer_state.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  manifest.model.w = [3];
  fs.writeFileSync(manifestPath, JSON.stringify(manifest));
  await expect(loadTrainingCheckpoint(saved)).rejects.toThrow(/model tensor "w" has shape \[2\] but trainer_state.json says \[3\]/);
  fs.writeFileSync(manifestPath, '{"format": "something-else", "step": 1}');
  await expect(loadTrainingCheckpoint(saved)).rejects.toThrow(CheckpointError);
  await expect(loadTrainingCheckpoint(tmp())).rejects.toThrow(/no complete training checkpoint/);
});

test('SIGKILL at random points while saving over existing checkpoints never leaves a torn latest checkpoint', async () => {
  const run = tmp();
  const child = path.join(__dirname, 'helpers', 'checkpoint-crash-child.js');
  let nextIteration = 1;
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let kill = 0; kill < 20; kill++) {
    const proc = spawn(process.execPath, [child, run, String(nextIteration)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    // Wait for the first save of this child, then kill it at a random moment of a later one.
    await new Promise<void>((resolve, reject) => {
      proc.stdout.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, 5 + random() * 150));
    proc.kill('SIGKILL');
    await new Promise((resolve) => proc.once('exit', resolve));

    const latest = await loadTrainingCheckpoint(run);
    const fill = latest.state.fill as number;
    for (const [name, t] of [...Object.entries(latest.model), ...Object.entries(latest.optimizer)]) {
      const values = new Set(t.toNumbers());
      expect([name, [...values]]).toEqual([name, [fill]]);
    }
    nextIteration = fill + 100; // later children write values no earlier checkpoint holds
  }
  // Staging folders of killed writers are cleaned up by the next save.
  await saveTrainingCheckpoint(run, 99, { model: { w: full([1], 1) }, state: { fill: 1 } });
  expect(fs.readdirSync(path.join(run, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([]);
}, 180_000);
