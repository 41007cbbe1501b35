/**
 * Multiple-choice task files (JSONL, one item per line) and the prompts built from them.
 *
 * Accepted line shapes:
 * - MMLU style `{"question": str, "choices": [str, …], "answer": int}` → context "Question: {question}\nAnswer:",
 *   each choice scored as the continuation " {choice}" (lm-eval's MMLU-style doc_to_text and target delimiter).
 * - HellaSwag style `{"ctx": str, "endings": [str, …], "label": int | "int"}` → context "{ctx}", continuations
 *   " {ending}" (the preprocessing HellaSwag's lm-eval task applies to ctx/endings is left to whoever writes the file).
 * Few-shot prompts prepend k solved items (context + " " + correct choice) joined by "\n\n", as lm-eval's
 * fewshot_delimiter; the k items are chosen per item by a seeded permutation of the other items.
 */
import { ArgumentError, ConfigError } from '../errors';
import { readTextFile } from '../data/tokenizer/files';
import { seededPermutation } from '../data/shuffle';

export interface MultipleChoiceItem {
  /** The prompt text before a choice (no few-shot prefix). */
  context: string;
  /** The choice texts without the delimiter. */
  choices: string[];
  /** Index of the correct choice. */
  answer: number;
  /** file:line the item came from. */
  source: string;
}

export const TARGET_DELIMITER = ' ';
export const FEWSHOT_DELIMITER = '\n\n';

/** Reads and checks a task file; every problem is a ConfigError naming file:line and the field. */
export function readMultipleChoiceTask(file: string): MultipleChoiceItem[] {
  const lines = readTextFile(file, 'task file').split('\n');
  const items: MultipleChoiceItem[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ConfigError(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    items.push(itemOf(value, where));
  });
  if (items.length === 0) throw new ConfigError(`task file ${file} has no items`);
  return items;
}

function itemOf(value: unknown, where: string): MultipleChoiceItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}: expected a JSON object, found ${JSON.stringify(value)?.slice(0, 60)}`);
  const record = value as Record<string, unknown>;
  const mmlu = 'question' in record || 'choices' in record;
  const [textKey, choicesKey, answerKey] = mmlu ? ['question', 'choices', 'answer'] : ['ctx', 'endings', 'label'];
  if (!mmlu && !('ctx' in record)) throw new ConfigError(`${where}: expected {"question", "choices", "answer"} or {"ctx", "endings", "label"}, found keys ${Object.keys(record).join(', ') || 'none'}`);
  const text = record[textKey];
  if (typeof text !== 'string') throw new ConfigError(`${where}: "${textKey}" must be a string`);
  const choices = record[choicesKey];
  if (!Array.isArray(choices) || choices.length < 2 || !choices.every((choice) => typeof choice === 'string' && choice !== '')) {
    throw new ConfigError(`${where}: "${choicesKey}" must be an array of at least 2 non-empty strings`);
  }
  // HellaSwag's published files store the label as a string ("3").
  const rawAnswer = record[answerKey];
  const answer = typeof rawAnswer === 'string' && /^\d+$/.test(rawAnswer) ? Number(rawAnswer) : rawAnswer;
  if (typeof answer !== 'number' || !Number.isInteger(answer) || answer < 0 || answer >= choices.length) {
    throw new ConfigError(`${where}: "${answerKey}" must be an integer index into the ${choices.length} ${choicesKey}, got ${JSON.stringify(rawAnswer)}`);
  }
  const context = mmlu ? `Question: ${text}\nAnswer:` : text;
  return { context, choices: choices as string[], answer, source: where };
}

/**
 * The prompt for item `index`: `fewShot` other items, solved, then the item's context. The examples are the first
 * `fewShot` indices ≠ index of seededPermutation(items, seed, index): the same for the same (file, seed) everywhere.
 */
export function fewShotContext(items: readonly MultipleChoiceItem[], index: number, fewShot: number, seed: number): string {
  if (!Number.isInteger(fewShot) || fewShot < 0) throw new ArgumentError(`fewShot must be a non-negative integer, got ${fewShot}`);
  if (fewShot > items.length - 1) throw new ArgumentError(`fewShot ${fewShot} needs more items than the task's ${items.length} (the scored item is never its own example)`);
  if (fewShot === 0) return items[index].context;
  const examples: string[] = [];
  for (const other of seededPermutation(items.length, seed, index)) {
    if (examples.length === fewShot) break;
    if (other === index) continue;
    const example = items[other];
    examples.push(example.context + TARGET_DELIMITER + example.choices[example.answer]);
  }
  return examples.join(FEWSHOT_DELIMITER) + FEWSHOT_DELIMITER + items[index].context;
}
