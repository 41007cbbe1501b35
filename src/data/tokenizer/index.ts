/** Tokenizers for training data: byte-level, tiktoken (OpenAI encodings, Moonlight's tiktoken.model), Hugging Face tokenizer.json. */
export type { Tokenizer, TokenizerKind } from './types';
export { loadTokenizer } from './load';
export { byteTokenizer } from './byte';
export { MOONLIGHT_PATTERN, MOONLIGHT_SPECIAL_COUNT, MOONLIGHT_EOS } from './moonlight';
export { NAMED_TIKTOKEN_ENCODINGS } from './tiktoken';
