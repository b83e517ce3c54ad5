/**
 * A store as a tsflux of schema 3 left it: its chunks in the WITHOUT ROWID table of
 * MIGRATIONS[0] (src/broker/store/schema.ts), `user_version` 3. Made from a closed store of
 * today's schema by moving its chunks, rows unchanged (the rows' content is what schema 3
 * wrote too: text chunks and BLOBs of output records), back into that table.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/broker/store/schema.js';

export function toSchema3(file: string): void {
  const ddl = /CREATE TABLE chunks \([^;]*;/.exec(MIGRATIONS[0]!)![0];
  const d = new Database(file);
  try {
    d.transaction(() => {
      d.exec(`CREATE TEMP TABLE saved AS SELECT id, key, seq, data FROM chunks;
              DROP TABLE chunks;
              ${ddl}
              INSERT INTO chunks (id, key, seq, data) SELECT id, key, seq, data FROM saved;
              DROP TABLE saved;`);
      d.pragma('user_version = 3');
    })();
  } finally {
    d.close();
  }
}
