/**
 * Chat templates and Moonlight's tokenizer for chat. Oracles: hand-written strings from Moonlight-16B-A3B-Instruct's chat template for
 * Moonlight's format; transformers' own Jinja renderer (test/helpers/chat_template_oracle.py) for tokenizer_config.json
 * templates; Python tiktoken with Moonlight's wrapper rebuilt (test/helpers/tokenizer_oracle.py) for ids, on a
 * synthetic rank file of exactly 163,584 ranks so that special tokens get Moonlight's real ids. No native addon needed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../src/errors';
import { byteTokenizer, loadTokenizer, type Tokenizer } from '../src/data/tokenizer';
import { applyChatTemplate, chatTemplateFor, stopTokenIdsFor, type ChatMessage } from '../src/infer';
import { runPythonFile } from './helpers/python';

const CHAT_ORACLE = path.join(__dirname, 'helpers', 'chat_template_oracle.py');
const TOKENIZER_ORACLE = path.join(__dirname, 'helpers', 'tokenizer_oracle.py');

/** Moonlight's real rank count: specials are numbered from it ([BOS] = 163584). */
const MOONLIGHT_RANKS = 163_584;

// Moonlight-16B-A3B-Instruct's named specials (its tokenizer_config.json), written out independently of src.
const INSTRUCT_SPECIALS: Record<string, string> = {
  '163584': '[BOS]',
  '163585': '[EOS]',
  '163586': '<|im_end|>',
  '163587': '<|im_user|>',
  '163588': '<|im_assistant|>',
  '163594': '<|im_system|>',
  '163601': '<|im_middle|>',
  '163838': '[PAD]',
  '163839': '[UNK]',
};

const MULTILINGUAL = "Hello, how are you? I'm fine. 世界你好，我们在学习。 日本語のテキスト。 한국어 Ça va? Über naïve café — 😀🚀👩‍👩‍👧 e\u0301\n\ttabs  and spaces.";

const CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is 2+2?' },
  { role: 'assistant', content: '4.' },
  { role: 'user', content: 'And 3+3? 世界 😀' },
];

let dir: string;
let instructDir: string;
let baseDir: string;

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-chat-'));
  instructDir = path.join(dir, 'instruct');
  baseDir = path.join(dir, 'base');
  fs.mkdirSync(instructDir);
  fs.mkdirSync(baseDir);
  runPythonFile(CHAT_ORACLE, { cmd: 'moonlight_ranks', path: path.join(instructDir, 'tiktoken.model'), count: MOONLIGHT_RANKS });
  fs.copyFileSync(path.join(instructDir, 'tiktoken.model'), path.join(baseDir, 'tiktoken.model'));
  const addedTokensDecoder = Object.fromEntries(Object.entries(INSTRUCT_SPECIALS).map(([id, content]) => [id, { content, special: true }]));
  const common = {
    tokenizer_class: 'TikTokenTokenizer',
    auto_map: { AutoTokenizer: ['tokenization_moonshot.TikTokenTokenizer', null] },
    added_tokens_decoder: addedTokensDecoder,
    bos_token: '[BOS]',
    eos_token: '[EOS]',
  };
  // The Instruct folder carries a chat template (its text does not matter to us: Moonlight's is built in).
  writeJson(path.join(instructDir, 'tokenizer_config.json'), { ...common, chat_template: '{{ messages }}' });
  writeJson(path.join(baseDir, 'tokenizer_config.json'), common);
}, 30_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("Moonlight's chat template (Moonlight-16B-A3B-Instruct's tokenizer_config.json)", () => {
  test("§4.6's example: default system turn, user turn, generation prompt", () => {
    expect(applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>Hi<|im_end|><|im_assistant|>assistant<|im_middle|>',
    );
  });

  test('multi-turn with its own system message, generation prompt on and off', () => {
    const turns =
      '<|im_system|>system<|im_middle|>You are terse.<|im_end|>' +
      '<|im_user|>user<|im_middle|>What is 2+2?<|im_end|>' +
      '<|im_assistant|>assistant<|im_middle|>4.<|im_end|>' +
      '<|im_user|>user<|im_middle|>And 3+3? 世界 😀<|im_end|>';
    expect(applyChatTemplate(CONVERSATION)).toBe(turns);
    expect(applyChatTemplate(CONVERSATION, { addGenerationPrompt: false, template: 'moonlight' })).toBe(turns);
    expect(applyChatTemplate(CONVERSATION, { addGenerationPrompt: true })).toBe(`${turns}<|im_assistant|>assistant<|im_middle|>`);
  });

  test('roles without a role token get only their name; no newlines, no [BOS]', () => {
    const text = applyChatTemplate([{ role: 'user', content: 'a\nb' }, { role: 'tool', content: '42' }]);
    expect(text).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>a\nb<|im_end|>tool<|im_middle|>42<|im_end|>',
    );
    expect(applyChatTemplate([], { addGenerationPrompt: true })).toBe('<|im_assistant|>assistant<|im_middle|>');
  });

  test('bad messages are ArgumentErrors naming the index', () => {
    expect(() => applyChatTemplate([{ role: 'user' } as unknown as ChatMessage])).toThrow(/messages\[0\]/);
    expect(() => applyChatTemplate([{ role: 'user' } as unknown as ChatMessage])).toThrow(ArgumentError);
  });
});

