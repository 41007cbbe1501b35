/**
 * tiktoken rank files (`base64(token bytes) rank` per line) with Moonlight's tokenizer around them: its pre-tokenizer
 * pattern, its 258 special tokens numbered from len(ranks), EOS = [EOS]. This is what Moonlight's
 * TikTokenTokenizer (tokenization_moonshot.py) builds from an HF folder's tiktoken.model + tokenizer_config.json;
 * see moonshotai/Moonlight-16B-A3B on Hugging Face (tokenization_moonshot.py, tokenizer_config.json).
 *
 * A rank file without a tokenizer_config.json beside it gets the same pattern and Moonlight's default special-token
 * table (below), shifted to start at its own len(ranks): there is no other convention to fall back on.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../errors';
import { readJsonObject, readTextFile, tokenContent } from './files';
import { TiktokenTokenizer } from './tiktoken';

/** Moonlight's pat_str, alternative by alternative, as written in tokenization_moonshot.py (Rust regex syntax). */
export const MOONLIGHT_PATTERN = [
  String.raw`[\p{Han}]+`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join('|');

/** num_reserved_special_tokens (256) + 2: Moonlight's wrapper registers ids len(ranks) .. len(ranks) + 257. */
export const MOONLIGHT_SPECIAL_COUNT = 258;

/**
 * Moonlight-16B-A3B-Instruct's named specials (added_tokens_decoder), as offsets from len(ranks) = 163584:
 * [BOS] 163584, [EOS] 163585, <|im_end|> 163586, … [PAD] 163838, [UNK] 163839. The rest are <|reserved_token_{id}|>.
 */
export const MOONLIGHT_NAMED_SPECIALS: ReadonlyArray<readonly [offset: number, token: string]> = [
  [0, '[BOS]'],
  [1, '[EOS]'],
  [2, '<|im_end|>'],
  [3, '<|im_user|>'],
  [4, '<|im_assistant|>'],
  [10, '<|im_system|>'],
  [17, '<|im_middle|>'],
  [254, '[PAD]'],
  [255, '[UNK]'],
];

export const MOONLIGHT_EOS = '[EOS]';

/** A rank file parsed and checked: canonical text for the WASM core, the rank ids, the number of ranks. */
export interface RankFile {
  canonicalText: string;
  ranks: number[];
}

/**
 * Parses `base64 rank` lines (blank lines skipped, as Python's load_tiktoken_bpe does) and checks what the WASM core
 * would abort on: malformed lines, duplicate ranks or tokens, and a missing single byte (every byte needs a rank, or
 * text containing it cannot be encoded).
 */
export function parseRankFile(file: string): RankFile {
  const text = readTextFile(file, 'tiktoken rank file');
  const lines = text.split('\n');
  const canonical: string[] = [];
  const ranks: number[] = [];
  const rankSeen = new Set<number>();
  const tokenSeen = new Map<string, number>();
  const singleBytes = new Uint8Array(256);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === '') continue;
    const where = `${file} line ${index + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      throw new ConfigError(`${where}: expected "<base64 token bytes> <rank>", found ${JSON.stringify(line.slice(0, 80))}`);
    }
    const [token, rankText] = fields;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 !== 0) {
      throw new ConfigError(`${where}: ${JSON.stringify(token.slice(0, 80))} is not base64`);
    }
    if (!/^\d+$/.test(rankText) || Number(rankText) > 0xffffffff) {
      throw new ConfigError(`${where}: rank ${JSON.stringify(rankText)} is not a non-negative 32-bit integer`);
    }
    const rank = Number(rankText);
    if (rankSeen.has(rank)) throw new ConfigError(`${where}: rank ${rank} appears twice`);
    const bytes = Buffer.from(token, 'base64');
    const key = bytes.toString('latin1');
    const earlier = tokenSeen.get(key);
    if (earlier !== undefined) throw new ConfigError(`${where}: token ${token} repeats line ${earlier}`);
    rankSeen.add(rank);
    tokenSeen.set(key, index + 1);
    if (bytes.length === 1) singleBytes[bytes[0]] = 1;
    ranks.push(rank);
    canonical.push(`${token} ${rank}`);
  }
  if (ranks.length === 0) throw new ConfigError(`tiktoken rank file ${file} has no rank lines`);
  const missing = [...singleBytes.keys()].filter((byte) => singleBytes[byte] === 0);
  if (missing.length > 0) {
    throw new ConfigError(
      `tiktoken rank file ${file} has no rank for ${missing.length} single byte(s) (${missing.slice(0, 8).map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')}${missing.length > 8 ? ', …' : ''}): every byte value needs one`,
    );
  }
  return { canonicalText: canonical.join('\n') + '\n', ranks };
}

