/**
 * The job store in one SQLite database (better-sqlite3, WAL), docs/architecture.md "store".
 *
 * Group commit: writes go to an in-memory batch that reads see at once; the batch is committed
 * in one transaction at the end of the event loop's turn (setImmediate), and `createJobs`
 * resolves only after that commit (on the disk, for a durable store). The appends to a chunked
 * log within one batch are folded into one chunk (up to CHUNK_MAX), so a job printing fast costs
 * a row per turn (or per 64 KiB), not one per line.
 *
 * A durable store syncs off the event loop: its commits run with synchronous=NORMAL (in WAL mode
 * SQLite then syncs the WAL only before a checkpoint) and the WAL is then synced by fdatasync on
 * libuv's thread pool, one sync for every commit made while the previous one ran; the jobs of a
 * commit are acknowledged once a sync that began after it has finished. That is what
 * synchronous=FULL guarantees (the WAL synced after each commit) without stopping the broker
 * while the disk works.
 *
 * If a commit fails (the disk is full), nothing is lost from memory: the new jobs of that batch
 * are refused (their submitters get ENOSPC), everything else stays in the batch and is tried
 * again a second later, with the new jobs that arrived meanwhile, until a commit succeeds.
 *
 * One instance at a time: the store holds a lock on `FILE-lock` while it is open (lock()), so a
 * second instance on the same file is refused (EBUSY) until the first exits, however it exits.
 *
 * Checkpoints (the WAL copied into the database) run in a worker thread with a connection of its
 * own (checkpoint.ts), not inside the broker's commits.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Errno, FluxError, errnoNumber, strerror } from '../../protocol/errno.js';
import type { JobStore, LogPieces, LogRead, NewJobRecord, StoreWatcher, StoredJob } from './store.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { RecentIds } from './recent.js';
import { Checkpointer } from './checkpoint.js';
import { recordsText } from '../../job/output-records.js';

export interface SqliteStoreOptions {
  /**
   * true: every commit is synced to the disk before ids are given out (synchronous=FULL), the
   * store outlives the instance. false: a scratch store (synchronous=OFF), removed at close.
   */
  durable: boolean;
  /** Where failures of background commits are reported. */
  log?: (level: 'err' | 'info', msg: string) => void;
}

/** Keys kept as chunks (every other key but 'eventlog' is a value set whole). */
function isChunked(key: string): boolean {
  return key.startsWith('guest.');
}

/**
 * A job id as SQLite stores it and back: SQLite's integers are signed 64-bit, so the top bit is
 * flipped to keep the rows in the ids' unsigned order.
 */
const SIGN = 1n << 63n;
const toRow = (id: bigint): bigint => BigInt.asIntN(64, id ^ SIGN);
const fromRow = (v: bigint): bigint => BigInt.asUintN(64, v) ^ SIGN;

interface PendingChunk {
  seq: number;
  /** Text appends (append()); empty for records. */
  parts: string[];
  /**
   * Binary records (appendRecords()): copied into this buffer, `size` bytes of it (one from
   * the pool, or one of its own for a larger first append). One kind per chunk.
   */
  buf: Buffer | undefined;
  /** Characters (text) or bytes in the chunk. */
  size: number;
  /** A reader has seen this chunk: later appends start a new one, and its buffer is the reader's. */
  sealed: boolean;
}

/** A pending chunk's content as one value: text, or the records' bytes. */
function chunkData(c: PendingChunk): string | Buffer {
  if (c.buf !== undefined) return c.buf.subarray(0, c.size);
  return c.parts.length === 1 ? c.parts[0]! : c.parts.join('');
}

/** What one job has in the batch not yet committed. */
interface PendingJob {
  created?: NewJobRecord & { ref: string };
  eventlog?: string[];
  vals?: Map<string, string>;
  chunks?: Map<string, PendingChunk[]>;
}

interface Waiter {
  ids: bigint[];
  resolve: () => void;
  reject: (e: Error) => void;
}

const RETRY_MS = 1000;
/**
 * A chunk takes an append if it then holds at most this many characters (an empty one takes
 * any): a reader of a log by cursor (readLog) gets at most one chunk more than it asked for
 * (job-info paces watches by it). Small enough that a chunk's text is an ordinary V8 string
 * unless one append is large: from 128 KiB on a string is a large object, each in memory of its
 * own, fresh from the system (a replay of 1 GiB made 8,000 of them).
 */
const CHUNK_MAX = 64 * 1024;
/**
 * Records are copied into buffers of this size, reused once their chunk is committed: a job
 * printing fast fills one per 64 KiB (job-exec's records are at most 64 KiB + their head),
 * and fresh ones would be freed only when V8 collects them, in batches, after tens of MiB
 * (bench/output.ts: the broker's resident memory grew by that much while a job printed 1 GiB).
 */
