/**
 * Temporary directories of one test file (each test file is a process of its own under
 * `node --test`), removed when that process exits, whatever became of its tests: a test run
 * leaves nothing in the temporary directory (stores, configurations, rundirs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dirs: string[] = [];

process.on('exit', () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A new directory `<tmpdir>/<prefix>XXXXXX`, removed at exit. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}
