/** Writing output files so that a reader (or a crash) never sees one half-written. */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes `contents` to a temporary file beside `file`, then renames it over `file` (atomic on one file
 * system). On any failure the temporary file is removed and `file` is left as it was.
 */
export function writeFileAtomically(file: string, contents: string | Buffer): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    fs.writeFileSync(temporary, contents);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
