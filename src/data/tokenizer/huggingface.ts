/**
 * Tokenizers from Hugging Face tokenizer.json files (Qwen2, Llama 3, SentencePiece-converted BPE, …), run by
 * `@huggingface/tokenizers` (pure JS). Ids match Python `tokenizers` with add_special_tokens=False: our encode adds no
 * BOS/EOS, the data pipeline places EOS itself.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import * as fs from 'fs';
import { ArgumentError, ConfigError, DisposedError } from '../../errors';
import { readJsonObject, readTextFile, tokenContent } from './files';
import { configBeside } from './moonlight';
import { fingerprintOf, type Tokenizer } from './types';

/** Tried in order when tokenizer_config.json names no eos_token: GPT-2/Qwen2, SentencePiece, Llama 3. */
export const EOS_FALLBACKS = ['<|endoftext|>', '</s>', '<|end_of_text|>'] as const;

// tokenizer_config.json keys the JS library would honour but Python `tokenizers` (and transformers' fast tokenizers)
// ignore; dropped so that ids stay those of the Rust implementation.
const SLOW_TOKENIZER_KEYS = ['remove_space', 'do_lowercase_and_remove_accent'];

export class HuggingFaceTokenizer implements Tokenizer {
  readonly kind = 'huggingface' as const;
  readonly name: string;
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly fingerprint: string;
  private core: HfTokenizer | null;

  /** `file` is a tokenizer.json; a tokenizer_config.json beside it is read for eos_token. */
  constructor(file: string, name: string) {
    const jsonText = readTextFile(file, 'tokenizer.json');
    let json: unknown;
    try {
      json = JSON.parse(jsonText);
    } catch (error) {
      throw new ConfigError(`tokenizer.json ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`tokenizer.json ${file} must hold a JSON object`);
    const model = (json as { model?: unknown }).model;
    if (typeof model !== 'object' || model === null || typeof (model as { vocab?: unknown }).vocab !== 'object') {
      throw new ConfigError(`tokenizer.json ${file} has no "model" with a "vocab": not a Hugging Face tokenizers file`);
    }
    if (!Array.isArray((json as { added_tokens?: unknown }).added_tokens)) (json as { added_tokens: unknown[] }).added_tokens = [];

    const configFile = configBeside(file);
    const config = fs.existsSync(configFile) ? readJsonObject(configFile, 'tokenizer config') : {};
    const libraryConfig: Record<string, unknown> = { ...config };
    for (const key of SLOW_TOKENIZER_KEYS) delete libraryConfig[key];
    for (const key of ['eos_token', 'bos_token', 'unk_token', 'pad_token']) {
      if (libraryConfig[key] !== undefined) libraryConfig[key] = tokenContent(libraryConfig[key]) ?? null;
    }

    let core: HfTokenizer;
    try {
      core = new HfTokenizer(json, libraryConfig);
    } catch (error) {
      throw new ConfigError(`tokenizer.json ${file} cannot be loaded: ${(error as Error).message}`, { cause: error });
    }

    matchRustByteFallback(core.decoder);

    let maxId = -1;
    for (const id of core.get_vocab(true).values()) if (id > maxId) maxId = id;
    if (maxId < 0) throw new ConfigError(`tokenizer.json ${file} has an empty vocabulary`);

    const eosToken = resolveEosToken(core, config, file, configFile);
    this.name = name;
    this.vocabSize = maxId + 1;
    this.eosTokenId = core.token_to_id(eosToken)!;
    this.fingerprint = fingerprintOf('huggingface', jsonText, JSON.stringify(libraryConfig), eosToken);
    this.core = core;
  }

  encode(text: string): number[] {
    const core = this.live('encode');
    if (typeof text !== 'string') throw new ArgumentError(`${this.name} encode: text must be a string, got ${typeof text}`);
    if (text === '') return [];
    return core.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: ArrayLike<number>): string {
    const core = this.live('decode');
    const tokens: number[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || core.id_to_token(id) === undefined) {
        throw new ArgumentError(`${this.name} decode: ids[${i}] = ${id} is not a token id of this vocabulary (size ${this.vocabSize})`);
      }
      tokens[i] = id;
    }
    if (tokens.length === 0) return ''; // the library rejects an empty list
    // No clean-up of spaces before punctuation: decode(encode(text)) must give the text back, as in Python `tokenizers`.
    return core.decode(tokens, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** Pure JS: nothing to free; later calls fail like the WASM-backed kinds do. */
  dispose(): void {
    this.core = null;
  }

  private live(method: string): HfTokenizer {
    if (this.core === null) throw new DisposedError(`${this.name} tokenizer: ${method} called after dispose()`);
    return this.core;
  }
}

/**
 * The library's ByteFallback decoder turns each run of <0xNN> tokens into text with a default TextDecoder, which
 * (unlike Rust `tokenizers`) drops a leading U+FEFF and replaces a truncated character with one U+FFFD where Rust's
 * `String::from_utf8` failure path writes one U+FFFD per byte token. Swap in Rust's behaviour, in nested Sequence
 * decoders too, so decode matches Python `tokenizers`.
 */
function matchRustByteFallback(decoder: unknown): void {
  // The library's components are callable objects: typeof 'function'.
  if ((typeof decoder !== 'object' && typeof decoder !== 'function') || decoder === null) return;
  const node = decoder as { config?: { type?: unknown }; decoders?: unknown[]; text_decoder?: unknown };
  if (Array.isArray(node.decoders)) for (const child of node.decoders) matchRustByteFallback(child);
  if (node.config?.type !== 'ByteFallback' || node.text_decoder === undefined) return;
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  node.text_decoder = {
    decode(bytes: Uint8Array): string {
      try {
        return strict.decode(bytes);
      } catch {
        return '\ufffd'.repeat(bytes.length);
      }
    },
  };
}

function resolveEosToken(core: HfTokenizer, config: Record<string, unknown>, file: string, configFile: string): string {
  if (config.eos_token !== undefined && config.eos_token !== null) {
    const eos = tokenContent(config.eos_token);
    if (eos === undefined) throw new ConfigError(`${configFile}: eos_token must be a string or {content: string}`);
    if (core.token_to_id(eos) === undefined) throw new ConfigError(`${configFile}: eos_token ${JSON.stringify(eos)} is not in ${file}'s vocabulary`);
    return eos;
  }
  for (const candidate of EOS_FALLBACKS) if (core.token_to_id(candidate) !== undefined) return candidate;
  throw new ConfigError(
    `tokenizer.json ${file}: cannot tell which token ends a document: ${fs.existsSync(configFile) ? `${configFile} has no eos_token` : `there is no ${configFile}`} and none of ${EOS_FALLBACKS.join(', ')} is in the vocabulary. Set it with {"eos_token": "<token>"} in ${configFile}`,
  );
}
