/**
 * Chat SFT data: JSONL conversations rendered with the model's chat template, tokenised so that only the assistant
 * turns are learned (labels −100 elsewhere), truncated to maxLength, and batched with right padding + attention masks
 * (or packed into full rows).
 *
 * Records: `{"messages": [{"role": "system"|"user"|"assistant", "content": "…"}, …]}` (multi-turn), or the alpaca style
 * `{"instruction": "…", "input": "…", "output": "…"}` (optionally "system"), which becomes system? / user / assistant.
 *
 * Masking: for assistant turn i the template is rendered for messages[0..i) with the generation prompt and for
 * messages[0..i]; the characters between the two are that turn's learned text (its content and the end-of-turn marker
 * the model must learn to emit, e.g. Moonlight's <|im_end|>). Each span is tokenised on its own, so a label boundary
 * never falls inside a token; templates whose renderings are not prefixes of each other are refused.
 */
import * as fs from 'fs';
import { ConfigError } from '../errors';
import { applyChatTemplate, ChatMessage, ChatTemplateSpec } from '../infer/chat_template';
import type { TokenEncoder } from '../data/tokenizer_types';

export const IGNORE_INDEX = -100;

export interface SftTemplate {
  template: ChatTemplateSpec;
  variables?: Record<string, unknown>;
}

export interface SftSample {
  inputIds: number[];
  /** inputIds on assistant tokens, −100 elsewhere. */
  labels: number[];
  truncated: boolean;
}

export interface SftDatasetStats {
  conversations: number;
  /** Samples cut to maxLength. */
  truncated: number;
  /** Samples left out because truncation removed every assistant token. */
  droppedNoAssistant: number;
  tokens: number;
  assistantTokens: number;
}

const validRoles = new Set(['system', 'user', 'assistant']);

function checkMessages(messages: unknown, where: string): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw new ConfigError(`${where}: "messages" must be a non-empty array`);
  const checked = messages.map((message, i) => {
    const m = message as Record<string, unknown>;
    if (m === null || typeof m !== 'object' || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new ConfigError(`${where}: messages[${i}] must be {"role": string, "content": string}`);
    }
    if (!validRoles.has(m.role)) throw new ConfigError(`${where}: messages[${i}].role is '${m.role}'; expected system, user or assistant`);
    return { role: m.role, content: m.content };
  });
  if (!checked.some((m) => m.role === 'assistant')) throw new ConfigError(`${where}: no assistant message (nothing to learn)`);
  return checked;
}

/** One JSONL record (messages or alpaca style) as a conversation. */
export function conversationOf(record: unknown, where: string): ChatMessage[] {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new ConfigError(`${where}: expected a JSON object`);
  const r = record as Record<string, unknown>;
  if ('messages' in r) return checkMessages(r.messages, where);
  if (typeof r.instruction === 'string' && typeof r.output === 'string') {
    const input = typeof r.input === 'string' && r.input.trim() !== '' ? `\n\n${r.input}` : '';
    const messages: ChatMessage[] = [];
    if (typeof r.system === 'string' && r.system !== '') messages.push({ role: 'system', content: r.system });
    messages.push({ role: 'user', content: `${r.instruction}${input}` }, { role: 'assistant', content: r.output });
    return messages;
  }
  throw new ConfigError(`${where}: expected "messages" (chat) or "instruction" + "output" (alpaca) fields, got ${Object.keys(r).join(', ') || 'none'}`);
}

/** The conversations of a JSONL file; ConfigError naming file:line for a bad line. */
export function readConversations(file: string): ChatMessage[][] {
  if (!fs.existsSync(file)) throw new ConfigError(`SFT dataset ${file}: no such file`);
  const conversations: ChatMessage[][] = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file}:${index + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new ConfigError(`${where}: not valid JSON (${(error as Error).message})`);
    }
    conversations.push(conversationOf(record, where));
  });
  if (conversations.length === 0) throw new ConfigError(`SFT dataset ${file}: no conversations`);
  return conversations;
}

/** [start, end) character spans of the rendered conversation that the model learns, and the full text. */
export function assistantSpans(messages: readonly ChatMessage[], template: SftTemplate): { text: string; spans: Array<[number, number]> } {
  const render = (count: number, addGenerationPrompt: boolean): string =>
    applyChatTemplate(messages.slice(0, count), { template: template.template, variables: template.variables, addGenerationPrompt });
  const text = render(messages.length, false);
  const spans: Array<[number, number]> = [];
  messages.forEach((message, i) => {
    if (message.role !== 'assistant') return;
    const prompt = render(i, true);
    const through = render(i + 1, false);
    if (!through.startsWith(prompt) || !text.startsWith(through)) {
      throw new ConfigError('the chat template does not render conversations as prefixes of each other, so assistant turns cannot be located for loss masking');
    }
    spans.push([prompt.length, through.length]);
  });
  return { text, spans };
}

