/**
 * JSON Lines documents: one JSON object per line, the text in one string field. Read as a byte stream split
 * at '\n' (safe in UTF-8: no multi-byte character contains that byte), so one line at a time is in memory.
 */
import * as fs from 'fs';
import { ConfigError } from '../errors';

const NEWLINE = 0x0a;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** The value of `textField` on one line; ConfigError naming file:line otherwise. Blank lines give null. */
function textOfLine(line: string, file: string, lineNumber: number, textField: string): string | null {
  if (line.trim() === '') return null;
  const where = `${file}:${lineNumber}`;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    throw new ConfigError(
      `${where}: not valid JSON (${(error as Error).message}); JSON Lines files need one JSON object per line`,
    );
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new ConfigError(`${where}: expected a JSON object with a "${textField}" string field, got ${describeValue(record)}`);
  }
  const fields = record as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(fields, textField)) {
    const have = Object.keys(fields).slice(0, 20).map((key) => JSON.stringify(key)).join(', ') || 'none';
    throw new ConfigError(
      `${where}: no "${textField}" field (fields: ${have}); name the text field with --text_field / textField`,
    );
  }
  const text = fields[textField];
  if (typeof text !== 'string') {
    throw new ConfigError(`${where}: field "${textField}" is ${describeValue(text)}, expected a string`);
  }
  return text;
}

export async function* readJsonlDocuments(
  file: string,
  textField: string,
  onBytes: (bytesInFile: number) => void,
): AsyncGenerator<string> {
  let pending: Buffer[] = []; // the pieces of the line not yet ended by '\n'
  let lineNumber = 0;
  let bytesRead = 0;
  const lineOf = (pieces: Buffer[]): string => {
    let text = Buffer.concat(pieces).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return text;
  };
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let lineStart = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, lineStart)) {
      pending.push(chunk.subarray(lineStart, newline));
      const text = textOfLine(lineOf(pending), file, ++lineNumber, textField);
      pending = [];
      lineStart = newline + 1;
      if (text !== null) yield text;
    }
    if (lineStart < chunk.length) pending.push(chunk.subarray(lineStart));
    bytesRead += chunk.length;
    onBytes(bytesRead);
  }
  if (pending.length > 0) {
    const text = textOfLine(lineOf(pending), file, ++lineNumber, textField);
    if (text !== null) yield text;
  }
}