const CHUNK_BUF = CHUNK_MAX + 1024;
/** Chunk buffers kept for reuse, at most (a batch of one event-loop turn rarely has more). */
const CHUNK_POOL = 64;
const BLOB_CACHE = 64;
const KNOWN_CACHE = 8192;
/**
 * A batch holding writes of this many jobs is committed at once, without waiting for the turn
 * to end: a restart rewrites every queued job's eventlog in one turn, and a million jobs' writes
 * in one batch would cost hundreds of MiB of memory and a commit of many seconds.
 */
const MAX_BATCH = 1000;
/** A batch held back for a checkpoint (checkpoint.ts) is committed anyway at this many jobs. */
const HELD_BATCH_MAX = 4 * MAX_BATCH;
/**
 * Rows read at a time by scan(). Small, like MAX_BATCH, so that what a restart reads and writes
 * dies young: a page or batch that lives long enough to reach V8's old generation becomes
 * garbage only a full collection frees, and a restart on 1,000,000 jobs with pages of 5,000 and
 * batches of 10,000 peaked at 1,023 MiB (pages of 500, batches of 1,000: 672-692 MiB).
 */
const SCAN_PAGE = 500;
/** The WAL file is cut back to this many bytes when it starts again from its beginning. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/**
 * The connection's page cache (KiB): SQLite's own default, not better-sqlite3's 16 MiB. The
 * pages of a job's output fill the cache and are never read from it again: with 16 MiB the
 * broker's resident memory grew by 14 MiB more while a job printed 1 GiB (bench/output.ts),
 * and submits and restarts are as fast with 2 MiB.
 */
const PAGE_CACHE_KIB = 2000;
/**
 * The page size of a new store. A job's output is rows of up to 64 KiB: in pages of 16 KiB
 * SQLite writes them 1.3-2.5 times and reads them 1.2-1.9 times as fast from the page cache as
 * in its default 4 KiB (bench/sqlite-pages.ts; from the disk as fast), and `tsflux job attach`
 * replaying 1 GiB takes 0.86 of the time and CPU (measured on the chunks table of schemas 1-3),
 * for 14 % more file: rows of 0-64 KiB leave pages partly empty (schema 4: the leaf pages that
 * hold each row's first 2-16 KiB, about 1.1 rows a page; schemas 1-3: the last of each row's
 * overflow pages); submits and runs of small jobs are as fast. Pages of 64 KiB take more file
 * still and make every small commit write 64 KiB a page.
 */
const NEW_PAGE_SIZE = 16384;

function sqliteCode(e: unknown): string {
  return typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
}

/** errno of a failed SQLite operation. */
function errnoOfSqlite(e: unknown): number {
  const code = sqliteCode(e);
  if (code.startsWith('SQLITE_FULL')) return Errno.ENOSPC;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return Errno.EBUSY;
  if (code.startsWith('SQLITE_READONLY')) return Errno.EROFS;
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) return Errno.EACCES;
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) return Errno.EINVAL;
  return Errno.EIO;
}

export class SqliteStore implements JobStore {
  private readonly db: Database.Database;
  /** The lock held while the store is open (lock()); none for ':memory:'. */
  private readonly lock: Database.Database | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly watchers = new Set<StoreWatcher>();
  private batch = new Map<bigint, PendingJob>();
  private waiters: Waiter[] = [];
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  /** The last commit failed (logged once until one succeeds again). */
  private failure: FluxError | undefined;
  private maxId = 0n;
  private closed = false;
  /**
   * The next chunk number. One sequence for the whole store: a log's chunks are its rows in
   * that order, and no per-log counter has to be looked up.
   */
  private seq = 0;
  /** Bytes appended to chunked logs since the last commit (store.ts `backlog`). */
  private pendingBytes = 0;
  private committedCbs: (() => void)[] = [];
  /** Record buffers of committed chunks, for new chunks (CHUNK_BUF). */
  private readonly chunkPool: Buffer[] = [];
  /** Jobs known to exist, recently used (a write's existence check without a query). */
  private readonly known = new RecentIds(KNOWN_CACHE);
  private readonly blobs = new Map<string, string>();
  /** jobspec text → its ref (the same text object is shared by the jobs of a bulk submit). */
  private readonly refOf = new Map<string, string>();
  /** Durable: the WAL's descriptor, and the commits whose jobs wait for the next sync of it. */
  private walFd: number | undefined;
  private unsynced: Waiter[] = [];
  private syncing = false;
  private readonly st: ReturnType<SqliteStore['prepare']>;
  readonly durable: boolean;

