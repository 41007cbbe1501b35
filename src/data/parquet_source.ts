/**
 * Parquet documents, one per row of a string column, read row group by row group with hyparquet.
 *
 * hyparquet is an ES module. The package is CommonJS, and Jest's module system can load neither a required nor
 * an imported ES module without --experimental-vm-modules, so the reading runs in a worker thread, where
 * Node's own loader imports it. That also moves decompression (snappy, zstd, …) off the JS thread: the worker
 * decodes the next row group while this side tokenises the current one. At most two row groups' text is held
 * at a time.
 */
import { pathToFileURL } from 'url';
import { Worker } from 'worker_threads';
import { ConfigError } from '../errors';
import { PARQUET_WORKER_SOURCE, type ParquetWorkerMessage } from './parquet_worker_script';

function moduleUrl(specifier: string): string {
  return pathToFileURL(require.resolve(specifier)).href;
}

/** Messages of one worker, awaited one at a time, in order; a worker crash rejects the waiting read. */
class MessageChannelReader {
  readonly #queue: ParquetWorkerMessage[] = [];
  #waiting: { resolve: (message: ParquetWorkerMessage) => void; reject: (error: Error) => void } | null = null;
  #failure: Error | null = null;

  constructor(worker: Worker, file: string) {
    worker.on('message', (message: ParquetWorkerMessage) => {
      if (this.#waiting) {
        const waiting = this.#waiting;
        this.#waiting = null;
        waiting.resolve(message);
      } else {
        this.#queue.push(message);
      }
    });
    const fail = (error: Error): void => {
      this.#failure ??= error;
      this.#waiting?.reject(this.#failure);
      this.#waiting = null;
    };
    worker.on('error', (error) => fail(new ConfigError(`${file}: the parquet reader failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new ConfigError(`${file}: the parquet reader stopped early (exit code ${code})`)));
  }

  next(): Promise<ParquetWorkerMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }
}

/**
 * The `column` strings of `file`, row by row. Null values are skipped (no document); ConfigError naming the
 * file and the columns it has when `column` is missing, naming the row when a value is not a string.
 * onRows(rowsRead, numRows) reports progress after each row group.
 */
export async function* readParquetDocuments(
  file: string,
  column: string,
  onRows: (rowsRead: number, numRows: number) => void,
): AsyncGenerator<string> {
  const worker = new Worker(PARQUET_WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      column,
      hyparquetUrl: moduleUrl('hyparquet'),
      compressorsUrl: moduleUrl('hyparquet-compressors'),
    },
  });
  const messages = new MessageChannelReader(worker, file);
  try {
    const opened = await messages.next();
    if (opened.type === 'error') throw new ConfigError(`${file}: not a readable parquet file (${opened.message})`);
    if (opened.type === 'missing-column') {
      throw new ConfigError(
        `${file} has no column "${column}"; its columns are ${opened.columns.map((name) => JSON.stringify(name)).join(', ')}. ` +
          'Name the text column with --text_field / textField',
      );
    }
    if (opened.type !== 'opened') throw new ConfigError(`${file}: unexpected parquet reader message ${opened.type}`);
    const { numRows, numRowGroups } = opened;
    let rowsRead = 0;
    if (numRowGroups > 0) worker.postMessage({ rowGroup: 0 });
    for (let group = 0; group < numRowGroups; group++) {
      const message = await messages.next();
      if (message.type === 'error') throw new ConfigError(`${file}: ${message.message}`);
      if (message.type !== 'rows') throw new ConfigError(`${file}: unexpected parquet reader message ${message.type}`);
      // Ask for the next row group before tokenising this one: the worker decodes while we tokenise.
      if (group + 1 < numRowGroups) worker.postMessage({ rowGroup: group + 1 });
      for (const text of message.documents) {
        if (text !== null) yield text;
      }
      rowsRead += message.documents.length;
      onRows(rowsRead, numRows);
    }
  } finally {
    worker.removeAllListeners('exit');
    worker.removeAllListeners('error');
    await worker.terminate();
  }
}