// A Qwen2-style ChatML template (one line, as Qwen2's tokenizer_config.json has it) and a Llama-3-style one written
// over several lines with plain {% %} blocks, so trim_blocks / lstrip_blocks and filters matter.
const CHATML_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAMA3_STYLE_TEMPLATE = [
  '{{ bos_token }}',
  '{% for message in messages %}',
  "    {% if message['role'] == 'system' and not loop.first %}{{ raise_exception('system must come first') }}{% endif %}",
  "<|start_header_id|>{{ message['role'] }}<|end_header_id|>",
  '',
  "{{ message['content'] | trim }}<|eot_id|>",
  '{% endfor %}',
  '{% if add_generation_prompt %}',
  '<|start_header_id|>assistant<|end_header_id|>',
  '',
  '{% endif %}',
].join('\n');

describe('Jinja chat templates from tokenizer_config.json vs transformers', () => {
  const conversations: ChatMessage[][] = [
    [{ role: 'user', content: 'Hi' }],
    CONVERSATION,
    [{ role: 'user', content: '  padded  \n' }, { role: 'assistant', content: 'Ça va? 世界' }, { role: 'user', content: 'ok' }],
  ];

  const templates: Array<[name: string, template: string, tokens: Record<string, unknown>]> = [
    ['ChatML (Qwen2)', CHATML_TEMPLATE, {}],
    ['Llama-3 style, multi-line', LLAMA3_STYLE_TEMPLATE, { bos_token: { content: '<|begin_of_text|>', special: true }, eos_token: '<|eot_id|>' }],
  ];

  test('templates from tokenizer_config.json render as transformers renders them', () => {
    const cases = templates.flatMap(([name, template, tokens]) => {
      const folder = fs.mkdtempSync(path.join(dir, 'jinja-'));
      writeJson(path.join(folder, 'tokenizer_config.json'), { chat_template: template, ...tokens });
      const folderTemplate = chatTemplateFor(folder);
      expect(folderTemplate.template).toBe(template);
      return [false, true].map((addGenerationPrompt) => ({ name, folderTemplate, addGenerationPrompt }));
    });
    // One Python process for every case: importing transformers dominates the time.
    const expected = runPythonFile<string[][]>(CHAT_ORACLE, {
      cmd: 'render',
      jobs: cases.map(({ folderTemplate, addGenerationPrompt }) => ({
        template: folderTemplate.template, conversations, add_generation_prompt: addGenerationPrompt, variables: folderTemplate.variables,
      })),
    });
    cases.forEach(({ name, folderTemplate, addGenerationPrompt }, index) => {
      const ours = conversations.map((messages) => applyChatTemplate(messages, { ...folderTemplate, addGenerationPrompt }));
      expect({ name, addGenerationPrompt, rendered: ours }).toEqual({ name, addGenerationPrompt, rendered: expected[index] });
    });
  });

  test("raise_exception and unparsable templates are ConfigErrors; a folder without a template is a ConfigError", () => {
    expect(() => applyChatTemplate([{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }], { template: LLAMA3_STYLE_TEMPLATE }))
      .toThrow(/system must come first/);
    expect(() => applyChatTemplate([{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }], { template: LLAMA3_STYLE_TEMPLATE }))
      .toThrow(ConfigError);
    const folder = fs.mkdtempSync(path.join(dir, 'none-'));
    writeJson(path.join(folder, 'tokenizer_config.json'), { eos_token: '</s>' });
    expect(() => chatTemplateFor(folder)).toThrow(ConfigError);
    expect(() => applyChatTemplate([], { template: '{% for x in %}' })).toThrow(ConfigError);
  });
});

