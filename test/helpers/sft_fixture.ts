/**
 * Fine-tuning fixtures: tiny Hugging Face folders written by transformers (Qwen2, and DeepseekV3 in Moonlight's
 * shape) that carry a ChatML template but no vocabulary (they fine-tune with --tokenizer byte), and a chat JSONL
 * whose conversations differ in length (so padded batches differ from each other).
 */
import * as fs from 'fs';
import * as path from 'path';
import { moonlightTiny, qwen2Tiny } from './model_configs';
import { runPythonFile } from './python';
import { CHATML_TEMPLATE } from './chat_templates';

const REFERENCE = path.join(__dirname, '..', '..', 'scripts', 'oracle', 'transformers_reference.py');

export interface ChatRecord {
  messages: Array<{ role: string; content: string }>;
}

export function chatConversations(): ChatRecord[] {
  const names = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances'];
  return Array.from({ length: 24 }, (_, i) => {
    const messages = [];
    if (i % 4 === 0) messages.push({ role: 'system', content: 'Answer briefly.' });
    messages.push({ role: 'user', content: `Say hello to ${names[i % names.length]}${'!'.repeat(i % 5)}` });
    messages.push({ role: 'assistant', content: `Hello, ${names[i % names.length]}.${' Nice to meet you.'.repeat(i % 3)}` });
    return { messages };
  });
}

export interface SftFixture {
  chat: string;
  qwen2: string;
  deepseek: string;
}

/** Writes the chat file and the model folders under `root` (the DeepseekV3 one only when asked). */
export function writeSftFixture(root: string, options: { deepseek?: boolean } = {}): SftFixture {
  const chat = path.join(root, 'chat.jsonl');
  fs.writeFileSync(chat, chatConversations().map((record) => JSON.stringify(record)).join('\n') + '\n');
  const cases: Array<Record<string, unknown>> = [{ config: { ...qwen2Tiny, max_position_embeddings: 512 }, seed: 11, out_dir: path.join(root, 'qwen2'), input_ids: [[1, 2, 3]], labels: null, attention_mask: null }];
  if (options.deepseek) cases.push({ config: moonlightTiny, seed: 12, out_dir: path.join(root, 'deepseek_v3'), input_ids: [[1, 2, 3]], labels: null, attention_mask: null });
  runPythonFile(REFERENCE, { cases }, 300_000);
  const fixture = { chat, qwen2: path.join(root, 'qwen2', 'model'), deepseek: path.join(root, 'deepseek_v3', 'model') };
  for (const base of [fixture.qwen2, ...(options.deepseek ? [fixture.deepseek] : [])]) {
    fs.writeFileSync(path.join(base, 'tokenizer_config.json'), JSON.stringify({ chat_template: CHATML_TEMPLATE }));
  }
  return fixture;
}
