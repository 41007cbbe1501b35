/**
 * The source of the worker thread that reads parquet files for parquet_source.ts. It is a string run with
 * `eval: true` because the package's own files are TypeScript under Jest and JavaScript in dist/: a string is
 * the one form both can start. Plain CommonJS JavaScript; it imports hyparquet by the file URLs it is given.
 *
 * Protocol: on start it opens the file and posts `opened` (or `missing-column` / `error`); then for every
 * `{rowGroup}` it receives it posts that row group's values as `rows` (or `error`).
 */
export type ParquetWorkerMessage =
  | { type: 'opened'; numRows: number; numRowGroups: number }
  | { type: 'missing-column'; columns: string[] }
  | { type: 'rows'; documents: Array<string | null> }
  | { type: 'error'; message: string };

export const PARQUET_WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('worker_threads');
const { file, column, hyparquetUrl, compressorsUrl } = workerData;

function describe(value) {
  if (value instanceof Uint8Array) return 'binary (not UTF-8 text)';
  if (Array.isArray(value)) return 'a list';
  return 'a ' + typeof value;
}

async function main() {
  const [hyparquet, { compressors }] = await Promise.all([import(hyparquetUrl), import(compressorsUrl)]);
  let buffer, metadata;
  try {
    buffer = await hyparquet.asyncBufferFromFile(file);
    metadata = await hyparquet.parquetMetadataAsync(buffer);
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String(error && error.message || error) });
    return;
  }
  const columns = hyparquet.parquetSchema(metadata).children.map((child) => child.element.name);
  if (!columns.includes(column)) {
    parentPort.postMessage({ type: 'missing-column', columns });
    return;
  }
  const groups = [];
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    groups.push({ rowStart, rowEnd: rowStart + rows });
    rowStart += rows;
  }
  parentPort.on('message', async ({ rowGroup }) => {
    try {
      const { rowStart, rowEnd } = groups[rowGroup];
      let rows = [];
      await hyparquet.parquetRead({
        file: buffer, metadata, columns: [column], rowStart, rowEnd, compressors, rowFormat: 'array',
        onComplete: (result) => { rows = result; },
      });
      const documents = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const value = rows[i][0];
        if (value === null || value === undefined) documents[i] = null;
        else if (typeof value === 'string') documents[i] = value;
        else throw new Error('row ' + (rowStart + i) + ': column "' + column + '" is ' + describe(value) + ', expected a string');
      }
      parentPort.postMessage({ type: 'rows', documents });
    } catch (error) {
      parentPort.postMessage({ type: 'error', message: 'row group ' + rowGroup + ': ' + String(error && error.message || error) });
    }
  });
  parentPort.postMessage({ type: 'opened', numRows: rowStart, numRowGroups: groups.length });
}

main().catch((error) => parentPort.postMessage({ type: 'error', message: String(error && error.message || error) }));
`;
