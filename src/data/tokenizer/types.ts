/**
 * The tokenizer contract every data path (token cache, packing, sampling) relies on. Three kinds back it: a byte-level
 * tokenizer for tiny runs, tiktoken rank files (OpenAI's encodings, Moonlight's tiktoken.model) and Hugging Face
 * tokenizer.json files.
 */
import { createHash } from 'crypto';

export type TokenizerKind = 'byte' | 'tiktoken' | 'huggingface';

export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** 'byte', the encoding name ('gpt2', 'cl100k_base', …), or the file or folder it was loaded from. */
  readonly name: string;
  /** Every id encode produces is < vocabSize; special tokens included. */
  readonly vocabSize: number;
  /** The id placed between documents when they are packed into training sequences. */
  readonly eosTokenId: number;
  /** sha256 (hex) of what decides the ids: vocabulary, pre-tokenizer pattern, special tokens, EOS. Token caches key on it. */
  readonly fingerprint: string;
  /** Ids of `text`. Adds no BOS/EOS; special-token strings that occur in `text` become their ids. */
  encode(text: string): number[];
  /** Text of `ids`; invalid UTF-8 becomes U+FFFD as TextDecoder does. */
  decode(ids: ArrayLike<number>): string;
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
