/** The size of a store on disk: its database and its write-ahead log, in MiB (bench/store*.ts). */
import fs from 'node:fs';

export function storeMiB(file: string): number {
  let bytes = 0;
  for (const s of ['', '-wal']) {
    try {
      bytes += fs.statSync(file + s).size;
    } catch {
      /* no such file */
    }
  }
  return bytes / 2 ** 20;
}
