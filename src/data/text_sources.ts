/**
 * Where training text comes from: a file or folder of plain text, JSON Lines or parquet, read as a stream of
 * documents. Nothing here holds more than one document (text, JSONL) or one parquet row group at a time, so a
 * corpus larger than memory can be tokenised.
 *
 * Formats, by extension:
 * - `.txt`, `.md`: the whole file is one document;
 * - `.jsonl`, `.json`: JSON Lines, one document per line from the `textField` string field (blank lines skipped);
 * - `.parquet`: one document per row from the `textField` string column (e.g. Hugging Face datasets' `data/*.parquet`).
 *
 * A folder stands for every supported file under it, recursively, sorted by relative path (code-unit order, so
 * the same on every machine), skipping hidden entries and dataset cards (`README.md`), which describe a dataset
 * rather than belong to it. Empty documents ("" text) are skipped everywhere.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../errors';
import { readJsonlDocuments } from './jsonl_source';
import { readParquetDocuments } from './parquet_source';

export type SourceFormat = 'text' | 'jsonl' | 'parquet';

/** File extensions read as documents, and how. */
export const SUPPORTED_EXTENSIONS: Readonly<Record<string, SourceFormat>> = {
  '.txt': 'text',
  '.md': 'text',
  '.jsonl': 'jsonl',
  '.json': 'jsonl',
  '.parquet': 'parquet',
};

/** One input file of a dataset, with what identifies its version (token caches key on size and mtime). */
export interface SourceFile {
  /** Absolute path. */
  path: string;
  format: SourceFormat;
  sizeBytes: number;
  mtimeMs: number;
}

/** A dataset on disk: one path (file or folder) or several, in order. */
export type DocumentSource = string | readonly string[];

export interface ReadDocumentsOptions {
  /** The JSONL field / parquet column that holds the text. Default 'text'. */
  textField?: string;
  /** Called as the files are consumed: bytes read so far (parquet: estimated by rows) of the total size. */
  onBytes?: (bytesRead: number, totalBytes: number) => void;
}

export const DEFAULT_TEXT_FIELD = 'text';

function formatOf(file: string): SourceFormat | undefined {
  return SUPPORTED_EXTENSIONS[path.extname(file).toLowerCase()];
}

function supportedList(): string {
  return Object.keys(SUPPORTED_EXTENSIONS).join(', ');
}

async function sourceFileOf(file: string, format: SourceFormat): Promise<SourceFile> {
  const stat = await fs.promises.stat(file);
  return { path: file, format, sizeBytes: stat.size, mtimeMs: stat.mtimeMs };
}

// Every supported file under `folder`, as paths relative to it, sorted.
async function filesUnder(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.promises.readdir(path.join(folder, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && isDirectoryPath(path.join(folder, child)));
      if (isDirectory) await walk(child);
      else if (formatOf(entry.name) !== undefined && entry.name.toLowerCase() !== 'readme.md') found.push(child);
    }
  };
  await walk('');
  // Code-unit order, not localeCompare: the order (and so the token stream) must not depend on the locale.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function isDirectoryPath(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The files a source stands for, in reading order. ArgumentError when a path does not exist, is a file of an
 * unsupported type, or is a folder without supported files.
 */
export async function listSourceFiles(source: DocumentSource): Promise<SourceFile[]> {
  const paths = typeof source === 'string' ? [source] : [...source];
  if (paths.length === 0) throw new ArgumentError('the dataset source is an empty list of paths; expected at least one file or folder');
  const files: SourceFile[] = [];
  for (const given of paths) {
    if (typeof given !== 'string' || given === '') {
      throw new ArgumentError(`dataset paths must be non-empty strings, got ${JSON.stringify(given)}`);
    }
    const absolute = path.resolve(given);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(absolute);
    } catch {
      throw new ArgumentError(`dataset path ${absolute} does not exist; expected a file (${supportedList()}) or a folder of them`);
    }
    if (stat.isDirectory()) {
      const relatives = await filesUnder(absolute);
      if (relatives.length === 0) {
        throw new ArgumentError(
          `dataset folder ${absolute} holds no supported files; expected files ending in ${supportedList()} (searched recursively)`,
        );
      }
      for (const relative of relatives) {
        const file = path.join(absolute, relative);
        files.push(await sourceFileOf(file, formatOf(file)!));
      }
    } else {
      const format = formatOf(absolute);
      if (format === undefined) {
        throw new ArgumentError(`dataset file ${absolute} has an unsupported extension; expected one of ${supportedList()}`);
      }
      files.push(await sourceFileOf(absolute, format));
    }
  }
  return files;
}

function isSourceFileList(source: DocumentSource | readonly SourceFile[]): source is readonly SourceFile[] {
  return Array.isArray(source) && source.length > 0 && typeof source[0] === 'object';
}

/**
 * The documents of a dataset, in order, streamed. Accepts a path, a list of paths, or the files
 * listSourceFiles returned. ConfigError when no non-empty document is found, or a file's content is not what
 * its format needs (the message names the file, line or column, and what was expected).
 */
export async function* readDocuments(
  source: DocumentSource | readonly SourceFile[],
  options: ReadDocumentsOptions = {},
): AsyncGenerator<string, void, undefined> {
  const textField = options.textField ?? DEFAULT_TEXT_FIELD;
  if (typeof textField !== 'string' || textField === '') {
    throw new ArgumentError(`textField must be a non-empty string, got ${JSON.stringify(textField)}`);
  }
  const files = isSourceFileList(source) ? source : await listSourceFiles(source);
  const totalBytes = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  let bytesBeforeFile = 0;
  let documents = 0;
  for (const file of files) {
    const onFileBytes = (bytesInFile: number): void => options.onBytes?.(bytesBeforeFile + bytesInFile, totalBytes);
    for await (const document of documentsOf(file, textField, onFileBytes)) {
      if (document.length === 0) continue;
      documents++;
      yield document;
    }
    bytesBeforeFile += file.sizeBytes;
    options.onBytes?.(bytesBeforeFile, totalBytes);
  }
  if (documents === 0) {
    const names = files.length === 1 ? files[0].path : `${files.length} files (${files[0].path}, …)`;
    throw new ConfigError(
      `dataset ${names} has no non-empty document; expected text files with text, JSONL lines or parquet rows ` +
        `with a non-empty "${textField}" field`,
    );
  }
}

function documentsOf(file: SourceFile, textField: string, onBytes: (bytesInFile: number) => void): AsyncIterable<string> {
  switch (file.format) {
    case 'text':
      return readTextDocument(file.path);
    case 'jsonl':
      return readJsonlDocuments(file.path, textField, onBytes);
    case 'parquet':
      return readParquetDocuments(file.path, textField, (rowsRead, numRows) =>
        onBytes(numRows === 0 ? file.sizeBytes : Math.round((file.sizeBytes * rowsRead) / numRows)),
      );
  }
}

async function* readTextDocument(file: string): AsyncGenerator<string> {
  yield await fs.promises.readFile(file, 'utf8');
}
