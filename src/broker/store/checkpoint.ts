/**
 * Checkpoints of the store's write-ahead log, off the broker's event loop (docs/architecture.md
 * "store"). SQLite's automatic checkpoint runs inside the commit that fills the log: with a
 * million jobs in the store, hundreds of milliseconds of the event loop. Here the broker's
 * connection never checkpoints (wal_autocheckpoint=0); a worker thread with its own connection
 * (checkpoint-worker.ts) copies the log into the database after commits, while the broker goes
 * on.
 *
 * The log starts again from its beginning at the first commit after a checkpoint that copied
 * all of it. A checkpoint running while commits go on never does; so once the log holds
 * LONG_LOG bytes of pages, the store holds its commits (they stay in memory, readable;
 * acknowledgements wait) until a checkpoint has run with none in between, and the next commit
 * restarts the log.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointResult } from './checkpoint-worker.js';

/**
 * Bytes of pages in the log (its frames times the page size) past which commits wait for a
 * whole checkpoint, whatever the store's page size.
 */
export const LONG_LOG = 128 * 1024 * 1024;

/** A log of `frames` frames of `pageSize` bytes is long: commits wait for a whole checkpoint. */
export function longLog(frames: number, pageSize: number): boolean {
  return frames * pageSize >= LONG_LOG;
}
/** A checkpoint that failed (a full disk) is tried again after this long. */
const RETRY_MS = 1000;

export class Checkpointer {
  private readonly worker: Worker;
  private running = false;
  /** Commits were made since the last checkpoint began. */
  private dirty = false;
  private holding = false;
  private failed = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  private exited = false;

  /**
   * `release`: the store may commit again (its commits were held). `lost`: the worker died; the
   * store's own connection checkpoints again. `log`: failures, once until a checkpoint succeeds.
   */
  constructor(
    file: string,
    durable: boolean,
    /** The store's page size: a frame of the log holds one page. */
    private readonly pageSize: number,
    private readonly events: {
      release: () => void;
      lost: () => void;
      log: (level: 'err' | 'info', msg: string) => void;
    },
  ) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { file, durable } });
    this.worker.unref();
    this.worker.on('message', (r: CheckpointResult) => this.done(r));
    this.worker.on('error', (e: Error) => {
      this.events.log('err', `store ${file}: checkpointer: ${e.message}: checkpoints run on the broker's loop again`);
      this.closed = true;
      this.running = false;
      this.unhold();
      this.events.lost();
    });
    this.worker.on('exit', () => (this.exited = true));
  }

  /** Commits wait until a checkpoint has copied the whole log. */
  get hold(): boolean {
    return this.holding;
  }

  /** A commit was made: a checkpoint follows (one at a time). */
  committed(): void {
    this.dirty = true;
    this.start();
  }

  private start(): void {
    if (this.running || this.closed || this.retry !== undefined) return;
    if (!this.dirty && !this.holding) return;
    this.running = true;
    this.dirty = false;
    this.worker.postMessage('checkpoint');
  }

  private done(r: CheckpointResult): void {
    this.running = false;
    if (this.closed) return;
    if (r.error !== undefined) {
      if (!this.failed) this.events.log('err', `store: checkpoint failed: ${r.error} (tried again every second)`);
      this.failed = true;
      this.unhold();
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.dirty = true;
        this.start();
      }, RETRY_MS).unref();
      return;
    }
    if (this.failed) this.events.log('info', 'store: checkpoints succeed again');
    this.failed = false;
    const whole = r.checkpointed === r.log;
    if (this.holding && whole) this.unhold();
    else if (!this.holding && !whole && longLog(r.log, this.pageSize)) this.holding = true;
    this.start();
  }

  private unhold(): void {
    if (!this.holding) return;
    this.holding = false;
    this.events.release();
  }

  /** Stop the worker (its connection closes first: the store's own is the last one). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.holding = false;
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.ref(); // the process waits for it now
    this.worker.postMessage('close');
    await exited;
  }
}
