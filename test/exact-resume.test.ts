// Exact resume: N steps, checkpoint, SIGKILL; a new process resumes and trains M more. Losses and final
// weights equal those of one uninterrupted N+M-step run, bit for bit (CPU).
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSafetensors, tensorBytes } from '../src';
import { moonlightTiny } from './helpers/model_configs';

const child = path.join(__dirname, 'helpers', 'resume-child.js');
const env = { ...process.env, MOONLIGHT_RESUME_CONFIG: JSON.stringify(moonlightTiny) };
const firstSteps = 4;
const moreSteps = 3;

test('train, checkpoint, kill, resume == uninterrupted run, bit for bit', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'exact-resume-'));
  const full = spawnSync(process.execPath, [child, 'full', String(firstSteps + moreSteps), path.join(work, 'full')], { env, encoding: 'utf8' });
  expect(full.stderr).toBe('');

  const run = path.join(work, 'run');
  const first = spawn(process.execPath, [child, 'first', String(firstSteps), run], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  first.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    first.stdout.once('data', () => resolve());
    first.once('exit', (code) => reject(new Error(`first run exited (${code}): ${stderr}`)));
  });
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));

  const resumed = spawnSync(process.execPath, [child, 'resume', run, String(moreSteps), path.join(work, 'resumed')], { env, encoding: 'utf8' });
  expect(resumed.stderr).toBe('');

  const fullLosses = JSON.parse(fs.readFileSync(path.join(work, 'full', 'losses.json'), 'utf8')) as number[];
  const resumedLosses = JSON.parse(fs.readFileSync(path.join(work, 'resumed', 'losses.json'), 'utf8')) as number[];
  expect(fullLosses).toHaveLength(firstSteps + moreSteps);
  expect(resumedLosses).toEqual(fullLosses); // exact equality of doubles
  expect(fullLosses[fullLosses.length - 1]).toBeLessThan(fullLosses[0]); // it trained

  const fullWeights = await loadSafetensors(path.join(work, 'full', 'weights.safetensors'));
  const resumedWeights = await loadSafetensors(path.join(work, 'resumed', 'weights.safetensors'));
  expect(Object.keys(resumedWeights).sort()).toEqual(Object.keys(fullWeights).sort());
  const differing = Object.keys(fullWeights).filter(
    (name) => Buffer.compare(Buffer.from(tensorBytes(fullWeights[name])), Buffer.from(tensorBytes(resumedWeights[name]))) !== 0,
  );
  expect(differing).toEqual([]);
}, 300_000);