  private constructor(
    readonly file: string,
    private readonly opts: SqliteStoreOptions,
  ) {
    this.durable = opts.durable;
    ({ db: this.db, lock: this.lock } = SqliteStore.openDb(file, opts.durable));
    this.st = this.prepare();
    this.writeBatch = this.db.transaction((b: Map<bigint, PendingJob>, m: bigint) => this.writeBatchTx(b, m));
    const m = this.st.getMeta.get('max-jobid') as { value: string } | undefined;
    const top = this.st.maxId.get() as { m: bigint | null };
    this.maxId = m ? BigInt(m.value) : 0n;
    if (top.m !== null && fromRow(top.m) > this.maxId) this.maxId = fromRow(top.m);
    const seq = (this.st.maxSeqAll.get() as { m: bigint | null }).m;
    this.seq = seq === null ? 0 : Number(seq) + 1;
    if (opts.durable) this.openWal();
    if (file !== ':memory:') {
      this.checkpointer = new Checkpointer(file, opts.durable, this.settings().pageSize, {
        release: () => {
          if (this.batch.size > 0 || this.waiters.length > 0) this.schedule(0);
        },
        lost: () => this.db.pragma('wal_autocheckpoint = 1000'),
        log: (level, msg) => this.opts.log?.(level, msg),
      });
    }
  }

  /**
   * Open the WAL (SQLite has created it by now: the database is in WAL mode and has been read)
   * for our own syncs, and sync its directory once so that the file itself survives a crash.
   */
  private openWal(): void {
    try {
      this.walFd = fs.openSync(this.file + '-wal', 'r');
      fs.fsyncSync(this.walFd);
      const dir = fs.openSync(path.dirname(path.resolve(this.file)), 'r');
      try {
        fs.fsyncSync(dir);
      } finally {
        fs.closeSync(dir);
      }
    } catch (e) {
      if (this.walFd !== undefined) fs.closeSync(this.walFd);
      this.db.close();
      this.lock?.close();
      throw new FluxError(Errno.EIO, `store ${this.file}: cannot sync its write-ahead log: ${(e as Error).message}`);
    }
  }

  /** Open (creating it if needed) the store at `file`; throws FluxError naming the problem. */
  static open(file: string, opts: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(file, opts);
  }

  /** What SQLite settings the store's connection runs with (for tests and diagnostics). */
  settings(): { pageSize: number; cacheKiB: number; mmapSize: number; journalMode: string } {
    const get = (name: string) => this.db.pragma(name, { simple: true }) as bigint | number | string;
    const cache = Number(get('cache_size')); // negative: KiB; positive: pages
    const pageSize = Number(get('page_size'));
    return {
      pageSize,
      cacheKiB: cache < 0 ? -cache : (cache * pageSize) / 1024,
      mmapSize: Number(get('mmap_size')),
      journalMode: String(get('journal_mode')),
    };
  }

