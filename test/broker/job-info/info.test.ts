/** job-info through a real Broker and SqliteStore: eventlog-watch, cancel, lookup. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { SqliteStore } from '../../../src/broker/store/sqlite.js';
import { JobInfoService } from '../../../src/broker/job-info/info.js';
import { FluxError } from '../../../src/protocol/errno.js';
import { LOOKUP_MAX } from '../../../src/broker/job-info/info.js';
import { TestRequest, createJob, eventlogVector, line, turn, vector, type ReqOpts } from './harness.js';
import { dataRecord, lineRecord, textRecords } from '../../../src/job/output-records.js';

const ENOENT = 2;
const EPERM = 1;
const EPROTO = 71;
const ENODATA = 61;
const EINVAL = 22;
const EFBIG = 27;
const EIO = 5;

async function setup() {
  const store = SqliteStore.open(':memory:', { durable: false });
  const broker = new Broker({ hostname: 'vm', store, owner: 0 });
  const info = new JobInfoService();
  broker.register(info);
  await broker.start();
  return { broker, store, info };
}

function watch(broker: Broker, id: bigint, path = 'eventlog', flags = 0, opts: ReqOpts = {}): TestRequest {
  const r = new TestRequest('job-info.eventlog-watch', { id, path, flags }, { streaming: true, ...opts });
  broker.dispatch(r);
  return r;
}

function cancel(broker: Broker, matchtag: number, conn = 'c1'): void {
  broker.dispatch(
    new TestRequest('job-info.eventlog-watch-cancel', { matchtag }, { conn, matchtag: 0, noresponse: true }),
  );
}

function lookup(broker: Broker, payload: object, opts: ReqOpts = {}): TestRequest {
  const r = new TestRequest('job-info.lookup', payload, opts);
  broker.dispatch(r);
  return r;
}

const NORMAL = ['validate', 'depend', 'priority', 'alloc', 'start', 'finish', 'release', 'free', 'clean'];

describe('job-info.eventlog-watch', () => {
  test('replays existing lines, follows appends, ends with ENODATA after clean', async () => {
    const { broker, store, info } = await setup();
    await createJob(store, 1n);
    store.append(1n, 'eventlog', line('validate'));
    const w = watch(broker, 1n);
    assert.deepEqual(w.summary(), ['submit', 'validate']);
    assert.equal(info.watchCount, 1);
    for (const n of NORMAL.slice(1)) store.append(1n, 'eventlog', line(n));
    assert.deepEqual(w.summary(), ['submit', ...NORMAL, `E${ENODATA}`]);
    // each response is one line with its trailing newline
    const first = w.answers[0] as { payload: any };
    assert.ok(first.payload.event.endsWith('}\n'));
    assert.equal(first.payload.event.split('\n').length, 2);
    // lines appended after clean are not sent; the watch is gone
    store.append(1n, 'eventlog', line('foobar'));
    assert.equal(w.answers.length, NORMAL.length + 2);
    assert.equal(info.watchCount, 0);
  });

  test('several lines in one append are sent one per response', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const w = watch(broker, 1n);
    store.append(1n, 'eventlog', line('validate') + line('depend') + line('priority', { priority: 16 }));
    assert.deepEqual(w.summary(), ['submit', 'validate', 'depend', 'priority']);
  });

  test('an inactive job replays its whole log then ENODATA (vector success.eventlog)', async () => {
    const { broker, store } = await setup();
    const log = eventlogVector('success.eventlog');
    const lines = log.split('\n').filter(Boolean);
    await store.createJobs([{ id: 7n, userid: 0, jobspec: '{}', eventlog: lines[0] + '\n' }]);
    store.append(7n, 'eventlog', lines.slice(1).join('\n') + '\n');
    const w = watch(broker, 7n);
    assert.deepEqual(
      w.answers.slice(0, -1).map((a) => ('payload' in a ? a.payload.event : '')),
      lines.map((l) => l + '\n'),
    );
    assert.deepEqual(w.lastError, { errnum: ENODATA, text: undefined });
  });

  test('INITIAL_SENTINEL: after the existing lines (active job), before ENODATA (inactive job)', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    store.append(1n, 'eventlog', line('validate'));
    const w = watch(broker, 1n, 'eventlog', 2);
    assert.deepEqual(w.summary(), ['submit', 'validate', 'SENTINEL']);
    store.append(1n, 'eventlog', line('depend'));
    assert.deepEqual(w.summary(), ['submit', 'validate', 'SENTINEL', 'depend']);

    // py-sentinel-watch.json: inactive job → all lines, the sentinel, then ENODATA
    await createJob(store, 2n);
    store.append(2n, 'eventlog', NORMAL.map((n) => line(n)).join(''));
    const w2 = watch(broker, 2n, 'eventlog', 2);
    assert.deepEqual(w2.summary(), ['submit', ...NORMAL, 'SENTINEL', `E${ENODATA}`]);
    const cap = vector('py-sentinel-watch.json');
    const b2c = cap.messages.filter((m: any) => m.dir === 'b2c').map((m: any) => m.decoded);
    assert.equal(b2c[b2c.length - 2].payload, null);
    assert.equal(b2c[b2c.length - 1].errnum, ENODATA);
    assert.equal(b2c.length, w2.answers.length);
  });

  test('WAITCREATE: guest.output before the job starts, then follow until both eofs', async () => {
    const { broker, store, info } = await setup();
    await createJob(store, 1n);
    const w = watch(broker, 1n, 'guest.output', 1 | 2);
    assert.deepEqual(w.summary(), ['SENTINEL']);
    assert.equal(info.watchersOf(1n), 1);
    store.append(
      1n,
      'guest.output',
      line('header', {
        version: 1,
        encoding: { stdout: 'UTF-8', stderr: 'UTF-8' },
        count: { stdout: 1, stderr: 1 },
        options: {},
      }),
    );
    store.append(1n, 'guest.output', line('data', { stream: 'stderr', rank: '0', data: 'err\n' }));
    store.append(1n, 'guest.output', line('data', { stream: 'stdout', rank: '0', data: 'out\n' }));
    store.append(1n, 'guest.output', line('data', { stream: 'stderr', rank: '0', eof: true }));
    assert.equal(w.finished, false);
    store.append(1n, 'guest.output', line('data', { stream: 'stdout', rank: '0', eof: true }));
    assert.deepEqual(w.summary(), ['SENTINEL', 'header', 'data', 'data', 'data', 'data', `E${ENODATA}`]);
    assert.equal(info.watchCount, 0);
  });

  test('guest.output: one eof record covering several ranks ends its stream', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    store.append(1n, 'guest.output', line('header', { version: 1, count: { stdout: 4, stderr: 4 }, options: {} }));
    const w = watch(broker, 1n, 'guest.output');
    store.append(1n, 'guest.output', line('data', { stream: 'stdout', rank: '0-3', eof: true }));
    assert.equal(w.finished, false);
    store.append(1n, 'guest.output', line('data', { stream: 'stderr', rank: '0-1', eof: true }));
    store.append(1n, 'guest.output', line('data', { stream: 'stderr', rank: '[2-3]', eof: true }));
    assert.equal(w.lastError?.errnum, ENODATA);
  });

  test('guest.output of an inactive job (cli-job-attach-output.json) replays then ENODATA', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const cap = vector('cli-job-attach-output.json');
    const outLines: string[] = cap.messages
      .filter((m: any) => m.dir === 'b2c' && m.decoded.matchtag === 1 && m.decoded.payload?.includes('"stream'))
      .map((m: any) => JSON.parse(m.decoded.payload).event);
    const header = cap.messages.find((m: any) => m.dir === 'b2c' && m.decoded.payload?.includes('header')).decoded
      .payload;
    store.append(1n, 'guest.output', JSON.parse(header).event + outLines.join(''));
    store.append(1n, 'eventlog', NORMAL.map((n) => line(n)).join(''));
    const w = watch(broker, 1n, 'guest.output');
    assert.deepEqual(w.summary(), ['header', 'data', 'data', 'data', 'data', `E${ENODATA}`]);
  });

  test('output-watch: guest.output as the stored records, raw, one response a chunk; ends after the eofs', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const header = line('header', { version: 1, count: { stdout: 1, stderr: 1 }, options: {} });
    const bytes = Buffer.from([0x61, 0xff, 0x0a]); // not UTF-8: raw bytes all the same
    store.appendRecords(1n, 'guest.output', lineRecord(header));
    store.appendRecords(1n, 'guest.output', dataRecord(1.5, 'stdout', 0, bytes));
    await turn(); // committed: the next appends are a chunk of their own
    const w = new TestRequest('job-info.output-watch', { id: 1n, flags: 0 }, { streaming: true, raw: true });
    broker.dispatch(w);
    const first = Buffer.concat([lineRecord(header), dataRecord(1.5, 'stdout', 0, bytes)]);
    assert.deepEqual(w.answers, [{ payload: first }]);
    const eofs = [
      lineRecord(line('data', { stream: 'stdout', rank: '0', eof: true })),
      lineRecord(line('data', { stream: 'stderr', rank: '0', eof: true })),
    ];
    // appended while it follows: each as it comes, then the end after the last eof
    store.appendRecords(1n, 'guest.output', dataRecord(2, 'stderr', 0, Buffer.from('err\n')));
    for (const e of eofs) store.appendRecords(1n, 'guest.output', e);
    assert.deepEqual(w.answers.slice(1), [
      { payload: dataRecord(2, 'stderr', 0, Buffer.from('err\n')) },
      { payload: eofs[0] },
      { payload: eofs[1] },
      { errnum: ENODATA, text: undefined },
    ]);
    // a reader of eventlog-watch gets the same log as RFC 24 lines
    const ev = watch(broker, 1n, 'guest.output');
    assert.deepEqual(ev.summary(), ['header', 'data', 'data', 'data', 'data', `E${ENODATA}`]);
    assert.deepEqual(JSON.parse((ev.answers[1] as { payload: { event: string } }).payload.event).context, {
      stream: 'stdout',
      rank: '0',
      data: bytes.toString('base64'),
      encoding: 'base64',
    });
  });

  test('output-watch of a store that kept guest.output as text (schema 2): its lines as LINE records', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const text =
      line('header', { version: 1, count: { stdout: 1, stderr: 1 }, options: {} }) +
      line('data', { stream: 'stdout', rank: '0', data: 'out\n' }) +
      line('data', { stream: 'stdout', rank: '0', eof: true }) +
      line('data', { stream: 'stderr', rank: '0', eof: true });
    store.append(1n, 'guest.output', text);
    const w = new TestRequest('job-info.output-watch', { id: 1n, flags: 0 }, { streaming: true, raw: true });
    broker.dispatch(w);
    assert.deepEqual(w.answers, [{ payload: textRecords(text) }, { errnum: ENODATA, text: undefined }]);
  });

  test('output-watch: bad requests, and records damaged in the store (EIO, named); the service carries on', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const ask = (payload: object, opts: ReqOpts = {}) => {
      const r = new TestRequest('job-info.output-watch', payload, { streaming: true, raw: true, ...opts });
      broker.dispatch(r);
      return r.lastError;
    };
    assert.deepEqual(ask({}), { errnum: EPROTO, text: 'invalid payload: id is required' });
    assert.deepEqual(ask({ id: 1n }, { streaming: false }), {
      errnum: EPROTO,
      text: 'output-watch request rejected without streaming RPC flag',
    });
    assert.deepEqual(ask({ id: 1n, flags: 4 }), {
      errnum: EPROTO,
      text: 'output-watch request rejected with invalid flag',
    });
    assert.deepEqual(ask({ id: 1n }, { raw: false }), {
      errnum: EPROTO,
      text: 'output-watch is answered over a connection only',
    });
    assert.equal(ask({ id: 99n })?.errnum, ENOENT);
    assert.equal(ask({ id: 1n }, { userid: 1000, rolemask: 2 })?.errnum, EPERM);
    store.appendRecords(1n, 'guest.output', Buffer.from([2, 0, 0])); // a DATA record cut short
    for (const r of [
      new TestRequest('job-info.output-watch', { id: 1n }, { streaming: true, raw: true }),
      new TestRequest('job-info.eventlog-watch', { id: 1n, path: 'guest.output' }, { streaming: true }),
    ]) {
      broker.dispatch(r);
      assert.equal(r.lastError?.errnum, EIO);
      assert.match(
        r.lastError!.text!,
        /^guest\.output of job ƒ\w+ is damaged in the store: output record at 0: cut short$/,
      );
    }
    assert.equal(watch(broker, 1n, 'eventlog').answers.length, 1); // still serving
  });

  test('guest.output without eofs ends when the job becomes inactive', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    store.append(1n, 'guest.output', line('header', { version: 1, count: { stdout: 1, stderr: 1 }, options: {} }));
    const w = watch(broker, 1n, 'guest.output');
    store.append(
      1n,
      'eventlog',
      NORMAL.slice(0, -1)
        .map((n) => line(n))
        .join(''),
    );
    assert.equal(w.finished, false);
    store.append(1n, 'eventlog', line('clean'));
    assert.deepEqual(w.summary(), ['header', `E${ENODATA}`]);
  });

  test('guest.exec.eventlog ends after done (vector success.exec.eventlog)', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const lines = eventlogVector('success.exec.eventlog').split('\n').filter(Boolean);
    store.append(1n, 'guest.exec.eventlog', lines.slice(0, 3).join('\n') + '\n');
    const w = watch(broker, 1n, 'guest.exec.eventlog');
    assert.deepEqual(w.summary(), ['init', 'starting', 'shell.init']);
    for (const l of lines.slice(3)) store.append(1n, 'guest.exec.eventlog', l + '\n');
    assert.deepEqual(w.summary(), [...lines.map((l) => JSON.parse(l).name), `E${ENODATA}`]);
  });

  test('guest.exec.eventlog without done ends at clean; a guest log that never appeared: ENODATA / ENOENT', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    store.append(1n, 'guest.exec.eventlog', line('init'));
    const w = watch(broker, 1n, 'guest.exec.eventlog');
    store.append(1n, 'eventlog', NORMAL.map((n) => line(n)).join(''));
    assert.deepEqual(w.summary(), ['init', `E${ENODATA}`]);

    // never started (canceled while pending): waiting watch ends with ENODATA
    await createJob(store, 2n);
    const w2 = watch(broker, 2n, 'guest.exec.eventlog');
    assert.equal(w2.answers.length, 0);
    store.append(
      2n,
      'eventlog',
      line('exception', { type: 'cancel', severity: 0, note: '', userid: 0 }) + line('clean'),
    );
    assert.deepEqual(w2.summary(), [`E${ENODATA}`]);
    // and a new watch on it now: ENODATA at once
    assert.deepEqual(watch(broker, 2n, 'guest.output', 1).summary(), [`E${ENODATA}`]);
    // started, but the key never appeared: ENOENT
    assert.deepEqual(watch(broker, 1n, 'guest.foobar', 1).summary(), [`E${ENOENT}`]);
  });

  test('WAITCREATE on a main-namespace key; without it ENOENT', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    assert.deepEqual(watch(broker, 1n, 'foobar.eventlog').summary(), [`E${ENOENT}`]);
    const w = watch(broker, 1n, 'foobar.eventlog', 1);
    assert.equal(w.answers.length, 0);
    store.append(1n, 'foobar.eventlog', line('foobar'));
    assert.deepEqual(w.summary(), ['foobar']);
  });

  test('cancel: one ENODATA; cancel after the end and unknown tags are ignored; a reused tag is a new RPC', async () => {
    const { broker, store, info } = await setup();
    await createJob(store, 1n);
    const w = watch(broker, 1n, 'eventlog', 0, { matchtag: 1 });
    const other = watch(broker, 1n, 'eventlog', 0, { matchtag: 1, conn: 'c2' });
    assert.equal(info.watchCount, 2);
    cancel(broker, 1);
    assert.deepEqual(w.summary(), ['submit', `E${ENODATA}`]);
    assert.equal(other.finished, false, 'same matchtag on another connection is untouched');
    cancel(broker, 1);
    cancel(broker, 99);
    assert.equal(w.answers.length, 2);
    // the C tools cancel after ENODATA: nothing more is sent
    await createJob(store, 2n);
    store.append(2n, 'eventlog', NORMAL.map((n) => line(n)).join(''));
    const done = watch(broker, 2n, 'eventlog', 0, { matchtag: 3 });
    assert.equal(done.lastError?.errnum, ENODATA);
    const n = done.answers.length;
    cancel(broker, 3);
    assert.equal(done.answers.length, n);
    // matchtag 1 reused for a new watch: it is live and cancelable
    const again = watch(broker, 1n, 'eventlog', 0, { matchtag: 1 });
    store.append(1n, 'eventlog', line('validate'));
    assert.deepEqual(again.summary(), ['submit', 'validate']);
    assert.equal(w.answers.length, 2, 'the ended watch gets nothing');
    cancel(broker, 1);
    assert.deepEqual(again.summary(), ['submit', 'validate', `E${ENODATA}`]);
    assert.equal(info.watchCount, 1);
  });

  test('cancel ends every live watch of that connection with that matchtag (flux-core watchers_cancel)', async () => {
    const { broker, store, info } = await setup();
    await createJob(store, 1n);
    await createJob(store, 2n);
    const a = watch(broker, 1n, 'eventlog', 0, { matchtag: 7 });
    const b = watch(broker, 2n, 'eventlog', 0, { matchtag: 7 });
    const c = watch(broker, 2n, 'eventlog', 0, { matchtag: 8 });
    cancel(broker, 7);
    assert.deepEqual(a.summary(), ['submit', `E${ENODATA}`]);
    assert.deepEqual(b.summary(), ['submit', `E${ENODATA}`]);
    assert.equal(c.finished, false);
    assert.equal(info.watchCount, 1);
  });

  test('a cancel sent from a response callback during replay stops the replay', async () => {
    const { broker, store, info } = await setup();
    await createJob(store, 1n);
    store.append(
      1n,
      'eventlog',
      NORMAL.slice(0, 4)
        .map((n) => line(n))
        .join(''),
    );
    const r = new TestRequest(
      'job-info.eventlog-watch',
      { id: 1n, path: 'eventlog', flags: 2 },
      { streaming: true, matchtag: 4 },
    );
    r.onAnswer = () => {
      if (r.answers.length === 2) cancel(broker, 4);
    };
    broker.dispatch(r);
    assert.deepEqual(r.summary(), ['submit', 'validate', `E${ENODATA}`]);
    assert.equal(info.watchCount, 0);
  });

  test('errors: unknown id ENOENT (no text), not streaming EPROTO, bad flag EPROTO, bad path EINVAL', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    assert.deepEqual(watch(broker, 123456789n).lastError, { errnum: ENOENT, text: undefined });
    const ns = new TestRequest('job-info.eventlog-watch', { id: 1n, path: 'eventlog', flags: 0 }, { streaming: false });
    broker.dispatch(ns);
    assert.deepEqual(ns.lastError, {
      errnum: EPROTO,
      text: 'eventlog-watch request rejected without streaming RPC flag',
    });
    assert.equal(watch(broker, 1n, 'eventlog', 4).lastError?.errnum, EPROTO);
    assert.equal(watch(broker, 1n, '../x').lastError?.errnum, EINVAL);
    const nopath = new TestRequest('job-info.eventlog-watch', { id: 1 }, { streaming: true });
    broker.dispatch(nopath);
    assert.equal(nopath.lastError?.errnum, EPROTO);
  });

  test('EPERM for another user; a guest may watch its own job', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n, { userid: 1000 });
    assert.equal(watch(broker, 1n, 'eventlog', 0, { userid: 1001, rolemask: 2 }).lastError?.errnum, EPERM);
    assert.deepEqual(watch(broker, 1n, 'eventlog', 0, { userid: 1000, rolemask: 2 }).summary(), ['submit']);
    assert.equal(
      lookup(broker, { id: 1n, keys: ['eventlog'], flags: 0 }, { userid: 1001, rolemask: 2 }).lastError?.errnum,
      EPERM,
    );
  });

  test("disconnect drops that connection's watches only", async () => {
    const { broker, store, info } = await setup();
    await createJob(store, 1n);
    const a = watch(broker, 1n, 'eventlog', 0, { conn: 'a', matchtag: 1 });
    const a2 = watch(broker, 1n, 'guest.output', 1, { conn: 'a', matchtag: 2 });
    const b = watch(broker, 1n, 'eventlog', 0, { conn: 'b', matchtag: 1 });
    assert.equal(info.watchCount, 3);
    broker.disconnect('a');
    assert.equal(info.watchCount, 1);
    store.append(1n, 'eventlog', line('validate'));
    assert.deepEqual(a.summary(), ['submit']);
    assert.deepEqual(a2.summary(), []);
    assert.deepEqual(b.summary(), ['submit', 'validate']);
    // the wire form of disconnect too
    broker.dispatch(new TestRequest('job-info.disconnect', undefined, { conn: 'b', noresponse: true }));
    assert.equal(info.watchCount, 0);
  });

  test('in-process streaming rpc resolves at ENODATA', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const seen: string[] = [];
    const p = broker.rpc(
      'job-info.eventlog-watch',
      { id: 1n, path: 'eventlog', flags: 0 },
      {
        streaming: true,
        onResponse: (r: any) => seen.push(JSON.parse(r.event).name),
      },
    );
    store.append(1n, 'eventlog', NORMAL.map((n) => line(n)).join(''));
    await p;
    assert.deepEqual(seen, ['submit', ...NORMAL]);
    await assert.rejects(
      broker.rpc('job-info.eventlog-watch', { id: 5n, path: 'eventlog', flags: 0 }, { streaming: true }),
      (e: FluxError) => e.errno === ENOENT,
    );
  });

  test('an append made from a response callback during replay keeps the order', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    store.append(1n, 'eventlog', line('validate'));
    const r = new TestRequest('job-info.eventlog-watch', { id: 1n, path: 'eventlog', flags: 2 }, { streaming: true });
    let once = false;
    r.onAnswer = () => {
      if (!once) {
        once = true;
        store.append(1n, 'eventlog', line('depend'));
      }
    };
    broker.dispatch(r);
    assert.deepEqual(r.summary(), ['submit', 'validate', 'SENTINEL', 'depend']);
  });

  test('a long guest.output is read from the store piece by piece, committed and not, in order', async () => {
    const { broker, store } = await setup();
    await createJob(store, 1n);
    const header = line('header', { version: 1, count: { stdout: 1, stderr: 1 }, options: {} });
    const lines = Array.from({ length: 3101 }, (_, i) =>
      line('data', { stream: 'stdout', rank: '0', data: `${i} ${'x'.repeat(1000)}\n` }),
    );
    const data = (i: number) => lines[i]!;
    store.append(1n, 'guest.output', header);
    for (let i = 0; i < 3000; i++) store.append(1n, 'guest.output', data(i)); // 3 MB, many chunks
    await turn(); // committed
    for (let i = 3000; i < 3100; i++) store.append(1n, 'guest.output', data(i)); // not yet
    const w = watch(broker, 1n, 'guest.output', 2);
    const sent = () =>
      w.answers.filter((a) => 'payload' in a && a.payload !== undefined).map((a: any) => a.payload.event);
    assert.equal(sent().length, 3101);
    assert.ok(sent().join('') === header + lines.slice(0, 3100).join(''), 'every line, in order');
    assert.equal(w.summary()[3101], 'SENTINEL');
    // live: each append is sent as it comes, then the eofs end it
    store.append(1n, 'guest.output', data(3100));
    assert.equal(sent().length, 3102);
    store.append(1n, 'guest.output', line('data', { stream: 'stdout', rank: '0', eof: true }));
    store.append(1n, 'guest.output', line('data', { stream: 'stderr', rank: '0', eof: true }));
    assert.equal(w.lastError?.errnum, ENODATA);
  });

  test('scale: 20,000 watches, an append reaches only the watchers of its job', async () => {
    const { broker, store, info } = await setup();
    const N = 20000;
    const reqs: TestRequest[] = [];
    const ids: bigint[] = [];
    for (let i = 1; i <= N; i++) ids.push(BigInt(i));
    await store.createJobs(
      ids.map((id) => ({
        id,
        userid: 0,
        jobspec: '{}',
        eventlog: line('submit', { userid: 0, urgency: 16, flags: 0, version: 1 }),
      })),
    );
    for (const id of ids) reqs.push(watch(broker, id, 'eventlog', 0, { conn: 'internal-ish', matchtag: Number(id) }));
    assert.equal(info.watchCount, N);
    for (const id of ids) store.append(id, 'eventlog', line('validate'));
    assert.ok(reqs.every((r) => r.answers.length === 2));
    const all = NORMAL.slice(1)
      .map((n) => line(n))
      .join('');
    for (const id of ids) store.append(id, 'eventlog', all);
    assert.ok(reqs.every((r) => r.lastError?.errnum === ENODATA));
    assert.equal(info.watchCount, 0);
  });
});

describe('job-info.lookup', () => {
  const cap = vector('cli-job-info-lookup.json');
  const resp = (i: number) => JSON.parse(cap.messages.filter((m: any) => m.dir === 'b2c')[i].decoded.payload);
  const jobspecText: string = resp(0).jobspec;
  const Rtext: string = resp(1).R;
  const eventlogText: string = resp(2).eventlog;

  async function withJob() {
    const s = await setup();
    // stored as ingest / manager write them: compact JSON, jobspec with its environment
    const js = JSON.parse(jobspecText);
    js.attributes.system.environment = { PATH: '/bin', HOME: '/root' };
    const lines = eventlogText.split('\n').filter(Boolean);
    await s.store.createJobs([{ id: 45013270528n, userid: 0, jobspec: JSON.stringify(js), eventlog: lines[0] + '\n' }]);
    s.store.append(45013270528n, 'eventlog', lines.slice(1).join('\n') + '\n');
    s.store.put(45013270528n, 'R', JSON.stringify(JSON.parse(Rtext)));
    return s;
  }

  test('eventlog (flags 0): the whole log text, id echoed', async () => {
    const { broker } = await withJob();
    const r = lookup(broker, { id: 45013270528, keys: ['eventlog'], flags: 0 });
    assert.deepEqual(r.answers, [{ payload: { id: 45013270528n, eventlog: eventlogText } }]);
  });

  test('jobspec and R with flags 2: redacted jansson text, byte for byte as the capture', async () => {
    const { broker } = await withJob();
    const j = lookup(broker, { id: 45013270528, keys: ['jobspec'], flags: 2 });
    assert.equal((j.answers[0] as any).payload.jobspec, jobspecText);
    const R = lookup(broker, { id: 45013270528, keys: ['R'], flags: 2 });
    assert.equal((R.answers[0] as any).payload.R, Rtext);
  });

  test('several keys; flags 0 jobspec is the stored text; flags 1 decodes', async () => {
    const { broker, store } = await withJob();
    const r = lookup(broker, { id: 45013270528, keys: ['jobspec', 'R', 'eventlog'], flags: 0 });
    const p = (r.answers[0] as any).payload;
    assert.equal(p.jobspec, store.get(45013270528n, 'jobspec'));
    assert.ok(p.jobspec.includes('environment'));
    assert.equal(typeof p.R, 'string');
    const d = lookup(broker, { id: 45013270528, keys: ['jobspec', 'R'], flags: 3 });
    const dp = (d.answers[0] as any).payload;
    assert.deepEqual(dp.jobspec, JSON.parse(jobspecText));
    assert.equal(dp.R.execution.expiration, 0);
  });

  test('CURRENT applies jobspec-update and resource-update events', async () => {
    const { broker, store } = await withJob();
    store.append(45013270528n, 'eventlog', line('jobspec-update', { 'attributes.system.duration': 60 }));
    store.append(45013270528n, 'eventlog', line('resource-update', { expiration: 1795624800.5 }));
    const r = lookup(broker, { id: 45013270528, keys: ['jobspec', 'R'], flags: 2 });
    const p = (r.answers[0] as any).payload;
    assert.ok(p.jobspec.includes('"duration": 60'));
    assert.ok(p.R.includes('"expiration": 1795624800.5'));
  });

  test('errors: unknown id ENOENT "invalid job id", unknown key ENOENT naming it, bad flags EPROTO', async () => {
    const { broker } = await withJob();
    assert.deepEqual(lookup(broker, { id: 123456789, keys: ['eventlog'], flags: 0 }).lastError, {
      errnum: ENOENT,
      text: 'invalid job id',
    });
    const k = lookup(broker, { id: 45013270528, keys: ['eventlog', 'nosuch'], flags: 0 });
    assert.equal(k.lastError?.errnum, ENOENT);
    assert.match(k.lastError!.text!, /nosuch/);
    assert.equal(lookup(broker, { id: 45013270528, keys: ['eventlog'], flags: 8 }).lastError?.errnum, EPROTO);
    assert.equal(lookup(broker, { id: 45013270528, keys: 'eventlog', flags: 0 }).lastError?.errnum, EPROTO);
  });

  test('a guest log too long for one answer: EFBIG naming the key and its size, and what to use instead', async () => {
    const { broker, store } = await withJob();
    const id = 45013270528n;
    const piece = line('data', { stream: 'stdout', rank: '0', data: 'y\n'.repeat(50000) });
    let bytes = 0;
    while (bytes <= LOOKUP_MAX) {
      store.append(id, 'guest.output', piece);
      bytes += piece.length;
    }
    await turn();
    store.append(id, 'guest.output', piece); // and some not committed yet
    bytes += piece.length;
    const r = lookup(broker, { id: 45013270528, keys: ['guest.output'], flags: 0 });
    assert.equal(r.lastError?.errnum, EFBIG);
    assert.equal(
      r.lastError?.text,
      `guest.output of job ƒ2Bafn6B is ${bytes} bytes (${Number((bytes / 1024 / 1024).toPrecision(8))}M), ` +
        'more than job-info.lookup returns (16M): read it with job-info.eventlog-watch, e.g. tsflux job attach ƒ2Bafn6B',
    );
    // the broker carries on: a short key of the same job still answers
    assert.equal(lookup(broker, { id: 45013270528, keys: ['R'], flags: 0 }).answers.length, 1);
  });

  test('guest.exec.eventlog is a lookup key too', async () => {
    const { broker, store } = await withJob();
    store.append(45013270528n, 'guest.exec.eventlog', line('init') + line('done'));
    const r = lookup(broker, { id: 45013270528, keys: ['guest.exec.eventlog'], flags: 0 });
    assert.equal((r.answers[0] as any).payload['guest.exec.eventlog'].split('\n').length, 3);
  });
});
