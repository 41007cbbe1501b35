/** File reading for tokenizer loading: every failure becomes a MoonlightError naming the path. */
import * as fs from 'fs';
import { ConfigError } from '../../errors';

export function readTextFile(path: string, what: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? error})`;
    throw new ConfigError(`${what} ${path} ${reason}`, { cause: error });
  }
}

/** Parses a JSON file that must hold an object. */
export function readJsonObject(path: string, what: string): Record<string, unknown> {
  const text = readTextFile(path, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${what} ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${what} ${path} must hold a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** The token text of a tokenizer_config.json entry such as eos_token: a string, or an AddedToken object's `content`. */
export function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}
