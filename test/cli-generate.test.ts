/**
 * `moonlight generate` as users run it (compiled dist/): the streamed text is the greedy continuation the
 * API produces (itself checked against transformers in generate.test.ts), Moonlight's chat template wraps
 * the prompt with --chat, and bad input is one error line.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM, loadTokenizer } from '../src';
import { qwen2Tiny } from './helpers/model_configs';

jest.setTimeout(120_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-generate-'));
const folder = path.join(scratch, 'model');
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

beforeAll(async () => {
  const model = CausalLM.fromConfig({ ...qwen2Tiny, vocab_size: 320 }, { seed: 3 });
  await model.savePretrained(folder);
  model.dispose();
});

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 100_000 });
}

test('streams the greedy continuation of the prompt', async () => {
  const run = moonlight('generate', '--model', folder, '--tokenizer', 'byte', '--prompt', 'Call me', '--max_new_tokens', '12');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const tokenizer = await loadTokenizer('byte');
  const model = (await CausalLM.fromPretrained(folder)).eval();
  const result = await model.generate([tokenizer.encode('Call me')], { maxNewTokens: 12, stopTokenIds: [tokenizer.eosTokenId] });
  const expected = tokenizer.decode(result.tokens[0].filter((id) => id !== tokenizer.eosTokenId));
  expect(run.stdout).toBe(`${expected}\n`);
  model.dispose();
});

test('a folder without a chat template: --chat is one clear error line', () => {
  const run = moonlight('generate', '--model', folder, '--tokenizer', 'byte', '--prompt', 'Hi', '--chat');
  expect(run.status).not.toBe(0);
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^moonlight: .*chat/i);
});

test('a missing model folder is one clear error line', () => {
  const run = moonlight('generate', '--model', path.join(scratch, 'nope'), '--prompt', 'Hi');
  expect(run.status).not.toBe(0);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/nope/);
});
