/**
 * The tokenizer contract every data path (token cache, packing, sampling) relies on. Three kinds back it: a byte-level
 * tokenizer for tiny runs, tiktoken rank files (OpenAI's encodings, Moonlight's tiktoken.model) and Hugging Face
 * tokenizer.json files.
 */
import { createHash } from 'crypto';
import type { TokenEncoder } from '../tokenizer_types';

export type TokenizerKind = 'byte' | 'tiktoken' | 'huggingface';

/** A loaded tokenizer: what the data pipeline needs (TokenEncoder), plus its kind and a way to free it. */
export interface Tokenizer extends TokenEncoder {
  readonly kind: TokenizerKind;
  /** Frees the WASM memory behind the tokenizer, where there is some. Safe to call more than once. */
  dispose(): void;
}

/** sha256 (hex) over the parts in order; each part is length-prefixed so that ('ab','c') and ('a','bc') differ. */
export function fingerprintOf(...parts: Array<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