  /**
   * How SQLite runs the statements on chunks (EXPLAIN QUERY PLAN, one line per statement), for
   * tests and diagnostics: each finds a log's chunks by the index `chunks_log` (schema.ts).
   */
  queryPlans(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of ['readChunks', 'hasLog', 'maxSeqAll', 'logBytes', 'deleteChunks'] as const) {
      const sql = this.st[name].source;
      const args = Array.from(sql.matchAll(/\?/g), () => 0);
      const rows = this.db.prepare('EXPLAIN QUERY PLAN ' + sql).all(...args) as { detail: string }[];
      out[name] = rows.map((r) => r.detail).join('; ');
    }
    return out;
  }

  private static openDb(file: string, durable: boolean): { db: Database.Database; lock?: Database.Database } {
    let db: Database.Database | undefined;
    let lock: Database.Database | undefined;
    const fail = (e: unknown, what: string): never => {
      db?.close();
      if (e instanceof FluxError) throw e;
      const errno = errnoOfSqlite(e);
      const why =
        errno === Errno.EBUSY
          ? 'it is in use by another instance'
          : errno === Errno.EINVAL
            ? `it is not a tsflux store (${(e as Error).message})`
            : (e as Error).message;
      throw new FluxError(errno, `store ${file}: ${what}: ${why}`);
    };
    if (file !== ':memory:') SqliteStore.checkWritable(file);
    try {
      db = new Database(file, { fileMustExist: false });
    } catch (e) {
      fail(e, 'cannot open');
    }
    const d = db!;
    try {
      d.defaultSafeIntegers(true);
      const appId = Number(d.pragma('application_id', { simple: true }));
      const version = Number(d.pragma('user_version', { simple: true }));
      const tables = Number((d.prepare(`SELECT count(*) AS n FROM sqlite_schema`).get() as { n: bigint }).n);
      if (appId !== APPLICATION_ID && (appId !== 0 || version !== 0 || tables !== 0)) {
        throw new FluxError(Errno.EINVAL, `store ${file}: it is not a tsflux store (another program's database)`);
      }
      if (version > SCHEMA_VERSION) {
        throw new FluxError(
          Errno.EPROTO,
          `store ${file}: written by a newer tsflux (schema version ${version}; this one knows up to ${SCHEMA_VERSION})`,
        );
      }
      // one instance at a time: a second one fails here, before it writes anything
      if (file !== ':memory:') lock = SqliteStore.lock(file);
      // a new store's page size (SQLite's default is 4096); it is fixed once the first table is
      // made or WAL is on, so an existing store keeps the one it has
      if (tables === 0) d.pragma(`page_size = ${NEW_PAGE_SIZE}`);
      d.pragma('journal_mode = WAL');
      // durable: NORMAL plus our own sync of the WAL after each commit (syncWal) is FULL
      d.pragma(`synchronous = ${durable ? 'NORMAL' : 'OFF'}`);
      // the checkpointer's thread copies the WAL into the database (checkpoint.ts), and the WAL
      // file is cut back to this size when it starts again from its beginning
      d.pragma('wal_autocheckpoint = 0');
      d.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      d.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
      if (version < SCHEMA_VERSION) {
        d.transaction(() => {
          for (let v = version; v < SCHEMA_VERSION; v++) d.exec(MIGRATIONS[v]!);
          d.pragma(`application_id = ${APPLICATION_ID}`);
          d.pragma(`user_version = ${SCHEMA_VERSION}`);
        })();
      }
    } catch (e) {
      lock?.close();
      fail(e, 'cannot use it');
    }
    return { db: d, lock };
  }

  /**
   * Hold `FILE-lock` (a small database of its own, kept locked by its connection in exclusive
   * locking mode) while the store is open: a second instance on the store is refused (EBUSY),
   * and the kernel lets go of the lock however the holder exits. The store's own database is
   * not opened exclusively, so that the checkpointer's thread can open it too.
   */
  private static lock(file: string): Database.Database {
    const l = new Database(file + '-lock', { timeout: 0 });
    try {
      l.pragma('locking_mode = EXCLUSIVE');
      l.pragma('journal_mode = OFF');
      l.exec('BEGIN EXCLUSIVE');
      l.exec('COMMIT');
    } catch (e) {
      l.close();
      throw e;
    }
    return l;
  }

  /**
   * The store and its directory (where SQLite keeps the write-ahead log) must be writable: say
   * so plainly, before SQLite answers with a bare "disk I/O error".
   */
  private static checkWritable(file: string): void {
    const dir = path.dirname(path.resolve(file));
    for (const [p, what] of [
      [file, 'the file'],
      [dir, 'its directory'],
    ] as const) {
      try {
        fs.accessSync(p, fs.constants.W_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && p === file) continue; // created below
        const errno = (code && errnoNumber(code)) || Errno.EACCES;
        throw new FluxError(errno, `store ${file}: cannot open: ${what} is not writable (${strerror(errno)})`);
      }
    }
  }

  private prepare() {
    const p = (sql: string) => this.db.prepare(sql);
    return {
      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      setMeta: p('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      maxId: p('SELECT max(id) AS m FROM jobs'),
      insertBlob: p('INSERT OR IGNORE INTO blobs (ref, data) VALUES (?, ?)'),
      getBlob: p('SELECT data FROM blobs WHERE ref = ?'),
      insertJob: p('INSERT INTO jobs (id, userid, jobspec, eventlog) VALUES (?, ?, ?, ?)'),
      appendEventlog: p('UPDATE jobs SET eventlog = eventlog || ? WHERE id = ?'),
      hasJob: p('SELECT 1 FROM jobs WHERE id = ?'),
      getEventlog: p('SELECT eventlog FROM jobs WHERE id = ?'),
      getJobspecRef: p('SELECT jobspec FROM jobs WHERE id = ?'),
      putVal: p('INSERT OR REPLACE INTO vals (id, key, value) VALUES (?, ?, ?)'),
      getVal: p('SELECT value FROM vals WHERE id = ? AND key = ?'),
      insertChunk: p('INSERT INTO chunks (id, key, seq, data) VALUES (?, ?, ?, ?)'),
      readChunks: p('SELECT seq, data FROM chunks WHERE id = ? AND key = ? AND seq >= ? ORDER BY seq LIMIT ?'),
      hasLog: p('SELECT 1 FROM chunks WHERE id = ? AND key = ? LIMIT 1'),
      maxSeqAll: p('SELECT max(seq) AS m FROM chunks'),
      logBytes: p('SELECT sum(octet_length(data)) AS n FROM chunks WHERE id = ? AND key = ?'),
      idsAfter: p('SELECT id FROM jobs WHERE id > ? ORDER BY id LIMIT ?'),
      scanAfter: p('SELECT id, userid, jobspec, eventlog FROM jobs WHERE id > ? ORDER BY id LIMIT ?'),
      deleteJob: p('DELETE FROM jobs WHERE id = ?'),
      deleteVals: p('DELETE FROM vals WHERE id = ?'),
      deleteChunks: p('DELETE FROM chunks WHERE id = ?'),
      deleteOrphanBlob: p('DELETE FROM blobs WHERE ref = ? AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobspec = ?)'),
    };
  }

  // ---- writes ----------------------------------------------------------------------------

  private pendingOf(id: bigint): PendingJob {
    let p = this.batch.get(id);
    if (p === undefined) this.batch.set(id, (p = {}));
    this.schedule(0);
    return p;
  }

  private schedule(delay: number): void {
    if (this.scheduled !== undefined || this.closed) return;
    this.scheduled =
      delay === 0 ? setImmediate(() => this.commitNow()) : setTimeout(() => this.commitNow(), delay).unref();
  }

  private unschedule(): void {
    if (this.scheduled === undefined) return;
    clearTimeout(this.scheduled as NodeJS.Timeout);
    clearImmediate(this.scheduled as NodeJS.Immediate);
    this.scheduled = undefined;
  }

  createJobs(jobs: NewJobRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new FluxError(Errno.ENOSYS, 'store is closed'));
    for (const j of jobs) {
      let ref = this.refOf.get(j.jobspec);
      if (ref === undefined) {
        ref = 'sha256-' + crypto.createHash('sha256').update(j.jobspec).digest('hex');
        if (this.refOf.size >= BLOB_CACHE) this.refOf.delete(this.refOf.keys().next().value!);
        this.refOf.set(j.jobspec, ref);
      }
      this.pendingOf(j.id).created = { ...j, ref };
      this.remember(j.id);
      if (j.id > this.maxId) this.maxId = j.id;
    }
    return new Promise((resolve, reject) => this.waiters.push({ ids: jobs.map((j) => j.id), resolve, reject }));
  }

  async removeJobs(ids: bigint[]): Promise<void> {
    const st = this.st;
    const refs = new Set<string>();
    const gone: bigint[] = [];
    for (const id of ids) {
      const p = this.batch.get(id);
      this.batch.delete(id);
      if (p?.created) continue; // never reached the disk
      gone.push(id);
      this.known.delete(id);
    }
    if (gone.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const id of gone) {
          const row = toRow(id);
          const r = st.getJobspecRef.get(row) as { jobspec: string } | undefined;
          if (r) refs.add(r.jobspec);
          st.deleteJob.run(row);
          st.deleteVals.run(row);
          st.deleteChunks.run(row);
        }
        // jobspecs no job uses any more
        for (const ref of refs) {
          st.deleteOrphanBlob.run(ref, ref);
          this.blobs.delete(ref);
        }
      })();
    } catch (e) {
      throw new FluxError(errnoOfSqlite(e), `store ${this.file}: removing jobs: ${(e as Error).message}`);
    }
  }

  append(id: bigint, key: string, text: string): void {
    // an eventlog append to a job that does not exist is found by its commit (no query here: a
    // restart appends to every queued job)
    if (key !== 'eventlog') this.mustExist(id);
    this.bound(id);
    const p = this.pendingOf(id);
    if (key === 'eventlog') {
      (p.eventlog ??= []).push(text);
    } else if (isChunked(key)) {
      this.appendChunk(p, key, text);
    } else {
      // a log kept as a value (a key outside guest.*): read, then rewrite
      const cur = this.get(id, key);
      (p.vals ??= new Map()).set(key, cur === undefined ? text : cur + text);
    }
    for (const w of this.watchers) w(id, key, text);
  }

  appendRecords(id: bigint, key: string, records: Buffer): void {
    if (!isChunked(key)) throw new Error(`store: ${key} cannot hold records`);
    this.mustExist(id);
    this.bound(id);
    const p = this.pendingOf(id);
    const list = (p.chunks ??= new Map()).get(key);
    const last = list?.[list.length - 1];
    const n = records.length;
    this.pendingBytes += n;
    if (last?.buf !== undefined && !last.sealed && last.size + n <= CHUNK_MAX) {
      records.copy(last.buf, last.size);
      last.size += n;
    } else {
      const buf =
        n <= CHUNK_BUF ? (this.chunkPool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BUF)) : Buffer.allocUnsafeSlow(n);
      records.copy(buf);
      const c: PendingChunk = { seq: this.seq++, parts: [], buf, size: n, sealed: false };
      if (list) list.push(c);
      else p.chunks.set(key, [c]);
    }
    for (const w of this.watchers) w(id, key, '');
  }

  /** Add a text append to the log's last pending chunk if it takes it, else to a new one. */
  private appendChunk(p: PendingJob, key: string, text: string): void {
    const size = text.length;
    this.pendingBytes += size;
    const list = (p.chunks ??= new Map()).get(key);
    const last = list?.[list.length - 1];
    if (last && !last.sealed && last.buf === undefined && last.size + size <= CHUNK_MAX) {
      last.parts.push(text);
      last.size += size;
      return;
    }
    const c: PendingChunk = { seq: this.seq++, parts: [text], buf: undefined, size, sealed: false };
    if (list) list.push(c);
    else p.chunks.set(key, [c]);
  }

  put(id: bigint, key: string, value: string): void {
    this.mustExist(id);
    if (key === 'eventlog' || key === 'jobspec' || isChunked(key)) throw new Error(`store: ${key} cannot be set`);
    this.bound(id);
    (this.pendingOf(id).vals ??= new Map()).set(key, value);
    for (const w of this.watchers) w(id, key, value);
  }

  /** Writes are for jobs that exist (a bug otherwise): checked without a query for recent ones. */
  private mustExist(id: bigint): void {
    if (this.known.has(id)) return;
    if (!this.has(id)) throw new Error(`store: unknown job ${id}`);
    this.remember(id);
  }

  /**
   * Commit now if the batch is full and `id` would add to it (appends and puts only: a
   * createJobs batch is committed whole, so that its jobs are refused or accepted together).
   */
  private bound(id: bigint): void {
    if (this.batch.size < MAX_BATCH || this.failure !== undefined || this.batch.has(id)) return;
    this.unschedule();
    // while the checkpointer holds commits the batch grows, up to HELD_BATCH_MAX jobs: one
    // commit of a restart's writes held for a second would stop the loop for hundreds of ms
    this.commitNow(this.batch.size >= HELD_BATCH_MAX);
  }

  private remember(id: bigint): void {
    this.known.add(id);
  }

  /** One batch's writes, in one transaction (better-sqlite3's wrapper, made once). */
  private readonly writeBatch: (batch: Map<bigint, PendingJob>, maxId: bigint) => void;

  private writeBatchTx(batch: Map<bigint, PendingJob>, maxId: bigint): void {
    const st = this.st;
    let created = false;
    for (const [id, p] of batch) {
      const row = toRow(id);
      if (p.created) {
        const c = p.created;
        if (!this.blobs.has(c.ref)) st.insertBlob.run(c.ref, c.jobspec);
        st.insertJob.run(row, c.userid, c.ref, c.eventlog + (p.eventlog?.join('') ?? ''));
        created = true;
      } else if (p.eventlog) {
        if (st.appendEventlog.run(p.eventlog.join(''), row).changes === 0) {
          this.opts.log?.('err', `store ${this.file}: eventlog appends to unknown job ${id} dropped`);
        }
      }
      if (p.vals) for (const [k, v] of p.vals) st.putVal.run(row, k, v);
      if (p.chunks)
        for (const [k, list] of p.chunks) for (const c of list) st.insertChunk.run(row, k, c.seq, chunkData(c));
    }
    if (created) st.setMeta.run('max-jobid', String(maxId));
  }

  /**
   * Commit the batch in one transaction; on failure keep it and try again later. While the
   * checkpointer holds commits (checkpoint.ts), only a `force`d one goes in.
   */
  private commitNow(force = false): void {
    this.scheduled = undefined;
    if (this.batch.size === 0 && this.waiters.length === 0) return;
    if (!force && this.checkpointer?.hold) return; // its release schedules the commit
    const batch = this.batch;
    const waiters = this.waiters;
    const maxId = this.maxId;
    try {
      this.writeBatch(batch, maxId);
    } catch (e) {
      this.commitFailed(e);
      return;
    }
    this.batch = new Map();
    this.waiters = [];
    this.checkpointer?.committed();
    this.reuseChunkBuffers(batch);
    this.pendingBytes = 0;
    if (this.committedCbs.length > 0) {
      const cbs = this.committedCbs;
      this.committedCbs = [];
      for (const cb of cbs) cb();
    }
    for (const [, p] of batch) if (p.created) this.cacheBlob(p.created.ref, p.created.jobspec);
    if (this.failure) this.opts.log?.('info', `store ${this.file}: commits succeed again`);
    this.failure = undefined;
    if (this.walFd === undefined || this.closed) {
      for (const w of waiters) w.resolve();
      return;
    }
    for (const w of waiters) this.unsynced.push(w);
    this.syncWal();
  }

  /**
   * Sync the WAL on the thread pool, then acknowledge the commits made before the sync began;
   * commits made meanwhile wait for the next sync. If the sync fails, their jobs are refused
   * and taken out of the store again (nothing was acknowledged).
   */
  private syncWal(): void {
    if (this.syncing || this.unsynced.length === 0 || this.walFd === undefined) return;
    this.syncing = true;
    const waiters = this.unsynced;
    this.unsynced = [];
    const fd = this.walFd;
    fs.fdatasync(fd, (e) => {
      this.syncing = false;
      if (e) {
        const err = new FluxError(Errno.EIO, `store ${this.file}: syncing its write-ahead log: ${e.message}`);
        this.opts.log?.('err', err.message);
        const ids = waiters.flatMap((w) => w.ids);
        for (const w of waiters) w.reject(err);
        if (!this.closed) {
          this.removeJobs(ids).catch((x: Error) => this.opts.log?.('err', `store ${this.file}: ${x.message}`));
        }
      } else {
        for (const w of waiters) w.resolve();
      }
      if (!this.closed) this.syncWal();
      else fs.closeSync(fd); // close() left it to us
    });
  }

  /**
   * The record buffers of a committed batch's chunks back to the pool (SQLite has copied them),
   * but for those a reader was given (sealed): those are the reader's now.
   */
  private reuseChunkBuffers(batch: Map<bigint, PendingJob>): void {
    for (const [, p] of batch) {
      if (p.chunks === undefined) continue;
      for (const [, list] of p.chunks) {
        for (const c of list) {
          if (this.chunkPool.length >= CHUNK_POOL) return;
          if (c.buf?.length === CHUNK_BUF && !c.sealed) this.chunkPool.push(c.buf);
        }
      }
    }
  }

  get backlog(): number {
    return this.pendingBytes;
  }

  whenCommitted(cb: () => void): void {
    if (!this.closed) this.committedCbs.push(cb);
  }

  private commitFailed(e: unknown): void {
    const errno = errnoOfSqlite(e);
    const err = new FluxError(errno, `store ${this.file}: ${(e as Error).message}`);
    if (!this.failure) this.opts.log?.('err', `${err.message}: new jobs are refused until a commit succeeds`);
    this.failure = err;
    // The batch's new jobs are refused (never acknowledged); the rest is kept and retried.
    for (const w of this.waiters) {
      for (const id of w.ids) {
        this.batch.delete(id);
        this.known.delete(id);
      }
      w.reject(err);
    }
    this.waiters = [];
    if (this.batch.size > 0) this.schedule(RETRY_MS);
  }

  private cacheBlob(ref: string, text: string): void {
    if (this.blobs.has(ref)) return;
    if (this.blobs.size >= BLOB_CACHE) this.blobs.delete(this.blobs.keys().next().value!);
    this.blobs.set(ref, text);
  }

  // ---- reads -----------------------------------------------------------------------------

  has(id: bigint): boolean {
    return this.batch.get(id)?.created !== undefined || this.st.hasJob.get(toRow(id)) !== undefined;
  }

  get(id: bigint, key: string): string | undefined {
    const p = this.batch.get(id);
    if (key === 'eventlog') {
      const base = p?.created
        ? p.created.eventlog
        : (this.st.getEventlog.get(toRow(id)) as { eventlog: string } | undefined)?.eventlog;
      if (base === undefined) return undefined;
      return p?.eventlog ? base + p.eventlog.join('') : base;
    }
    if (key === 'jobspec') {
      if (p?.created) return p.created.jobspec;
      const r = this.st.getJobspecRef.get(toRow(id)) as { jobspec: string } | undefined;
      return r === undefined ? undefined : this.blob(r.jobspec);
    }
    if (isChunked(key)) {
      let out: string | undefined;
      let cursor = 0;
      for (;;) {
        const r = this.readLog(id, key, cursor, 1 << 20);
        if (r === undefined || r.text === '') return out;
        out = (out ?? '') + r.text;
        cursor = r.cursor;
      }
    }
    const v = p?.vals?.get(key);
    if (v !== undefined) return v;
    return (this.st.getVal.get(toRow(id), key) as { value: string } | undefined)?.value;
  }

  readLog(id: bigint, key: string, cursor: number, maxBytes: number): LogRead | undefined {
    const r = this.read(id, key, cursor, maxBytes);
    return r && { text: r.pieces.map((p) => (typeof p === 'string' ? p : recordsText(p))).join(''), cursor: r.cursor };
  }

  readLogPieces(id: bigint, key: string, cursor: number, maxBytes: number): LogPieces | undefined {
    return this.read(id, key, cursor, maxBytes);
  }

  private read(id: bigint, key: string, cursor: number, maxBytes: number): LogPieces | undefined {
    const pending = this.batch.get(id)?.chunks?.get(key);
    const firstPending = pending?.[0]?.seq ?? Infinity;
    const pieces: (string | Buffer)[] = [];
    let size = 0;
    let next = cursor;
    // committed chunks, a page at a time, each row read only if needed (iterate, not all: a page
    // of 16 chunks is 1 MiB, of which a small read wants one)
    while (next < firstPending && size < maxBytes) {
      let rows = 0;
      let stop = false;
      for (const r of this.st.readChunks.iterate(toRow(id), key, next, 16) as IterableIterator<{
        seq: bigint;
        data: string | Buffer;
      }>) {
        rows++;
        const seq = Number(r.seq);
        if (seq >= firstPending) {
          stop = true;
          break;
        }
        pieces.push(r.data);
        size += r.data.length;
        next = seq + 1;
        if (size >= maxBytes) break;
      }
      if (stop || rows < 16) break;
    }
    if (pieces.length === 0 && cursor === 0 && pending === undefined && !this.hasCommittedLog(id, key)) {
      return undefined;
    }
    // then what is not committed yet
    if (pending && size < maxBytes) {
      for (const c of pending) {
        if (c.seq < next) continue;
        c.sealed = true;
        const data = chunkData(c);
        pieces.push(data);
        size += data.length;
        next = c.seq + 1;
        if (size >= maxBytes) break;
      }
    }
    return { pieces, cursor: next };
  }

  logBytes(id: bigint, key: string): number {
    const row = this.st.logBytes.get(toRow(id), key) as { n: bigint | null };
    let n = row.n === null ? 0 : Number(row.n);
    for (const c of this.batch.get(id)?.chunks?.get(key) ?? [])
      n += c.buf !== undefined ? c.size : Buffer.byteLength(c.parts.join(''));
    return n;
  }

  private hasCommittedLog(id: bigint, key: string): boolean {
    return this.st.hasLog.get(toRow(id), key) !== undefined;
  }

  *ids(): Iterable<bigint> {
    for (const j of this.scan()) yield j.id;
  }

  /** Paged (the connection cannot run other statements while one iterates). */
  *scan(): Iterable<StoredJob> {
    let after: bigint | undefined;
    for (;;) {
      const page = this.scanPage(after, SCAN_PAGE);
      yield* page;
      if (page.length < SCAN_PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  scanPage(after: bigint | undefined, limit: number): StoredJob[] {
    this.commitNow(true); // jobs created in this batch are rows
    const rows = this.st.scanAfter.all(after === undefined ? -(2n ** 63n) : toRow(after), limit) as {
      id: bigint;
      userid: bigint;
      jobspec: string;
      eventlog: string;
    }[];
    const out: StoredJob[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const id = fromRow(r.id);
      const p = this.batch.get(id);
      const eventlog = p?.eventlog ? r.eventlog + p.eventlog.join('') : r.eventlog;
      out[i] = { id, userid: Number(r.userid), eventlog, jobspecRef: r.jobspec };
    }
    return out;
  }

  blob(ref: string): string | undefined {
    const hit = this.blobs.get(ref);
    if (hit !== undefined) return hit;
    const r = this.st.getBlob.get(ref) as { data: string } | undefined;
    if (r !== undefined) this.cacheBlob(ref, r.data);
    return r?.data;
  }

  maxJobId(): bigint {
    return this.maxId;
  }

  watch(cb: StoreWatcher): () => void {
    this.watchers.add(cb);
    return () => this.watchers.delete(cb);
  }

  /** Commit what is left, close the database; a scratch store's files are removed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.unschedule();
    this.commitNow(true);
    this.closed = true;
    this.watchers.clear();
    for (const w of this.waiters) w.reject(new FluxError(Errno.ENOSYS, 'store is closed'));
    this.waiters = [];
    if (this.batch.size > 0) {
      this.opts.log?.('err', `store ${this.file}: closed with ${this.batch.size} jobs' writes not committed`);
    }
    if (this.walFd !== undefined) {
      // what is committed is on the disk before the store closes
      const waiters = this.unsynced;
      this.unsynced = [];
      try {
        fs.fdatasyncSync(this.walFd);
        for (const w of waiters) w.resolve();
      } catch (e) {
        const err = new FluxError(
          Errno.EIO,
          `store ${this.file}: syncing its write-ahead log: ${(e as Error).message}`,
        );
        this.opts.log?.('err', err.message);
        for (const w of waiters) w.reject(err);
      }
      if (!this.syncing) fs.closeSync(this.walFd); // else the sync on its way closes it
      this.walFd = undefined;
    }
    // the checkpointer's connection closes first: the store's, the last, checkpoints the WAL
    // and removes it
    await this.checkpointer?.close();
    this.db.close();
    this.lock?.close();
    if (!this.opts.durable && this.file !== ':memory:') {
      for (const s of ['', '-wal', '-shm', '-journal', '-lock']) fs.rmSync(this.file + s, { force: true });
    }
  }
}
