/**
 * Chat SFT data: the assistant-only labels against hand-built examples (Moonlight's format and a ChatML Jinja
 * template, multi-turn, alpaca records), truncation counts, padding / packing; and the masked loss of our model
 * against transformers' loss with the very same labels and attention mask on a tiny DeepseekV3 and a tiny Qwen2.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM, ConfigError } from '../src';
import { byteTokenizer } from '../src/data/tokenizer';
import {
  conversationOf, IGNORE_INDEX, packSamples, padSamples, readConversations, SftDataset, tokenizeConversation,
} from '../src/train/sft_data';
import { moonlightTiny, qwen2Tiny } from './helpers/model_configs';
import { runPythonFile } from './helpers/python';
import { CHATML_TEMPLATE } from './helpers/chat_templates';

const ORACLE = path.join(__dirname, '..', 'scripts', 'oracle', 'transformers_reference.py');
const tokenizer = byteTokenizer();
const bytes = (text: string): number[] => [...Buffer.from(text, 'utf8')];

/** ids and labels from [text, learned] pieces written out by hand. */
function handBuilt(pieces: Array<[string, boolean]>): { inputIds: number[]; labels: number[] } {
  const inputIds: number[] = [];
  const labels: number[] = [];
  for (const [text, learned] of pieces) {
    for (const id of bytes(text)) {
      inputIds.push(id);
      labels.push(learned ? id : IGNORE_INDEX);
    }
  }
  return { inputIds, labels };
}

const twoTurns = [
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' },
  { role: 'assistant', content: 'Ciao' },
];

describe('assistant-only labels', () => {
  test("Moonlight's format: exactly the assistant contents and their <|im_end|> are learned", () => {
    const expected = handBuilt([
      ['<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>Hi<|im_end|><|im_assistant|>assistant<|im_middle|>', false],
      ['Hello!<|im_end|>', true],
      ['<|im_user|>user<|im_middle|>Bye<|im_end|><|im_assistant|>assistant<|im_middle|>', false],
      ['Ciao<|im_end|>', true],
    ]);
    expect(tokenizeConversation(twoTurns, tokenizer, { template: 'moonlight' })).toEqual(expected);
  });

  test('a ChatML Jinja template (the tokenizer_config.json path): the assistant turns up to and including "<|im_end|>\\n"', () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, ...twoTurns];
    const expected = handBuilt([
      ['<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', false],
      ['Hello!<|im_end|>\n', true],
      ['<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n', false],
      ['Ciao<|im_end|>\n', true],
    ]);
    expect(tokenizeConversation(messages, tokenizer, { template: CHATML_TEMPLATE })).toEqual(expected);
  });

  test('alpaca records become user (instruction + input) / assistant (output) turns', () => {
    expect(conversationOf({ instruction: 'Reverse it.', input: 'abc', output: 'cba' }, 'x')).toEqual([
      { role: 'user', content: 'Reverse it.\n\nabc' },
      { role: 'assistant', content: 'cba' },
    ]);
    expect(conversationOf({ instruction: 'Say hi.', input: '', output: 'hi', system: 'S' }, 'x')).toEqual([
      { role: 'system', content: 'S' }, { role: 'user', content: 'Say hi.' }, { role: 'assistant', content: 'hi' },
    ]);
  });

  test('bad records are ConfigErrors naming file:line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sft-bad-'));
    const file = path.join(dir, 'chat.jsonl');
    fs.writeFileSync(file, `${JSON.stringify({ messages: twoTurns })}\n{"messages": [{"role": "user", "content": "no answer"}]}\n`);
    expect(() => readConversations(file)).toThrow(new ConfigError(`${file}:2: no assistant message (nothing to learn)`));
    fs.writeFileSync(file, '{"text": "plain"}\n');
    expect(() => readConversations(file)).toThrow(/chat.jsonl:1: expected "messages" \(chat\) or "instruction" \+ "output"/);
    fs.writeFileSync(file, '{"messages": [{"role": "robot", "content": "x"}]}\n');
    expect(() => readConversations(file)).toThrow(/messages\[0\]\.role is 'robot'/);
  });

  test('truncation keeps the first max_length tokens and counts them; samples left without an assistant token are dropped', () => {
    const long = [{ role: 'user', content: 'x'.repeat(40) }, { role: 'assistant', content: 'y'.repeat(40) }];
    const short = [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }];
    // ChatML default system turn (58 bytes) + user turn (17 + 40 + 11) + assistant prefix (22): the answer starts at
    // byte 148; the short conversation has 58 + 29 + 22 + 1 + 11 = 121 bytes.
    const dataset = SftDataset.fromConversations([long, short, long], { tokenizer, template: { template: CHATML_TEMPLATE }, maxLength: 160 });
    const full = tokenizeConversation(long, tokenizer, { template: CHATML_TEMPLATE });
    expect(full.inputIds.length).toBe(58 + 68 + 22 + 40 + 11);
    expect(full.labels.findIndex((label) => label !== IGNORE_INDEX)).toBe(148);
    expect(dataset.stats).toMatchObject({ conversations: 3, truncated: 2, droppedNoAssistant: 0, assistantTokens: 12 + 12 + 12 });
    expect(dataset.samples[0].inputIds).toEqual(full.inputIds.slice(0, 160));
    expect(dataset.samples[0].labels).toEqual(full.labels.slice(0, 160));
    const tight = SftDataset.fromConversations([long, short], { tokenizer, template: { template: CHATML_TEMPLATE }, maxLength: 140 });
    expect(tight.stats).toMatchObject({ truncated: 1, droppedNoAssistant: 1 });
    expect(tight.samples).toHaveLength(1);
  });

  test('padding: right-padded with attention 0 and label -100; packing: whole samples per row, no label across a boundary', () => {
    const a = { inputIds: [1, 2, 3], labels: [-100, 2, 3], truncated: false };
    const b = { inputIds: [4, 5], labels: [4, 5], truncated: false };
    expect(padSamples([a, b], 0)).toEqual({
      inputIds: [[1, 2, 3], [4, 5, 0]], labels: [[-100, 2, 3], [4, 5, -100]], attentionMask: [[1, 1, 1], [1, 1, 0]],
    });
    expect(packSamples([a, b, b], 5, 0)).toEqual({
      inputIds: [[1, 2, 3, 4, 5], [4, 5, 0, 0, 0]], labels: [[-100, 2, 3, -100, 5], [4, 5, -100, -100, -100]],
      attentionMask: [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]],
    });
  });
});

