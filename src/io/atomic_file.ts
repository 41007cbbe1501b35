/**
 * Writing files so that a reader, or a crash, never sees one half-written (the TypeScript side of
 * cpp/io/atomic_file): the content goes to a temporary file beside the target, is fsynced, and is renamed
 * over it in one step.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Writes and fsyncs `file` in place (for files inside a folder that is itself published atomically). */
export function writeFileDurably(file: string, contents: string | Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, contents); // writes all of it (writeSync may write part of a large buffer)
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `contents` to a temporary file beside `file`, fsyncs it and renames it over `file` (atomic on one
 * file system). On any failure the temporary file is removed and `file` is left as it was.
 */
export function writeFileAtomically(file: string, contents: string | Buffer): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileDurably(temporary, contents);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** Whether a process of this host still runs (its temporary files are then not stale). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
