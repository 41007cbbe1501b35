/** `moonlight plan` as users run it (compiled dist/): the --json shape, and flags that do not apply to the task. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { moonlight16B } from './helpers/model_configs';

jest.setTimeout(120_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-plan-'));
const configFile = path.join(scratch, 'config.json');
fs.writeFileSync(configFile, JSON.stringify({ ...moonlight16B, torch_dtype: 'bfloat16' }));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'plan', '--model', configFile, ...args], { encoding: 'utf8', timeout: 100_000 });
}

test('--json prints { peakBytes, runtimeBytes, parts, assumptions }', () => {
  const run = moonlight('--task', 'full', '--world_size', '8', '--seq_len', '512', '--json');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const plan = JSON.parse(run.stdout);
  expect(Object.keys(plan)).toEqual(['peakBytes', 'runtimeBytes', 'parts', 'assumptions']);
  expect(Object.keys(plan.parts).sort()).toEqual(
    ['activations', 'allocatorRetention', 'autocastCopies', 'gradients', 'kvCache', 'optimizerState', 'optimizerStep', 'weights'].sort(),
  );
  for (const bytes of [plan.peakBytes, plan.runtimeBytes, ...Object.values(plan.parts)]) expect(Number.isInteger(bytes)).toBe(true);
  expect(plan.assumptions.optimizerStateBytesPerRank).toHaveLength(8);
  expect(plan.assumptions.dtype).toBe('float32');
  const { weights, gradients, optimizerState, optimizerStep, activations, autocastCopies, allocatorRetention, kvCache } = plan.parts;
  expect(plan.peakBytes).toBe(
    weights + gradients + optimizerState + kvCache + Math.max(activations + autocastCopies + allocatorRetention, optimizerStep),
  );
});

test('the table names every part and the assumptions', () => {
  const run = moonlight('--task', 'generate', '--seq_len', '4096');
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/weights\s+29\.\d\d GiB/);
  expect(run.stdout).toMatch(/kvCache/);
  expect(run.stdout).toMatch(/assumptions:/);
});

test.each([
  [['--task', 'generate', '--optimizer', 'muon'], /--optimizer does not apply to --task generate/],
  [['--task', 'generate', '--lora_rank', '16'], /--lora_rank does not apply to --task generate/],
  [['--task', 'full', '--target_modules', 'q_proj'], /--target_modules does not apply to --task full/],
  [['--task', 'lora', '--prompt_len', '5'], /--prompt_len does not apply to --task lora/],
  [['--task', 'full', '--precision', 'bf16-mixed', '--dtype', 'bfloat16'], /--precision 'bf16-mixed' keeps fp32 master weights/],
  [['--task', 'full', '--world_size', '2', '--rank', '2'], /--rank is 2; expected a rank below worldSize/],
])('%j is one error line', (args, message) => {
  const run = moonlight(...(args as string[]));
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(message);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
});
