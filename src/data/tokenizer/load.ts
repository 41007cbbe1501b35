/** loadTokenizer(spec): from a name ('byte', 'gpt2', 'cl100k_base', …) or a path to a tokenizer file or folder. */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../../errors';
import { byteTokenizer } from './byte';
import { HuggingFaceTokenizer } from './huggingface';
import { configBeside, moonlightTiktokenTokenizer } from './moonlight';
import { NAMED_TIKTOKEN_ENCODINGS, isNamedTiktokenEncoding, namedTiktokenTokenizer } from './tiktoken';
import type { Tokenizer } from './types';

const ACCEPTED = `'byte', ${NAMED_TIKTOKEN_ENCODINGS.map((name) => `'${name}'`).join(', ')}, a tiktoken rank file (tiktoken.model, *.tiktoken), a Hugging Face tokenizer.json, or a folder holding tiktoken.model or tokenizer.json`;

/**
 * The tokenizer `spec` names:
 * - 'byte': UTF-8 bytes, EOS 256 (tiny runs; no files).
 * - an encoding shipped with npm `tiktoken` ('gpt2', 'r50k_base', 'p50k_base', 'p50k_edit', 'cl100k_base',
 *   'o200k_base'); EOS <|endoftext|>.
 * - a tiktoken rank file or a folder with tiktoken.model (Moonlight's HF layout): Moonlight's pattern and 258 special
 *   tokens from len(ranks), named by tokenizer_config.json's added_tokens_decoder when there is one; EOS [EOS].
 * - a tokenizer.json or a folder with one: EOS from tokenizer_config.json's eos_token, else the first of
 *   <|endoftext|>, </s>, <|end_of_text|> in the vocabulary.
 * A folder holding both files is read as tiktoken when its tokenizer_config.json names a TikToken tokenizer class.
 */
export async function loadTokenizer(spec: string): Promise<Tokenizer> {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ArgumentError(`loadTokenizer: spec must be a non-empty string, got ${JSON.stringify(spec)}; accepted: ${ACCEPTED}`);
  }
  if (spec === 'byte') return byteTokenizer();
  if (isNamedTiktokenEncoding(spec)) return namedTiktokenTokenizer(spec);

  let stats: fs.Stats;
  try {
    stats = fs.statSync(spec);
  } catch {
    if (looksLikePath(spec)) throw new ConfigError(`tokenizer path ${spec} does not exist; accepted: ${ACCEPTED}`);
    throw new ArgumentError(`unknown tokenizer ${JSON.stringify(spec)}: neither a known name nor an existing path; accepted: ${ACCEPTED}`);
  }
  if (stats.isDirectory()) return loadFolder(spec);
  return loadFile(spec);
}

function loadFile(file: string): Tokenizer {
  const base = path.basename(file);
  if (base === 'tokenizer_config.json') {
    throw new ConfigError(`tokenizer path ${file} is a tokenizer_config.json; give its folder, or the tokenizer.json / tiktoken.model beside it`);
  }
  if (base.endsWith('.json')) return new HuggingFaceTokenizer(file, file);
  if (base.endsWith('.model') || base.endsWith('.tiktoken')) return moonlightTiktokenTokenizer(file, configBeside(file), file);
  throw new ConfigError(`tokenizer file ${file} is neither a tokenizer.json (*.json) nor a tiktoken rank file (*.model, *.tiktoken); accepted: ${ACCEPTED}`);
}

function loadFolder(folder: string): Tokenizer {
  const rankFile = path.join(folder, 'tiktoken.model');
  const jsonFile = path.join(folder, 'tokenizer.json');
  const configFile = path.join(folder, 'tokenizer_config.json');
  const hasRanks = fs.existsSync(rankFile);
  const hasJson = fs.existsSync(jsonFile);
  if (hasRanks && (!hasJson || namesTiktokenClass(configFile))) return moonlightTiktokenTokenizer(rankFile, configFile, folder);
  if (hasJson) return new HuggingFaceTokenizer(jsonFile, folder);
  throw new ConfigError(`tokenizer folder ${folder} holds neither tiktoken.model nor tokenizer.json; accepted: ${ACCEPTED}`);
}

/** Whether tokenizer_config.json asks for a tiktoken tokenizer (Moonlight: auto_map → tokenization_moonshot.TikTokenTokenizer). */
function namesTiktokenClass(configFile: string): boolean {
  if (!fs.existsSync(configFile)) return false;
  try {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { tokenizer_class?: unknown; auto_map?: unknown };
    return /tiktoken/i.test(JSON.stringify([config.tokenizer_class ?? null, config.auto_map ?? null]));
  } catch {
    return false; // a broken config is reported by whichever loader reads it
  }
}

function looksLikePath(spec: string): boolean {
  return spec.includes('/') || spec.includes(path.sep) || spec.startsWith('.') || /\.(json|model|tiktoken)$/.test(spec);
}
