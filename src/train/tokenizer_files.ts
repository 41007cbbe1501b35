/**
 * The tokenizer and chat-template files a Hugging Face model folder may carry: the one list that both decides
 * whether a folder has a tokenizer of its own and says what is copied next to weights saved from it.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Each file, and whether it holds a vocabulary that loadTokenizer(folder) reads. */
const tokenizerFiles: ReadonlyArray<{ file: string; vocabulary: boolean }> = [
  { file: 'tokenizer.json', vocabulary: true },
  { file: 'tiktoken.model', vocabulary: true },
  { file: 'tokenizer_config.json', vocabulary: false },
  { file: 'special_tokens_map.json', vocabulary: false },
  { file: 'tokenizer.model', vocabulary: false },
  { file: 'vocab.json', vocabulary: false },
  { file: 'merges.txt', vocabulary: false },
  { file: 'added_tokens.json', vocabulary: false },
  { file: 'chat_template.jinja', vocabulary: false },
  { file: 'chat_template.json', vocabulary: false },
  // Moonlight's remote-code tokenizer wrapper, which its tokenizer_config.json names
  { file: 'tokenization_moonshot.py', vocabulary: false },
];

/** Whether `folder` is a directory holding a vocabulary loadTokenizer can read. */
export function folderHasTokenizer(folder: string): boolean {
  return fs.existsSync(folder) && fs.statSync(folder).isDirectory() &&
    tokenizerFiles.some(({ file, vocabulary }) => vocabulary && fs.existsSync(path.join(folder, file)));
}

/** Copies the tokenizer files `fromDir` has into `toDir`; returns the paths written. */
export function copyTokenizerFiles(fromDir: string, toDir: string): string[] {
  const copied: string[] = [];
  for (const { file } of tokenizerFiles) {
    const source = path.join(fromDir, file);
    if (!fs.existsSync(source)) continue;
    fs.copyFileSync(source, path.join(toDir, file));
    copied.push(path.join(toDir, file));
  }
  return copied;
}