/** Token ids and labels of one conversation (before truncation). */
export function tokenizeConversation(messages: readonly ChatMessage[], tokenizer: TokenEncoder, template: SftTemplate): { inputIds: number[]; labels: number[] } {
  const { text, spans } = assistantSpans(messages, template);
  const inputIds: number[] = [];
  const labels: number[] = [];
  const push = (from: number, to: number, learned: boolean): void => {
    if (to <= from) return;
    for (const id of tokenizer.encode(text.slice(from, to))) {
      inputIds.push(id);
      labels.push(learned ? id : IGNORE_INDEX);
    }
  };
  let cursor = 0;
  for (const [start, end] of spans) {
    push(cursor, start, false);
    push(start, end, true);
    cursor = end;
  }
  push(cursor, text.length, false);
  return { inputIds, labels };
}

export interface SftDatasetOptions {
  tokenizer: TokenEncoder;
  template: SftTemplate;
  /** Longest sample in tokens; longer ones keep their first maxLength tokens (and are counted). */
  maxLength: number;
}

export class SftDataset {
  readonly samples: SftSample[];
  readonly stats: SftDatasetStats;

  private constructor(samples: SftSample[], stats: SftDatasetStats) {
    this.samples = samples;
    this.stats = stats;
  }

  static fromConversations(conversations: readonly ChatMessage[][], options: SftDatasetOptions): SftDataset {
    if (!Number.isSafeInteger(options.maxLength) || options.maxLength < 2) {
      throw new ConfigError(`maxLength is ${String(options.maxLength)}; expected an integer >= 2`);
    }
    const samples: SftSample[] = [];
    const stats: SftDatasetStats = { conversations: conversations.length, truncated: 0, droppedNoAssistant: 0, tokens: 0, assistantTokens: 0 };
    for (const messages of conversations) {
      const full = tokenizeConversation(messages, options.tokenizer, options.template);
      const truncated = full.inputIds.length > options.maxLength;
      const inputIds = full.inputIds.slice(0, options.maxLength);
      const labels = full.labels.slice(0, options.maxLength);
      if (truncated) stats.truncated++;
      // The first label is never scored (nothing predicts it), so a sample needs a learned token after position 0.
      const learned = labels.slice(1).filter((label) => label !== IGNORE_INDEX).length;
      if (learned === 0) {
        stats.droppedNoAssistant++;
        continue;
      }
      stats.tokens += inputIds.length;
      stats.assistantTokens += learned;
      samples.push({ inputIds, labels, truncated });
    }
    if (samples.length === 0) throw new ConfigError(`no sample keeps an assistant token within maxLength ${options.maxLength}: raise max_length`);
    return new SftDataset(samples, stats);
  }

  static fromFile(file: string, options: SftDatasetOptions): SftDataset {
    return SftDataset.fromConversations(readConversations(file), options);
  }
}

export interface SftBatch {
  inputIds: number[][];
  labels: number[][];
  attentionMask: number[][];
}

/** Right-pads samples to the longest: padding gets attention 0 and label −100. */
export function padSamples(samples: readonly SftSample[], padTokenId: number): SftBatch {
  const width = Math.max(...samples.map((s) => s.inputIds.length));
  const pad = (values: number[], fill: number): number[] => [...values, ...new Array<number>(width - values.length).fill(fill)];
  return {
    inputIds: samples.map((s) => pad(s.inputIds, padTokenId)),
    labels: samples.map((s) => pad(s.labels, IGNORE_INDEX)),
    attentionMask: samples.map((s) => pad(new Array<number>(s.inputIds.length).fill(1), 0)),
  };
}

/**
 * Packs samples, in order, into rows of at most maxLength tokens (a sample that does not fit starts a new row) and
 * right-pads the rows. Samples in one row attend to the ones before them (classic packing, as TRL's packing without
 * position resets); use padding when samples must not see each other.
 */
export function packSamples(samples: readonly SftSample[], maxLength: number, padTokenId: number): SftBatch {
  const rows: SftSample[] = [];
  let row: SftSample | null = null;
  for (const sample of samples) {
    if (row === null || row.inputIds.length + sample.inputIds.length > maxLength) {
      row = { inputIds: [], labels: [], truncated: false };
      rows.push(row);
    }
    row.inputIds.push(...sample.inputIds);
    // The first token of a packed sample must not be learned from the previous sample's last position.
    row.labels.push(row.labels.length === 0 ? sample.labels[0] : IGNORE_INDEX, ...sample.labels.slice(1));
  }
  return padSamples(rows, padTokenId);
}
