/**
 * The token cache: a corpus tokenised once and kept on disk as raw token ids, reused by every later run.
 *
 * Layout in the cache folder, per dataset version and tokenizer:
 * - `<key>.tokens`: every document's ids followed by EOS (`doc0 EOS doc1 EOS …`), little-endian uint16 when
 *   the vocabulary fits (≤ 65536 ids), else uint32;
 * - `<key>.json`: the sidecar (TokenCacheSidecar) describing it.
 * key = sha256 over the format version, the source files (path, size, mtime), the text field and the
 * tokenizer (fingerprint, vocabulary size, EOS): an edited source file or another tokenizer is another key.
 *
 * Crash safety: both files are written to temporaries in the same folder, fsynced and renamed, the sidecar
 * last. A cache is trusted only when its sidecar exists, matches the key and format, and the token file has
 * exactly the size the sidecar promises; anything else is rebuilt. Temporaries of dead builds are removed.
 *
 * Tokenising streams: one document (or parquet row group) and one 4 MiB chunk of ids are in memory at a time.
 */
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processIsAlive } from '../io/atomic_file';
import { ArgumentError, ConfigError, DisposedError } from '../errors';
import { native } from '../native';
import type { NativeTokenCacheHandle } from '../native';
import { Tensor } from '../tensor/tensor';
import { DEFAULT_TEXT_FIELD, listSourceFiles, readDocuments, type DocumentSource, type SourceFile } from './text_sources';
import type { TokenEncoder } from './tokenizer_types';

/** Bumped whenever the layout of `.tokens` / `.json` changes: old caches then get new keys. */
export const TOKEN_CACHE_FORMAT_VERSION = 1;

export type TokenDType = 'uint16' | 'uint32';

export interface TokenCacheSidecar {
  formatVersion: number;
  key: string;
  dtype: TokenDType;
  numTokens: number;
  numDocuments: number;
  tokenizer: { name: string; fingerprint: string; vocabSize: number; eosTokenId: number };
  textField: string;
  sources: Array<{ path: string; sizeBytes: number; mtimeMs: number }>;
  /** ISO 8601. */
  createdAt: string;
}

/** Progress of a build: documents and tokens so far, bytes of the source files read of their total size. */
export type TokenizeProgress = (documents: number, tokens: number, bytesRead: number, totalBytes: number) => void;

export interface PrepareTokenCacheOptions {
  tokenizer: TokenEncoder;
  /** Default: $MOONLIGHT_CACHE_DIR, else ~/.cache/moonlight-torch/tokens. */
  cacheDir?: string;
  /** JSONL field / parquet column holding the text. Default 'text'. */
  textField?: string;
  onProgress?: TokenizeProgress;
}

export interface PreparedTokenCache {
  /** The `.tokens` file. */
  tokensPath: string;
  sidecarPath: string;
  sidecar: TokenCacheSidecar;
  /** true when an existing cache was used (nothing was tokenised). */
  reused: boolean;
}

const CHUNK_TOKENS = 1 << 20;

export function defaultCacheDir(): string {
  return process.env.MOONLIGHT_CACHE_DIR
    ? path.resolve(process.env.MOONLIGHT_CACHE_DIR)
    : path.join(os.homedir(), '.cache', 'moonlight-torch', 'tokens');
}

export function tokenDTypeFor(vocabSize: number): TokenDType {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

export function bytesPerToken(dtype: TokenDType): number {
  return dtype === 'uint16' ? 2 : 4;
}

function checkTokenizer(tokenizer: TokenEncoder): void {
  if (typeof tokenizer !== 'object' || tokenizer === null || typeof tokenizer.encode !== 'function') {
    throw new ArgumentError('tokenizer must be a TokenEncoder (name, vocabSize, eosTokenId, fingerprint, encode, decode)');
  }
  const { vocabSize, eosTokenId, fingerprint } = tokenizer;
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 32) {
    throw new ArgumentError(`tokenizer ${tokenizer.name}: vocabSize must be an integer in [1, 2^32], got ${vocabSize}`);
  }
  if (!Number.isInteger(eosTokenId) || eosTokenId < 0 || eosTokenId >= vocabSize) {
    throw new ArgumentError(`tokenizer ${tokenizer.name}: eosTokenId ${eosTokenId} is not an id below vocabSize ${vocabSize}`);
  }
  if (typeof fingerprint !== 'string' || fingerprint === '') {
    throw new ArgumentError(`tokenizer ${tokenizer.name}: fingerprint must be a non-empty string`);
  }
}

