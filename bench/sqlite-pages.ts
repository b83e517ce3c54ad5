/**
 * SQLite page size and memory mapping for the store (docs/architecture.md "store"), measured on
 * SQLite alone (better-sqlite3 as the store opens it: WAL, synchronous=NORMAL, each commit's WAL
 * synced with fdatasync as a durable store does), in a fresh database per case:
 *
 * (1) large rows, a job's output: MIB MiB (default 1024) written as BLOB rows of 64 KiB, and of
 *     1 byte to 64 KiB spread evenly (as the store's chunks are: one a turn, cut at 64 KiB), into
 *     the `chunks` shape of store schemas 1-3 (WITHOUT ROWID, keyed (id, key, seq)),
 *     16 rows a commit, checkpointed; then read back in order by cursor, 16 rows a query (as a
 *     replay does), with `mmap_size` 0 and 1 GiB, from the page cache (warm) and, where `dd
 *     iflag=nocache` can drop the file from the page cache, from the disk (cold). Also the same
 *     rows in a rowid table keyed by `seq` with an index on (id, key, seq), the shape SQLite's
 *     documentation advises for rows larger than about a twentieth of a page, and the store's
 *     from schema 4 on (src/broker/store/schema.ts).
 * (2) small rows, the submit path: ROWS rows of 2.5 KB (default 100,000) in a `jobs`-shaped
 *     table, in commits of 1,000 (a bulk submit's group commit) and of 1 (one submit a turn).
 *
 * For each page size (4096, SQLite's default; 16384; 65536), R runs of each (default 3), the
 * median shown. Prints tables; asserts nothing.
 *
 *   node dist/bench/sqlite-pages.js [--mib=1024] [--rows=100000] [--reps=3] [--pages=4096,16384,65536]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const CHUNK = 64 * 1024;
const PER_COMMIT = 16;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface Opts {
  mib: number;
  rows: number;
  reps: number;
  pages: number[];
}

function rm(file: string): void {
  for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
}

/** A new database with `page` bytes a page (set before WAL and the first table, or it is ignored). */
function create(file: string, page: number, schema: string): Database.Database {
  rm(file);
  const db = new Database(file);
  db.pragma(`page_size = ${page}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(schema);
  const got = Number(db.pragma('page_size', { simple: true }));
  if (got !== page) throw new Error(`page_size ${page} asked, ${got} given`);
  return db;
}

const CHUNKS = `CREATE TABLE chunks (id INTEGER NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (id, key, seq)) WITHOUT ROWID`;
const CHUNKS_ROWID = `CREATE TABLE chunks (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL);
  CREATE INDEX chunks_log ON chunks (id, key, seq)`;
const JOBS = `CREATE TABLE jobs (id INTEGER PRIMARY KEY, userid INTEGER NOT NULL, jobspec TEXT NOT NULL, eventlog TEXT NOT NULL)`;

/** fdatasync the WAL after a commit, as a durable store does (src/broker/store/sqlite.ts). */
function walSyncer(file: string): () => void {
  let fd: number | undefined;
  return () => {
    fd ??= fs.openSync(file + '-wal', 'r');
    fs.fdatasyncSync(fd);
  };
}

/**
 * The size of row `s`: 64 KiB, or (`mixed`) spread evenly over 1 byte to 64 KiB, as the store's
 * chunks are (one a turn of the event loop, cut at 64 KiB).
 */
const rowSize = (s: number, mixed: boolean): number => (mixed ? 1 + ((s * 40503) % CHUNK) : CHUNK);

/** Write `mib` MiB of rows of job 1's `guest.output`; MiB/s, the file's MiB, the bytes written. */
function writeChunks(
  file: string,
  page: number,
  mib: number,
  schema: string,
  mixed: boolean,
): { rate: number; size: number; bytes: number } {
  const db = create(file, page, schema);
  const sync = walSyncer(file);
  const ins = db.prepare('INSERT INTO chunks (id, key, seq, data) VALUES (?, ?, ?, ?)');
  const buf = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) buf[i] = i % 2 ? 10 : 121; // `yes` output
  const total = mib * 2 ** 20;
  let bytes = 0;
  let seq = 0;
  const commit = db.transaction(() => {
    for (let k = 0; k < PER_COMMIT && bytes < total; k++) {
      const n = Math.min(rowSize(seq, mixed), total - bytes);
      ins.run(1, 'guest.output', seq++, buf.subarray(0, n));
      bytes += n;
    }
  });
  const t0 = performance.now();
  for (let c = 0; bytes < total; c++) {
    commit();
    sync();
    // the store's checkpointer keeps the log short (src/broker/store/checkpoint.ts)
    if (c % 64 === 63) db.pragma('wal_checkpoint(PASSIVE)');
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  const rate = mib / ((performance.now() - t0) / 1000);
  db.close();
  return { rate, size: fs.statSync(file).size / 2 ** 20, bytes };
}

/** Drop `file` from the page cache (GNU dd); false where that is not possible. */
function dropCache(file: string): boolean {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  return r.status === 0;
}

/** Read job 1's `guest.output` back by cursor, 16 rows a query, in a new connection: MiB/s. */
function readChunks(file: string, mmap: number, mib: number, written: number): number {
  const db = new Database(file, { readonly: true });
  db.pragma(`mmap_size = ${mmap}`);
  const st = db.prepare('SELECT seq, data FROM chunks WHERE id = ? AND key = ? AND seq >= ? ORDER BY seq LIMIT ?');
  let next = 0;
  let bytes = 0;
  const t0 = performance.now();
  for (;;) {
    let n = 0;
    for (const r of st.iterate(1, 'guest.output', next, PER_COMMIT) as Iterable<{ seq: number; data: Buffer }>) {
      bytes += r.data.length;
      next = r.seq + 1;
      n++;
    }
    if (n < PER_COMMIT) break;
  }
  const sec = (performance.now() - t0) / 1000;
  db.close();
  if (bytes !== written) throw new Error(`read ${bytes} bytes, wrote ${written}`);
  return mib / sec;
}

/** `rows` rows of 2.5 KB into a `jobs` table, `batch` a commit, each commit's WAL synced: rows/s. */
function writeSmall(file: string, page: number, rows: number, batch: number): number {
  const db = create(file, page, JOBS);
  const sync = walSyncer(file);
  const ins = db.prepare('INSERT INTO jobs (id, userid, jobspec, eventlog) VALUES (?, ?, ?, ?)');
  const ref = 'sha256-' + '0'.repeat(64);
  const log = '{"timestamp":1700000000.123456,"name":"submit","context":{"userid":0,"urgency":16,"flags":0}}\n';
  const commit = db.transaction((from: number) => {
    for (let i = from; i < from + batch; i++) ins.run(i + 1, 0, ref, log.repeat(26) + String(i)); // ~2.5 KB
  });
  const t0 = performance.now();
  for (let i = 0; i < rows; i += batch) {
    commit(i);
    sync();
    if ((i / batch) % 256 === 255) db.pragma('wal_checkpoint(PASSIVE)');
  }
  const rate = rows / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

export function run(o: Opts): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-bench-sqlite-'));
  const file = path.join(dir, 'store.db');
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(0));
  try {
    const big: string[][] = [
      [`${o.mib} MiB of output`, 'write MiB/s', 'file MiB', 'read MiB/s', 'mmap read', 'cold read', 'cold mmap read'],
    ];
    for (const [shape, schema, mixed] of [
      ['WITHOUT ROWID, 64 KiB rows', CHUNKS, false],
      ['WITHOUT ROWID, rows of 0-64 KiB', CHUNKS, true],
      ['rowid = seq, 64 KiB rows', CHUNKS_ROWID, false],
      ['rowid = seq, rows of 0-64 KiB', CHUNKS_ROWID, true],
    ] as const) {
      for (const page of o.pages) {
        const w: number[] = [];
        const rd: number[][] = [[], [], [], []];
        let size = 0;
        for (let r = 0; r < o.reps; r++) {
          const x = writeChunks(file, page, o.mib, schema, mixed);
          w.push(x.rate);
          size = x.size;
          rd[0]!.push(readChunks(file, 0, o.mib, x.bytes));
          rd[1]!.push(readChunks(file, 2 ** 30, o.mib, x.bytes));
          rd[2]!.push(dropCache(file) ? readChunks(file, 0, o.mib, x.bytes) : NaN);
          rd[3]!.push(dropCache(file) ? readChunks(file, 2 ** 30, o.mib, x.bytes) : NaN);
        }
        big.push([`${shape}, page ${page}`, f(median(w)), f(size), ...rd.map((xs) => f(median(xs)))]);
      }
    }
    rm(file);
    const cat = (() => {
      const data = path.join(dir, 'plain');
      fs.writeFileSync(data, Buffer.alloc(o.mib * 2 ** 20, 'y\n'));
      const t0 = performance.now();
      spawnSync('cat', [data], { stdio: ['ignore', 'ignore', 'ignore'] });
      const rate = o.mib / ((performance.now() - t0) / 1000);
      fs.rmSync(data);
      return rate;
    })();
    const small: string[][] = [[`${o.rows} rows of 2.5 KB`, 'rows/s, commits of 1,000', 'rows/s, commits of 1']];
    for (const page of o.pages) {
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < o.reps; r++) {
        a.push(writeSmall(file, page, o.rows, 1000));
        b.push(writeSmall(file, page, Math.min(o.rows, 5000), 1));
      }
      small.push([`page ${page}`, f(median(a)), f(median(b))]);
    }
    console.log(
      'reads: a new connection, 16 rows a query by cursor; mmap: mmap_size 1 GiB; cold: after dd iflag=nocache',
    );
    console.log(table(big));
    console.log(`(cat of a ${o.mib} MiB file from the page cache: ${f(cat)} MiB/s)\n`);
    console.log(table(small));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string, d: string) =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
  run({
    mib: Number(arg('mib', '1024')),
    rows: Number(arg('rows', '100000')),
    reps: Number(arg('reps', '3')),
    pages: arg('pages', '4096,16384,65536').split(',').map(Number),
  });
}
