/**
 * The store's checkpointer (checkpoint.ts), in a worker thread with a connection of its own:
 * copies the write-ahead log into the database (`PRAGMA wal_checkpoint(PASSIVE)`) when told,
 * off the broker's event loop, and answers with SQLite's three figures. PASSIVE waits for no
 * reader or writer: the broker's connection goes on committing meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointResult {
  /** Frames in the log, and how many of them are now in the database. */
  log: number;
  checkpointed: number;
  /** The checkpoint failed (e.g. the disk is full): why. */
  error?: string;
}

const { file, durable } = workerData as { file: string; durable: boolean };
const db = new Database(file, { fileMustExist: true, timeout: 0 });
// durable: the log is synced before it is copied, the database after (what synchronous=NORMAL
// does for a checkpoint in WAL mode)
db.pragma(`synchronous = ${durable ? 'NORMAL' : 'OFF'}`);
db.pragma('wal_autocheckpoint = 0');

parentPort!.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let out: CheckpointResult;
  try {
    const r = (db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[])[0]!;
    out = { log: Number(r.log), checkpointed: Number(r.checkpointed) };
  } catch (e) {
    out = { log: -1, checkpointed: -1, error: (e as Error).message };
  }
  parentPort!.postMessage(out);
});
