/** The SQLite job store on real files: group commit, reads, chunked logs, reopening, bad files. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../src/broker/store/sqlite.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../../src/broker/store/schema.js';
import { dataRecord, lineRecord, recordsText } from '../../../src/job/output-records.js';
import { FluxError } from '../../../src/protocol/errno.js';
import { until } from '../../helpers/wait.js';
import { tempDir } from '../../helpers/temp.js';
import { toSchema3 } from '../../helpers/old-store.js';
import { LONG_LOG, longLog } from '../../../src/broker/store/checkpoint.js';

const EBUSY = 16;
const EINVAL = 22;
const EPROTO = 71;

function tmpFile(name = 'store.db'): string {
  return path.join(tempDir('tsflux-store-'), name);
}

const rec = (id: bigint, jobspec = '{"version":1}') => ({
  id,
  userid: 1000,
  jobspec,
  eventlog: `{"timestamp":1.0,"name":"submit","context":{"userid":1000}}\n`,
});

function rawCount(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number((db.prepare(sql).get() as { n: number }).n);
  } finally {
    db.close();
  }
}

describe('SqliteStore', () => {
  test('createJobs resolves after the commit; reads see writes at once; reopen keeps them', async () => {
    const file = tmpFile();
    const s = SqliteStore.open(file, { durable: true });
    const big = 2n ** 63n + 5n; // a FLUID above the signed 64-bit range round-trips
    const done = s.createJobs([rec(1n), rec(2n), rec(big)]);
    assert.equal(s.has(2n), true); // visible before the commit
    await done;
    s.append(1n, 'eventlog', '{"timestamp":2.0,"name":"validate"}\n');
    s.put(1n, 'R', '{"version":1}');
    s.append(1n, 'guest.output', 'a\n');
    s.append(1n, 'guest.output', 'b\n');
    assert.match(s.get(1n, 'eventlog')!, /validate/);
    assert.equal(s.get(1n, 'R'), '{"version":1}');
    assert.equal(s.get(1n, 'guest.output'), 'a\nb\n');
    assert.equal(s.get(1n, 'jobspec'), '{"version":1}');
    assert.equal(s.get(1n, 'nokey'), undefined);
    assert.equal(s.get(9n, 'eventlog'), undefined);
    assert.equal(s.maxJobId(), big);
    await s.close();

    const t = SqliteStore.open(file, { durable: true });
    assert.deepEqual([...t.ids()], [1n, 2n, big]);
    assert.match(t.get(1n, 'eventlog')!, /submit.*\n.*validate/s);
    assert.equal(t.get(1n, 'guest.output'), 'a\nb\n');
    assert.equal(t.get(1n, 'R'), '{"version":1}');
    assert.equal(t.maxJobId(), big);
    const scanned = [...t.scan()];
    assert.equal(scanned.length, 3);
    assert.equal(scanned[2]!.id, big);
    assert.equal(t.blob(scanned[0]!.jobspecRef), '{"version":1}');
    await t.close();
    assert.equal(fs.existsSync(file), true); // a durable store stays
  });

  test('a durable store acknowledges each commit after its sync, in order; close() finishes those on their way', async () => {
    const file = tmpFile();
    const s = SqliteStore.open(file, { durable: true });
    const acked: bigint[] = [];
    const all: Promise<void>[] = [];
    for (let i = 1n; i <= 6n; i++) {
      all.push(s.createJobs([rec(i)]).then(() => void acked.push(i)));
      await new Promise((r) => setImmediate(r)); // one commit each
    }
    await Promise.all(all);
    assert.deepEqual(acked, [1n, 2n, 3n, 4n, 5n, 6n]);
    // committed, not yet acknowledged when the store closes: acknowledged by close
    const last = s.createJobs([rec(7n)]);
    await new Promise((r) => setImmediate(r));
    const late = s.createJobs([rec(8n)]);
    await s.close();
    await last;
    await late;
    // writes need the job to exist: values and chunked logs are refused at once (known from
    // this store's own writes or looked up); an eventlog append (a restart makes one to every
    // queued job: no lookup each) is dropped by its commit, which says so
    const logged: string[] = [];
    const t = SqliteStore.open(file, { durable: true, log: (_level, msg) => logged.push(msg) });
    assert.deepEqual([...t.ids()], [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    t.append(1n, 'eventlog', '{"timestamp":2.0,"name":"validate"}\n');
    t.append(99n, 'eventlog', '{"timestamp":2.0,"name":"validate"}\n');
    assert.throws(() => t.put(99n, 'R', '{}'), /unknown job 99/);
    assert.throws(() => t.append(99n, 'guest.output', '{}\n'), /unknown job 99/);
    await new Promise((r) => setImmediate(r)); // the commit
    assert.deepEqual(logged, [`store ${file}: eventlog appends to unknown job 99 dropped`]);
    assert.equal(t.get(99n, 'eventlog'), undefined);
    assert.equal([...t.ids()].length, 8);
    assert.match(t.get(1n, 'eventlog')!, /"validate"/);
    await t.close();
  });

  test('a batch of writes to 1,000 jobs is committed at once, before the turn ends', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    const n = 1001;
    await s.createJobs(Array.from({ length: n }, (_, i) => rec(BigInt(i + 1))));
    let acked = false;
    void s.createJobs([rec(20_000n)]).then(() => (acked = true));
    for (let i = 1; i <= n; i++) s.append(BigInt(i), 'eventlog', '{"timestamp":2.0,"name":"validate"}\n');
    await Promise.resolve(); // microtasks only: the turn has not ended
    assert.equal(acked, true);
    assert.match(s.get(BigInt(n), 'eventlog')!, /validate/);
    assert.match(s.get(1n, 'eventlog')!, /submit.*\n.*validate/s);
    await s.close();
  });

  test('one jobspec shared by many jobs is stored once (content-addressed)', async () => {
    const file = tmpFile();
    const s = SqliteStore.open(file, { durable: true });
    const spec = JSON.stringify({ version: 1, pad: 'x'.repeat(2000) });
    await s.createJobs(Array.from({ length: 100 }, (_, i) => rec(BigInt(i + 1), spec)));
    await s.createJobs([rec(1000n, '{"other":1}')]);
    await s.close();
    assert.equal(rawCount(file, 'SELECT count(*) AS n FROM jobs'), 101);
    assert.equal(rawCount(file, 'SELECT count(*) AS n FROM blobs'), 2);
  });

  test('readLog walks a chunked log from a cursor, whole appends, without the rest', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    await s.createJobs([rec(1n)]);
    assert.equal(s.readLog(1n, 'guest.output', 0, 100), undefined); // no such log yet
    for (let i = 0; i < 10; i++) {
      s.append(1n, 'guest.output', `line${i}\n`);
      await new Promise((r) => setImmediate(r)); // one commit (one chunk) each
    }
    const first = s.readLog(1n, 'guest.output', 0, 12)!;
    assert.equal(first.text, 'line0\nline1\n');
    const rest = s.readLog(1n, 'guest.output', first.cursor, 1 << 20)!;
    assert.equal(rest.text, 'line2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\n');
    // appends not committed yet are read too, and a later read does not repeat them
    s.append(1n, 'guest.output', 'x\n');
    const live = s.readLog(1n, 'guest.output', rest.cursor, 100)!;
    assert.equal(live.text, 'x\n');
    s.append(1n, 'guest.output', 'y\n');
    const after = s.readLog(1n, 'guest.output', live.cursor, 100)!;
    assert.equal(after.text, 'y\n');
    assert.equal(s.readLog(1n, 'guest.output', after.cursor, 100)!.text, '');
    assert.equal(
      s.get(1n, 'guest.output'),
      'line0\nline1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nx\ny\n',
    );
    await s.close();
  });

  test('a turn of appends is cut into chunks of at most 64 KiB; logBytes counts them, committed or not, in UTF-8', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    await s.createJobs([rec(1n)]);
    assert.equal(s.logBytes(1n, 'guest.output'), 0);
    const piece = 'é'.repeat(1023) + '\n'; // 1024 characters, 2047 bytes
    for (let i = 0; i < 1024; i++) s.append(1n, 'guest.output', piece); // 1 Mi characters in one turn
    assert.equal(s.logBytes(1n, 'guest.output'), 1024 * 2047);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.logBytes(1n, 'guest.output'), 1024 * 2047);
    // a small read gets one chunk, not the whole turn's appends
    const r = s.readLog(1n, 'guest.output', 0, 1)!;
    assert.equal(r.text.length, 64 * 1024);
    s.append(1n, 'guest.output', 'x\n');
    assert.equal(s.logBytes(1n, 'guest.output'), 1024 * 2047 + 2);
    let text = r.text;
    for (let c = r.cursor; ;) {
      const more = s.readLog(1n, 'guest.output', c, 1)!;
      if (more.text === '') break;
      text += more.text;
      c = more.cursor;
    }
    assert.ok(text === piece.repeat(1024) + 'x\n');
    await s.close();
  });

  test('readLogPieces: one piece per chunk, whole lines, in order; an append that would overflow a chunk starts the next', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    await s.createJobs([rec(1n)]);
    assert.equal(s.readLogPieces(1n, 'guest.output', 0, 100), undefined); // no such log yet
    const line = (c: string, n: number) => c.repeat(n - 1) + '\n';
    // one turn: 40 Ki + 30 Ki characters do not fit in one 64 KiB chunk; 100 Ki is alone in its own
    s.append(1n, 'guest.output', line('a', 40 * 1024));
    s.append(1n, 'guest.output', line('b', 30 * 1024));
    s.append(1n, 'guest.output', line('c', 20 * 1024));
    s.append(1n, 'guest.output', line('d', 100 * 1024));
    s.append(1n, 'guest.output', line('é', 10));
    const sizes = (pieces: (string | Buffer)[]) => pieces.map((p) => p.length);
    const pending = s.readLogPieces(1n, 'guest.output', 0, 1 << 20)!;
    assert.deepEqual(sizes(pending.pieces), [40 * 1024, 50 * 1024, 100 * 1024, 10]);
    await new Promise((r) => setImmediate(r)); // committed: the same chunks, read back from the database
    const all = s.readLogPieces(1n, 'guest.output', 0, 1 << 20)!;
    assert.deepEqual(all.pieces, pending.pieces);
    assert.equal(all.cursor, pending.cursor);
    // a read stops after the chunk that reaches maxBytes; the next starts where it stopped
    const first = s.readLogPieces(1n, 'guest.output', 0, 60 * 1024)!;
    assert.deepEqual(sizes(first.pieces), [40 * 1024, 50 * 1024]);
    const rest = s.readLogPieces(1n, 'guest.output', first.cursor, 1 << 20)!;
    assert.equal(first.pieces.join('') + rest.pieces.join(''), all.pieces.join(''));
    assert.deepEqual(s.readLogPieces(1n, 'guest.output', all.cursor, 100)!.pieces, []);
    assert.equal(s.readLog(1n, 'guest.output', 0, 1 << 20)!.text, all.pieces.join(''));
    await s.close();
  });

  test('appendRecords: binary output records kept as BLOBs, byte for byte; read as text they are RFC 24 lines', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    await s.createJobs([rec(1n)]);
    const header = '{"timestamp":1,"name":"header","context":{"version":1}}\n';
    const bytes = Buffer.from([0x79, 0x0a, 0xff, 0x00]); // not UTF-8: rendered as base64
    const big = Buffer.alloc(64 * 1024 - 30, 0x61);
    s.appendRecords(1n, 'guest.output', lineRecord(header));
    s.appendRecords(1n, 'guest.output', dataRecord(2, 'stdout', 0, bytes));
    s.appendRecords(1n, 'guest.output', dataRecord(3, 'stderr', 1, big)); // does not fit: a chunk of its own
    const want = [
      Buffer.concat([lineRecord(header), dataRecord(2, 'stdout', 0, bytes)]),
      dataRecord(3, 'stderr', 1, big),
    ];
    const pending = s.readLogPieces(1n, 'guest.output', 0, 1 << 20)!;
    assert.deepEqual(pending.pieces, want);
    assert.equal(s.logBytes(1n, 'guest.output'), want[0]!.length + want[1]!.length);
    await new Promise((r) => setImmediate(r)); // committed: BLOB rows, the same bytes
    const all = s.readLogPieces(1n, 'guest.output', 0, 1 << 20)!;
    assert.deepEqual(all.pieces, want);
    assert.equal(s.logBytes(1n, 'guest.output'), want[0]!.length + want[1]!.length);
    const text = s.get(1n, 'guest.output')!;
    assert.equal(text, recordsText(Buffer.concat(want)));
    const lines = text.split('\n');
    assert.equal(lines[0] + '\n', header);
    assert.deepEqual(JSON.parse(lines[1]!).context, {
      stream: 'stdout',
      rank: '0',
      data: bytes.toString('base64'),
      encoding: 'base64',
    });
    assert.equal(JSON.parse(lines[2]!).context.data, big.toString());
    // a text append after records starts a chunk of its own (one kind per chunk)
    s.append(1n, 'guest.output', header);
    assert.deepEqual(s.readLogPieces(1n, 'guest.output', all.cursor, 1 << 20)!.pieces, [header]);
    assert.throws(() => s.appendRecords(1n, 'R', lineRecord(header)), /R cannot hold records/);
    await s.close();
  });

  test('appendRecords copies: the caller may reuse its buffer; a piece read before the commit is never overwritten', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    await s.createJobs([rec(1n), rec(2n)]);
    const scratch = Buffer.alloc(70 * 1024);
    const data = (c: number): Buffer => Buffer.alloc(60 * 1024, c);
    // job 1: two records made in the same scratch memory, one after the other
    s.appendRecords(1n, 'guest.output', dataRecord(1, 'stdout', 0, data(0x61), scratch));
    s.appendRecords(1n, 'guest.output', dataRecord(2, 'stdout', 0, data(0x62), scratch));
    assert.equal(s.backlog, 2 * dataRecord(1, 'stdout', 0, data(0x61)).length);
    // a reader takes the pending chunks (as job-info's watch does)
    const seen = s.readLogPieces(1n, 'guest.output', 0, 1 << 20)!;
    const want = [dataRecord(1, 'stdout', 0, data(0x61)), dataRecord(2, 'stdout', 0, data(0x62))];
    assert.deepEqual(seen.pieces, want);
    let commits = 0;
    s.whenCommitted(() => commits++);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([commits, s.backlog], [1, 0]);
    // more output, many commits: chunk memory is reused, but never what the reader holds
    for (let i = 0; i < 100; i++) {
      s.appendRecords(2n, 'guest.output', dataRecord(i, 'stderr', 1, data(0x30 + (i % 10)), scratch));
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(seen.pieces, want);
    assert.deepEqual(s.readLogPieces(1n, 'guest.output', 0, 1 << 20)!.pieces, want);
    const job2 = s.readLogPieces(2n, 'guest.output', 0, 1 << 30)!.pieces;
    assert.deepEqual(
      job2,
      Array.from({ length: 100 }, (_, i) => dataRecord(i, 'stderr', 1, data(0x30 + (i % 10)))),
    );
    assert.equal(commits, 1, 'whenCommitted: once');
    await s.close();
  });

  test('removeJobs leaves nothing of a job', async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    await s.createJobs([rec(1n), rec(2n)]);
    s.append(1n, 'guest.output', 'a\n');
    await s.removeJobs([1n]);
    assert.equal(s.has(1n), false);
    assert.equal(s.get(1n, 'guest.output'), undefined);
    assert.deepEqual([...s.ids()], [2n]);
    await s.close();
  });

  test("commits are copied into the database by the checkpointer's thread; the last connection removes the WAL", async () => {
    const file = tmpFile();
    const s = SqliteStore.open(file, { durable: true });
    const before = fs.statSync(file).size;
    const jobs = Array.from({ length: 2000 }, (_, i) => rec(BigInt(i + 1), `{"version":1,"n":${i}}`));
    await s.createJobs(jobs);
    // the store's own connection never checkpoints (wal_autocheckpoint=0): only the worker's
    // copies the WAL into the database file
    await until(() => fs.statSync(file).size > before, 'a checkpoint');
    assert.equal(s.get(2000n, 'jobspec'), '{"version":1,"n":1999}');
    await s.close();
    assert.equal(fs.existsSync(file + '-wal'), false);
    assert.equal(rawCount(file, 'SELECT count(*) AS n FROM jobs'), 2000);
  });

  test("the store's connection: WAL and a page cache of 2 MiB (not better-sqlite3's 16 MiB)", async () => {
    for (const durable of [true, false]) {
      const s = SqliteStore.open(tmpFile(), { durable });
      await s.createJobs([rec(1n)]);
      const got = s.settings();
      assert.equal(got.journalMode, 'wal');
      assert.equal(got.cacheKiB, 2000);
      assert.equal(got.mmapSize, 0); // mapped pages would count in the broker's resident memory
      await s.close();
    }
  });

  test('a new store has pages of 16 KiB; a store made with pages of 4 KiB keeps them, through migrations', async () => {
    const fresh = tmpFile();
    const s = SqliteStore.open(fresh, { durable: true });
    await s.createJobs([rec(1n)]);
    assert.equal(s.settings().pageSize, 16384);
    await s.close();
    const again = SqliteStore.open(fresh, { durable: true });
    assert.equal(again.settings().pageSize, 16384);
    await again.close();
    assert.equal(rawCount(fresh, 'SELECT page_size AS n FROM pragma_page_size'), 16384);

    // a store as an older tsflux made it: SQLite's default page size, schema version 1
    const old = tmpFile();
    const d = new Database(old);
    d.pragma('page_size = 4096');
    d.pragma('journal_mode = WAL');
    d.exec(MIGRATIONS[0]!);
    d.pragma(`application_id = ${APPLICATION_ID}`);
    d.pragma('user_version = 1');
    d.close();
    const t = SqliteStore.open(old, { durable: true });
    await t.createJobs([rec(7n)]);
    t.append(7n, 'guest.exec.eventlog', '{"timestamp":1.0,"name":"init"}\n');
    assert.equal(t.settings().pageSize, 4096);
    await t.close();
    const u = SqliteStore.open(old, { durable: true });
    assert.equal(u.settings().pageSize, 4096);
    assert.deepEqual([...u.ids()], [7n]);
    assert.match(u.get(7n, 'guest.exec.eventlog')!, /init/);
    await u.close();
    assert.equal(rawCount(old, 'SELECT user_version AS n FROM pragma_user_version'), SCHEMA_VERSION);
  });

  test('a store of schema 3 (chunks WITHOUT ROWID) is migrated: its chunks are rows numbered by seq, read back the same', async () => {
    const file = tmpFile();
    const s = SqliteStore.open(file, { durable: true });
    await s.createJobs([rec(1n), rec(2n)]);
    const header = '{"timestamp":1,"name":"header","context":{"version":1}}\n';
    // chunks of two jobs interleaved, one per commit: text (eventlogs; output as schema 2 wrote
    // it) and BLOBs of output records, small and over a page (16 KiB)
    s.append(1n, 'guest.exec.eventlog', '{"timestamp":1.0,"name":"init"}\n');
    s.appendRecords(1n, 'guest.output', lineRecord(header));
    s.append(2n, 'guest.output', 'text output\n');
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 6; i++) {
      s.appendRecords(1n, 'guest.output', dataRecord(i, 'stdout', 0, Buffer.alloc(i * 9000 + 1, 0xf0 + i)));
      s.append(2n, 'guest.output', `line ${i} ${'é'.repeat(i * 3000)}\n`);
      await new Promise((r) => setImmediate(r));
    }
    const read = (t: SqliteStore, id: bigint, key: string) => t.readLogPieces(id, key, 0, 1 << 30)!;
    const before = [read(s, 1n, 'guest.output'), read(s, 2n, 'guest.output'), read(s, 1n, 'guest.exec.eventlog')];
    await s.close();
    toSchema3(file);
    const sqlOf = (name: string) => {
      const d = new Database(file, { readonly: true });
      try {
        return (d.prepare('SELECT sql FROM sqlite_schema WHERE name = ?').get(name) as { sql: string } | undefined)
          ?.sql;
      } finally {
        d.close();
      }
    };
    assert.match(sqlOf('chunks')!, /WITHOUT ROWID/);
    assert.equal(rawCount(file, 'SELECT user_version AS n FROM pragma_user_version'), 3);

    const t = SqliteStore.open(file, { durable: true });
    assert.equal(rawCount(file, 'SELECT user_version AS n FROM pragma_user_version'), SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, 4);
    assert.doesNotMatch(sqlOf('chunks')!, /WITHOUT ROWID/);
    assert.match(sqlOf('chunks')!, /seq INTEGER PRIMARY KEY/);
    assert.match(sqlOf('chunks_log')!, /ON chunks \(id, key, seq\)/);
    assert.equal(sqlOf('chunks4'), undefined);
    const after = [read(t, 1n, 'guest.output'), read(t, 2n, 'guest.output'), read(t, 1n, 'guest.exec.eventlog')];
    assert.deepEqual(after, before); // text stays text, BLOBs stay BLOBs, byte for byte
    assert.ok(Buffer.isBuffer(after[0]!.pieces[1]) && typeof after[1]!.pieces[0] === 'string');
    // new chunks come after every old one, and a reader's cursor goes on from where it was
    t.appendRecords(1n, 'guest.output', lineRecord('{"timestamp":2,"name":"eof"}\n'));
    await new Promise((r) => setImmediate(r));
    const more = t.readLogPieces(1n, 'guest.output', before[0]!.cursor, 1 << 20)!;
    assert.deepEqual(more.pieces, [lineRecord('{"timestamp":2,"name":"eof"}\n')]);
    assert.equal(t.logBytes(2n, 'guest.output'), Buffer.byteLength(before[1]!.pieces.join('')));
    await t.removeJobs([2n]);
    assert.equal(t.readLogPieces(2n, 'guest.output', 0, 100), undefined);
    await t.close();
    assert.equal(rawCount(file, 'SELECT count(*) AS n FROM chunks WHERE id NOT IN (SELECT id FROM jobs)'), 0);
  });

  test("every statement on chunks finds a log's rows by the index (id, key, seq), in order, without sorting", async () => {
    const s = SqliteStore.open(':memory:', { durable: false });
    const plans = s.queryPlans();
    assert.match(plans.readChunks!, /^SEARCH chunks USING INDEX chunks_log \(id=\? AND key=\? AND seq>\?\)$/);
    assert.match(plans.hasLog!, /^SEARCH chunks USING COVERING INDEX chunks_log \(id=\? AND key=\?\)$/);
    assert.match(plans.logBytes!, /^SEARCH chunks USING INDEX chunks_log \(id=\? AND key=\?\)$/);
    assert.match(plans.deleteChunks!, /^SEARCH chunks USING INDEX chunks_log \(id=\?\)$/);
    assert.equal(plans.maxSeqAll, 'SEARCH chunks'); // the last rowid
    await s.close();
  });

  test('the write-ahead log is long at 128 MiB of pages, whatever the page size', () => {
    assert.equal(LONG_LOG, 128 * 1024 * 1024);
    assert.equal(longLog(8191, 16384), false);
    assert.equal(longLog(8192, 16384), true);
    assert.equal(longLog(8192, 4096), false); // 32 MiB
    assert.equal(longLog(32768, 4096), true);
    assert.equal(longLog(2048, 65536), true);
  });

  test('a scratch store removes its files at close', async () => {
    const file = tmpFile();
    const s = SqliteStore.open(file, { durable: false });
    await s.createJobs([rec(1n)]);
    assert.equal(fs.existsSync(file), true);
    await s.close();
    assert.deepEqual(fs.readdirSync(path.dirname(file)), []);
  });

  test('bad files: not a database, another program, a newer schema', async () => {
    const notDb = tmpFile();
    fs.writeFileSync(notDb, 'this is not a database, it is a text file with enough bytes in it '.repeat(20));
    assert.throws(
      () => SqliteStore.open(notDb, { durable: true }),
      (e: FluxError) => e.errno === EINVAL && e.message.includes(notDb) && /not a tsflux store/.test(e.message),
    );
    assert.match(fs.readFileSync(notDb, 'utf8'), /^this is not a database/); // untouched

    const other = tmpFile();
    const db = new Database(other);
    db.exec('CREATE TABLE t (a)');
    db.close();
    assert.throws(
      () => SqliteStore.open(other, { durable: true }),
      (e: FluxError) => e.errno === EINVAL && /another program's database/.test(e.message),
    );

    const newer = tmpFile();
    await SqliteStore.open(newer, { durable: true }).close();
    const d2 = new Database(newer);
    d2.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    d2.close();
    assert.throws(
      () => SqliteStore.open(newer, { durable: true }),
      (e: FluxError) =>
        e.errno === EPROTO && new RegExp(`newer tsflux \\(schema version ${SCHEMA_VERSION + 1}`).test(e.message),
    );
  });

  test('a store in use by another process is refused (EBUSY)', async () => {
    const file = tmpFile();
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { SqliteStore } from ${JSON.stringify(new URL('../../../src/broker/store/sqlite.js', import.meta.url).href)};
         SqliteStore.open(${JSON.stringify(file)}, { durable: true });
         console.log('open');
         process.stdin.resume();`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      let out = '';
      holder.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await until(() => out.includes('open\n'), 'the holder to open the store');
      assert.throws(
        () => SqliteStore.open(file, { durable: true }),
        (e: FluxError) => e.errno === EBUSY && /in use by another instance/.test(e.message),
      );
    } finally {
      holder.stdin!.end();
      await new Promise((r) => holder.once('exit', r));
    }
    // once it is gone, the store opens
    await SqliteStore.open(file, { durable: true }).close();
  });
});