describe('masked loss equals transformers’ loss with the same labels', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sft-loss-'));
  const conversations = [
    twoTurns,
    [{ role: 'user', content: 'What is 2 plus 2?' }, { role: 'assistant', content: '4.' }],
    [{ role: 'system', content: 'Terse.' }, { role: 'user', content: 'Name a colour.' }, { role: 'assistant', content: 'Teal, a blue-green colour.' }],
  ];
  const cases = [
    { name: 'deepseek_v3', config: { ...moonlightTiny, max_position_embeddings: 512 }, template: 'moonlight' },
    { name: 'qwen2', config: { ...qwen2Tiny, max_position_embeddings: 512 }, template: CHATML_TEMPLATE },
  ];
  let results: Array<{ loss: number }>;
  const batches = cases.map(({ template }) => {
    // The longest conversation loses its last 4 tokens (part of its final answer).
    const longest = Math.max(...conversations.map((c) => tokenizeConversation(c, tokenizer, { template }).inputIds.length));
    const dataset = SftDataset.fromConversations(conversations, { tokenizer, template: { template }, maxLength: longest - 4 });
    return { batch: padSamples(dataset.samples, 0), truncated: dataset.stats.truncated };
  });

  beforeAll(() => {
    results = runPythonFile<{ results: Array<{ loss: number }> }>(ORACLE, {
      cases: cases.map((c, i) => ({
        config: c.config, seed: 70 + i, out_dir: path.join(root, c.name),
        input_ids: batches[i].batch.inputIds, labels: batches[i].batch.labels, attention_mask: batches[i].batch.attentionMask,
      })),
    }, 300_000).results;
  }, 300_000);

  test.each(cases.map((c, i) => ({ ...c, index: i })))('$name', async ({ name, index }) => {
    const { batch, truncated } = batches[index];
    expect(truncated).toBe(1);
    expect(batch.attentionMask.some((row) => row.includes(0))).toBe(true);
    const model = await CausalLM.fromPretrained(path.join(root, name, 'model'));
    try {
      const { logits, loss } = await model.eval().forward(batch.inputIds, { labels: batch.labels, attentionMask: batch.attentionMask });
      expect(Math.abs(loss!.item() - results[index].loss)).toBeLessThan(1e-5 * Math.max(1, results[index].loss));
      logits.dispose();
      loss!.dispose();
    } finally {
      model.dispose();
    }
  });
});
