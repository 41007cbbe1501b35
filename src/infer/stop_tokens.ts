/**
 * Which token ids end a generated reply. Moonlight's tiktoken folders: <|im_end|> for Instruct models (their
 * generation_config.json says so, and the chat template closes every turn with it), [EOS] for base models, which have
 * no chat template (Moonlight-16B-A3B-Instruct's tokenizer_config.json and generation_config.json). Other folders: generation_config.json's eos_token_id (one id or a list,
 * as transformers' generate reads it), else the tokenizer's EOS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { readJsonObject } from '../data/tokenizer/files';
import type { Tokenizer } from '../data/tokenizer/types';
import { isMoonlightTiktokenFolder } from './chat_template';

export function stopTokenIdsFor(tokenizer: Tokenizer, modelDir: string): number[] {
  const configFile = path.join(modelDir, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? readJsonObject(configFile, 'tokenizer config') : {};
  if (isMoonlightTiktokenFolder(modelDir, config)) {
    // An Instruct folder has a chat template (and <|im_end|> among its specials); a base folder has neither.
    const endOfTurn = tokenizer.encode('<|im_end|>');
    const isInstruct = config.chat_template !== undefined && endOfTurn.length === 1;
    return isInstruct ? endOfTurn : [tokenizer.eosTokenId];
  }
  const generationFile = path.join(modelDir, 'generation_config.json');
  if (fs.existsSync(generationFile)) {
    const eos = readJsonObject(generationFile, 'generation config').eos_token_id;
    const ids = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos : [eos];
    if (!ids.every((id) => Number.isInteger(id) && (id as number) >= 0 && (id as number) < tokenizer.vocabSize)) {
      throw new ConfigError(`${generationFile}: eos_token_id must be a token id or a list of them below ${tokenizer.vocabSize}, got ${JSON.stringify(eos)}`);
    }
    if (ids.length > 0) return ids as number[];
  }
  return [tokenizer.eosTokenId];
}