export function tokenCacheKey(files: readonly SourceFile[], textField: string, tokenizer: TokenEncoder): string {
  const identity = {
    formatVersion: TOKEN_CACHE_FORMAT_VERSION,
    sources: files.map(({ path: file, sizeBytes, mtimeMs }) => ({ path: file, sizeBytes, mtimeMs })),
    textField,
    tokenizer: { fingerprint: tokenizer.fingerprint, vocabSize: tokenizer.vocabSize, eosTokenId: tokenizer.eosTokenId },
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

/**
 * The token cache of `source` for `tokenizer`: the existing one when it is complete and current, else one
 * built now (tokenising every document). Errors of the source (missing, empty, bad lines) propagate typed.
 */
export async function prepareTokenCache(source: DocumentSource, options: PrepareTokenCacheOptions): Promise<PreparedTokenCache> {
  checkTokenizer(options.tokenizer);
  if (os.endianness() !== 'LE') throw new ConfigError('token caches are little-endian; this host is big-endian');
  const textField = options.textField ?? DEFAULT_TEXT_FIELD;
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
  const files = await listSourceFiles(source);
  const key = tokenCacheKey(files, textField, options.tokenizer);
  const tokensPath = path.join(cacheDir, `${key}.tokens`);
  const sidecarPath = path.join(cacheDir, `${key}.json`);
  const existing = trustedSidecar(sidecarPath, tokensPath, key);
  if (existing) return { tokensPath, sidecarPath, sidecar: existing, reused: true };

  await fs.promises.mkdir(cacheDir, { recursive: true });
  removeDeadTemporaries(cacheDir, key);
  const sidecar = await buildTokenFile(files, textField, options, key, tokensPath);
  return { tokensPath, sidecarPath, sidecar, reused: false };
}

/** The sidecar when the cache it describes is complete and current; null (rebuild) otherwise. */
function trustedSidecar(sidecarPath: string, tokensPath: string, key: string): TokenCacheSidecar | null {
  let sidecar: TokenCacheSidecar;
  try {
    sidecar = JSON.parse(fs.readFileSync(sidecarPath, 'utf8')) as TokenCacheSidecar;
  } catch {
    return null;
  }
  if (sidecar.formatVersion !== TOKEN_CACHE_FORMAT_VERSION || sidecar.key !== key) return null;
  if ((sidecar.dtype !== 'uint16' && sidecar.dtype !== 'uint32') || !Number.isSafeInteger(sidecar.numTokens)) return null;
  try {
    if (fs.statSync(tokensPath).size !== sidecar.numTokens * bytesPerToken(sidecar.dtype)) return null;
  } catch {
    return null;
  }
  return sidecar;
}

const TEMPORARY_MARK = '.tmp-';

function temporaryPath(finalPath: string): string {
  return `${finalPath}${TEMPORARY_MARK}${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

// Temporaries of this key left by builds that died (killed, crashed) on this host. Live builds keep theirs:
// two processes (say, two data-parallel ranks) may build the same cache at once; the last rename wins and
// both wrote the same bytes.
function removeDeadTemporaries(cacheDir: string, key: string): void {
  const prefix = `${os.hostname()}-`;
  for (const name of fs.readdirSync(cacheDir)) {
    if (!name.startsWith(`${key}.`)) continue;
    const mark = name.indexOf(TEMPORARY_MARK);
    if (mark === -1) continue;
    const owner = name.slice(mark + TEMPORARY_MARK.length);
    if (!owner.startsWith(prefix)) continue;
    const pid = Number(owner.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && !processIsAlive(pid)) fs.rmSync(path.join(cacheDir, name), { force: true });
  }
}


/** Renames a complete, fsynced temporary into place and makes the rename durable. */
async function commitFile(temporary: string, finalPath: string): Promise<void> {
  await fs.promises.rename(temporary, finalPath);
  syncFolder(path.dirname(finalPath));
}

function syncFolder(folder: string): void {
  // Makes the renames durable; not every platform / file system lets a folder be fsynced, and a lost rename
  // only means a rebuild, so failures here are ignored.
  try {
    const fd = fs.openSync(folder, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* see above */
  }
}

/** Growing output: ids are collected in a fixed chunk and appended to the file whenever it fills. */
class TokenWriter {
  readonly #chunk: Uint16Array | Uint32Array;
  #used = 0;
  #written = 0;

  constructor(
    private readonly file: fs.promises.FileHandle,
    dtype: TokenDType,
    private readonly vocabSize: number,
  ) {
    this.#chunk = dtype === 'uint16' ? new Uint16Array(CHUNK_TOKENS) : new Uint32Array(CHUNK_TOKENS);
  }

  get numTokens(): number {
    return this.#written + this.#used;
  }

  /** Appends ids; ArgumentError when one is not an id of the vocabulary (a typed array would wrap it). */
  async append(ids: readonly number[], tokenizerName: string): Promise<void> {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >>> 0 === id && id < this.vocabSize)) {
        throw new ArgumentError(`tokenizer ${tokenizerName} produced id ${id}, outside its vocabulary [0, ${this.vocabSize})`);
      }
      this.#chunk[this.#used++] = id;
      if (this.#used === CHUNK_TOKENS) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const bytes = new Uint8Array(this.#chunk.buffer, 0, this.#used * this.#chunk.BYTES_PER_ELEMENT);
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.file.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    this.#written += this.#used;
    this.#used = 0;
  }
}

async function buildTokenFile(
  files: readonly SourceFile[],
  textField: string,
  options: PrepareTokenCacheOptions,
  key: string,
  tokensPath: string,
): Promise<TokenCacheSidecar> {
  const { tokenizer, onProgress } = options;
  const dtype = tokenDTypeFor(tokenizer.vocabSize);
  const sidecarPath = tokensPath.replace(/\.tokens$/, '.json');
  const temporaryTokens = temporaryPath(tokensPath);
  const temporarySidecar = temporaryPath(sidecarPath);
  const eos = [tokenizer.eosTokenId];
  try {
    const file = await fs.promises.open(temporaryTokens, 'w');
    const writer = new TokenWriter(file, dtype, tokenizer.vocabSize);
    let numDocuments = 0;
    try {
      let bytesRead = 0;
      const totalBytes = files.reduce((sum, source) => sum + source.sizeBytes, 0);
      const onBytes = (read: number): void => {
        bytesRead = read;
      };
      for await (const document of readDocuments(files, { textField, onBytes })) {
        await writer.append(tokenizer.encode(document), tokenizer.name);
        await writer.append(eos, tokenizer.name);
        numDocuments++;
        onProgress?.(numDocuments, writer.numTokens, bytesRead, totalBytes);
      }
      await writer.flush();
      await file.sync();
      onProgress?.(numDocuments, writer.numTokens, totalBytes, totalBytes);
    } finally {
      await file.close();
    }
    const sidecar: TokenCacheSidecar = {
      formatVersion: TOKEN_CACHE_FORMAT_VERSION,
      key,
      dtype,
      numTokens: writer.numTokens,
      numDocuments,
      tokenizer: {
        name: tokenizer.name,
        fingerprint: tokenizer.fingerprint,
        vocabSize: tokenizer.vocabSize,
        eosTokenId: tokenizer.eosTokenId,
      },
      textField,
      sources: files.map(({ path: source, sizeBytes, mtimeMs }) => ({ path: source, sizeBytes, mtimeMs })),
      createdAt: new Date().toISOString(),
    };
    // An old sidecar of this key goes first, so no moment exists where it vouches for a half-replaced file.
    await fs.promises.rm(sidecarPath, { force: true });
    await commitFile(temporaryTokens, tokensPath);
    await fs.promises.writeFile(temporarySidecar, `${JSON.stringify(sidecar, null, 2)}\n`, { flush: true });
    await commitFile(temporarySidecar, sidecarPath);
    return sidecar;
  } finally {
    await fs.promises.rm(temporaryTokens, { force: true });
    await fs.promises.rm(temporarySidecar, { force: true });
  }
}

/** A token file mapped into memory (copy-on-write, pages read on first use), read as training windows. */
export class TokenCache {
  #handle: NativeTokenCacheHandle | null;

  private constructor(
    /** The `.tokens` file. */
    readonly path: string,
    readonly dtype: TokenDType,
    handle: NativeTokenCacheHandle,
  ) {
    this.#handle = handle;
  }

  /**
   * Maps `tokensPath`. ConfigError when it cannot be mapped, is not a whole number of tokens, or (when given)
   * does not hold `expectedNumTokens` tokens.
   */
  static open(tokensPath: string, dtype: TokenDType, expectedNumTokens?: number): TokenCache {
    const handle = new (native().TokenCacheHandle)(path.resolve(tokensPath), bytesPerToken(dtype));
    if (expectedNumTokens !== undefined && handle.numTokens() !== expectedNumTokens) {
      const found = handle.numTokens();
      handle.close();
      throw new ConfigError(`token cache ${tokensPath} holds ${found} tokens, its sidecar says ${expectedNumTokens}`);
    }
    return new TokenCache(path.resolve(tokensPath), dtype, handle);
  }

  private get handle(): NativeTokenCacheHandle {
    if (this.#handle === null) throw new DisposedError(`token cache ${this.path} was disposed`);
    return this.#handle;
  }

  get numTokens(): number {
    return this.handle.numTokens();
  }

  /**
   * int64 [starts.length, seqLen]: row i is tokens [starts[i], starts[i] + seqLen), built off the JS thread.
   * ArgumentError (rejecting) when a window leaves the cache.
   */
  async gather(starts: ArrayLike<number>, seqLen: number): Promise<Tensor> {
    return new Tensor(await this.handle.gather(starts, seqLen));
  }

  /** gather on the JS thread (tests, tiny batches). */
  gatherSync(starts: ArrayLike<number>, seqLen: number): Tensor {
    return new Tensor(this.handle.gatherSync(starts, seqLen));
  }

  /** Releases the mapping (batches already gathered are copies and stay valid). Safe to call twice. */
  dispose(): void {
    this.#handle?.close();
    this.#handle = null;
  }
}
