/**
 * Tokenizers backed by the npm `tiktoken` package (the WASM build of OpenAI's Rust tiktoken core): OpenAI's encodings
 * shipped inside the package, and tiktoken rank files such as Moonlight's tiktoken.model.
 *
 * The WASM core aborts ("unreachable") instead of throwing on bad input (a malformed rank line, an unknown id in
 * decode, a byte with no rank), so everything it is given is checked here first.
 */
import { Tiktoken } from 'tiktoken';
import { ArgumentError, ConfigError, DisposedError } from '../../errors';
import { splitForTiktoken } from './chunking';
import { readJsonObject } from './files';
import { fingerprintOf, type Tokenizer } from './types';

/** What a tiktoken tokenizer is built from; `ranks` is text the WASM core parses (checked beforehand). */
export interface TiktokenDefinition {
  name: string;
  ranks: string;
  /** Ids the ranks define (ranks may have gaps: cl100k_base's specials start after a hole). */
  rankIds: Iterable<number>;
  pattern: string;
  specialTokens: Record<string, number>;
  eosToken: string;
  /** Where the definition came from, for error messages. */
  source: string;
}

export class TiktokenTokenizer implements Tokenizer {
  readonly kind = 'tiktoken' as const;
  readonly name: string;
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly fingerprint: string;
  private core: Tiktoken | null;
  /** validIds[id] = 1 for every rank and special id: decode checks ids against it so the WASM core never aborts. */
  private readonly validIds: Uint8Array;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(definition: TiktokenDefinition) {
    const { name, ranks, pattern, specialTokens, eosToken, source } = definition;
    const eosTokenId = specialTokens[eosToken];
    if (eosTokenId === undefined) {
      throw new ConfigError(
        `${source}: EOS token ${JSON.stringify(eosToken)} is not one of its special tokens (${Object.keys(specialTokens).slice(0, 12).join(', ')}${Object.keys(specialTokens).length > 12 ? ', …' : ''})`,
      );
    }
    let maxId = -1;
    const ids: number[] = [];
    for (const id of definition.rankIds) {
      ids.push(id);
      if (id > maxId) maxId = id;
    }
    for (const id of Object.values(specialTokens)) if (id > maxId) maxId = id;
    const validIds = new Uint8Array(maxId + 1);
    for (const id of ids) validIds[id] = 1;
    for (const [token, id] of Object.entries(specialTokens)) {
      if (validIds[id] === 1) throw new ConfigError(`${source}: special token ${token} has id ${id}, which a rank already uses`);
      validIds[id] = 1;
    }
    this.name = name;
    this.vocabSize = maxId + 1; // as Python tiktoken's n_vocab: max token value + 1
    this.eosTokenId = eosTokenId;
    this.validIds = validIds;
    const sortedSpecials = Object.entries(specialTokens).sort((a, b) => a[1] - b[1]);
    this.fingerprint = fingerprintOf('tiktoken', ranks, pattern, JSON.stringify(sortedSpecials), eosToken);
    this.core = new Tiktoken(ranks, specialTokens, pattern);
  }

  encode(text: string): number[] {
    const core = this.live('encode');
    if (typeof text !== 'string') throw new ArgumentError(`${this.name} encode: text must be a string, got ${typeof text}`);
    const ids: number[] = [];
    for (const piece of splitForTiktoken(text)) {
      // 'all': special-token strings in the text become their ids, as Moonlight's wrapper encodes.
      const pieceIds = core.encode(piece, 'all');
      for (let i = 0; i < pieceIds.length; i++) ids.push(pieceIds[i]);
    }
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    const core = this.live('decode');
    const tokens = new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.validIds[id] !== 1) {
        throw new ArgumentError(`${this.name} decode: ids[${i}] = ${id} is not a token id of this vocabulary (size ${this.vocabSize})`);
      }
      tokens[i] = id;
    }
    return this.utf8.decode(core.decode(tokens));
  }

  dispose(): void {
    this.core?.free();
    this.core = null;
  }

  private live(method: string): Tiktoken {
    if (this.core === null) throw new DisposedError(`${this.name} tokenizer: ${method} called after dispose()`);
    return this.core;
  }
}

/** The encodings whose ranks ship inside the npm tiktoken package (tiktoken/encoders/<name>.json). */
export const NAMED_TIKTOKEN_ENCODINGS = ['gpt2', 'r50k_base', 'p50k_base', 'p50k_edit', 'cl100k_base', 'o200k_base'] as const;
export type NamedTiktokenEncoding = (typeof NAMED_TIKTOKEN_ENCODINGS)[number];

export function isNamedTiktokenEncoding(spec: string): spec is NamedTiktokenEncoding {
  return (NAMED_TIKTOKEN_ENCODINGS as readonly string[]).includes(spec);
}

export function namedTiktokenTokenizer(encoding: NamedTiktokenEncoding): TiktokenTokenizer {
  const file = require.resolve(`tiktoken/encoders/${encoding}.json`);
  const data = readJsonObject(file, `tiktoken encoding ${encoding}:`);
  const { bpe_ranks: ranks, pat_str: pattern, special_tokens: specialTokens } = data;
  if (typeof ranks !== 'string' || typeof pattern !== 'string' || typeof specialTokens !== 'object' || specialTokens === null) {
    throw new ConfigError(`tiktoken encoding ${encoding}: ${file} lacks bpe_ranks, pat_str or special_tokens`);
  }
  return new TiktokenTokenizer({
    name: encoding,
    ranks,
    rankIds: compressedRankIds(ranks, file),
    pattern,
    specialTokens: specialTokens as Record<string, number>,
    eosToken: '<|endoftext|>',
    source: file,
  });
}

/** Ids in the npm package's compressed rank format: lines "! <first rank> <b64> <b64> …" of consecutive ranks. */
function* compressedRankIds(ranks: string, file: string): Generator<number> {
  for (const line of ranks.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const first = Number(fields[1]);
    if (fields[0] !== '!' || !Number.isInteger(first)) throw new ConfigError(`${file}: unexpected bpe_ranks line "${line.slice(0, 40)}…"`);
    for (let offset = 0; offset < fields.length - 2; offset++) yield first + offset;
  }
}