interface MoonlightOracle {
  n_vocab: number;
  eos: number;
  special_tokens: Record<string, number>;
  results: Array<{ ids: number[]; decoded: string }>;
}

describe("Moonlight's tokenizer through the folder loader (163,584 synthetic ranks)", () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(instructDir);
  }, 30_000);
  afterAll(() => tokenizer?.dispose());

  test('special tokens have Moonlight ids; vocabulary 163,842; EOS [EOS]', () => {
    for (const [id, token] of Object.entries(INSTRUCT_SPECIALS)) expect(tokenizer.encode(token)).toEqual([Number(id)]);
    expect(tokenizer.encode('<|reserved_token_163590|>')).toEqual([163590]);
    expect(tokenizer.vocabSize).toBe(163_842);
    expect(tokenizer.eosTokenId).toBe(163_585);
  });

  test('the chat string: ids equal Python tiktoken with Moonlight wrapper, specials single ids, round trip', () => {
    const chat = applyChatTemplate(CONVERSATION, { addGenerationPrompt: true });
    const oracle = runPythonFile<MoonlightOracle>(TOKENIZER_ORACLE, {
      cmd: 'moonlight',
      ranks: path.join(instructDir, 'tiktoken.model'),
      added_tokens_decoder: Object.fromEntries(Object.entries(INSTRUCT_SPECIALS).map(([id, content]) => [id, { content }])),
      texts: [chat, MULTILINGUAL],
    });
    const ids = tokenizer.encode(chat);
    expect(ids).toEqual(oracle.results[0].ids);
    // Every special in the string is one id, in order: the system, user, assistant, user turns and the prompt.
    const specials = ids.filter((id) => id >= MOONLIGHT_RANKS);
    expect(specials).toEqual([
      163594, 163601, 163586, 163587, 163601, 163586, 163588, 163601, 163586, 163587, 163601, 163586, 163588, 163601,
    ]);
    expect(ids[0]).toBe(163594); // no [BOS]
    expect(tokenizer.decode(ids)).toBe(chat);

    const multilingual = tokenizer.encode(MULTILINGUAL);
    expect(multilingual).toEqual(oracle.results[1].ids);
    expect(tokenizer.decode(multilingual)).toBe(MULTILINGUAL);
    expect(oracle.n_vocab).toBe(tokenizer.vocabSize);
  });

  test('chatTemplateFor and stop tokens: Instruct <|im_end|>, base [EOS]', async () => {
    expect(chatTemplateFor(instructDir).template).toBe('moonlight');
    expect(stopTokenIdsFor(tokenizer, instructDir)).toEqual([163586]);
    const base = await loadTokenizer(baseDir);
    try {
      expect(chatTemplateFor(baseDir).template).toBe('moonlight');
      expect(stopTokenIdsFor(base, baseDir)).toEqual([163585]);
    } finally {
      base.dispose();
    }
  });
});

describe('stop tokens of other folders', () => {
  test("generation_config.json's eos_token_id (one or a list), else the tokenizer's EOS", () => {
    const byte = byteTokenizer();
    const folder = fs.mkdtempSync(path.join(dir, 'gen-'));
    expect(stopTokenIdsFor(byte, folder)).toEqual([256]);
    writeJson(path.join(folder, 'generation_config.json'), { eos_token_id: [10, 256] });
    expect(stopTokenIdsFor(byte, folder)).toEqual([10, 256]);
    writeJson(path.join(folder, 'generation_config.json'), { eos_token_id: 10 });
    expect(stopTokenIdsFor(byte, folder)).toEqual([10]);
    writeJson(path.join(folder, 'generation_config.json'), { eos_token_id: 'x' });
    expect(() => stopTokenIdsFor(byte, folder)).toThrow(ConfigError);
  });
});