/**
 * Moonlight's special tokens for a rank file of `rankCount` ranks: ids rankCount .. rankCount + 257, named from
 * `added_tokens_decoder` (ids as strings → {content}) when given, else from Moonlight's default table.
 */
export function moonlightSpecialTokens(rankCount: number, addedTokensDecoder: unknown, configFile?: string): Record<string, number> {
  const names = new Map<number, string>();
  if (addedTokensDecoder === undefined || addedTokensDecoder === null) {
    for (const [offset, token] of MOONLIGHT_NAMED_SPECIALS) names.set(rankCount + offset, token);
  } else {
    if (typeof addedTokensDecoder !== 'object' || Array.isArray(addedTokensDecoder)) {
      throw new ConfigError(`${configFile}: added_tokens_decoder must be an object of id → {content}`);
    }
    for (const [idText, entry] of Object.entries(addedTokensDecoder as Record<string, unknown>)) {
      const id = Number(idText);
      const content = tokenContent(entry);
      if (!Number.isInteger(id) || content === undefined) {
        throw new ConfigError(`${configFile}: added_tokens_decoder["${idText}"] must be an integer id mapping to {content: string}`);
      }
      if (id < rankCount || id >= rankCount + MOONLIGHT_SPECIAL_COUNT) {
        throw new ConfigError(
          `${configFile}: added_tokens_decoder id ${id} (${content}) is outside the special-token ids ${rankCount}..${rankCount + MOONLIGHT_SPECIAL_COUNT - 1} that the rank file's ${rankCount} ranks imply; do tiktoken.model and tokenizer_config.json belong together?`,
        );
      }
      names.set(id, content);
    }
  }
  const specials: Record<string, number> = {};
  for (let id = rankCount; id < rankCount + MOONLIGHT_SPECIAL_COUNT; id++) {
    const token = names.get(id) ?? `<|reserved_token_${id}|>`;
    if (token in specials) throw new ConfigError(`${configFile ?? 'Moonlight special tokens'}: ${token} is given two ids (${specials[token]} and ${id})`);
    specials[token] = id;
  }
  return specials;
}

/**
 * A Moonlight-style tiktoken tokenizer from a rank file; `configFile` (tokenizer_config.json) is read when it exists:
 * added_tokens_decoder names the specials, eos_token picks EOS (default [EOS]).
 */
export function moonlightTiktokenTokenizer(rankFile: string, configFile: string | undefined, name: string): TiktokenTokenizer {
  const { canonicalText, ranks } = parseRankFile(rankFile);
  // Moonlight numbers specials from len(ranks), so ranks must be exactly 0..N-1 or ids would collide or leave holes.
  const sorted = [...ranks].sort((a, b) => a - b);
  const hole = sorted.findIndex((rank, index) => rank !== index);
  if (hole !== -1) {
    throw new ConfigError(`tiktoken rank file ${rankFile}: ranks must be 0..${ranks.length - 1} (Moonlight numbers special tokens from the rank count), but rank ${hole} is missing`);
  }
  let config: Record<string, unknown> = {};
  if (configFile !== undefined && fs.existsSync(configFile)) config = readJsonObject(configFile, 'tokenizer config');
  const specialTokens = moonlightSpecialTokens(ranks.length, config.added_tokens_decoder, configFile);
  const eosToken = config.eos_token === undefined || config.eos_token === null ? MOONLIGHT_EOS : tokenContent(config.eos_token);
  if (eosToken === undefined) throw new ConfigError(`${configFile}: eos_token must be a string or {content: string}`);
  return new TiktokenTokenizer({
    name,
    ranks: canonicalText,
    rankIds: ranks,
    pattern: MOONLIGHT_PATTERN,
    specialTokens,
    eosToken,
    source: configFile !== undefined && fs.existsSync(configFile) ? `${rankFile} with ${configFile}` : rankFile,
  });
}

/** tokenizer_config.json beside a rank or tokenizer.json file. */
export function configBeside(file: string): string {
  return path.join(path.dirname(file), 'tokenizer_config.json');
}
