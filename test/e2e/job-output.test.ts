/**
 * A job's output through a real instance, its socket and the CLI: the per-job output limit
 * (src/job/output-limit.ts), a client that stops reading a large output (its queue in the broker
 * stays bounded while other clients are served: docs/architecture.md "Flow control"), and the
 * replay of a large output by `tsflux job attach`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { suiteInstance } from '../helpers/instance.js';
import { baseEnv, tsflux } from '../helpers/cli.js';
import { tsfluxBin } from '../helpers/paths.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import * as job from '../../src/client/job/index.js';
import { uriToPath, type Flux } from '../../src/client/handle.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { encodeJobId } from '../../src/job/jobid.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import { encodeMessage, request } from '../../src/protocol/codec.js';
import { MsgFlag } from '../../src/protocol/types.js';
import { FLOW_HIGH, FLOW_LOW, READ_BYTES } from '../../src/broker/job-info/info.js';
import type { ClientConn } from '../../src/broker/server.js';

const s = suiteInstance();
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function spec(cmd: string[], attrs: Record<string, unknown> = {}): JobspecV1 {
  const js = JobspecV1.fromCommand(cmd, { environment: env });
  for (const [k, v] of Object.entries(attrs)) js.setattr(k, v);
  return js;
}

/** A job's guest.output read back: stdout, and the shell's log messages. */
async function output(h: Flux, id: bigint): Promise<{ stdout: string; log: string[] }> {
  const out: string[] = [];
  const log: string[] = [];
  for await (const ev of job.eventWatch(h, id, { path: 'guest.output' })) {
    const c = ev.context as Record<string, any>;
    if (ev.name === 'data' && c.stream === 'stdout' && typeof c.data === 'string') out.push(c.data);
    if (ev.name === 'log') log.push(`${c.component}: ${c.message}`);
  }
  return { stdout: out.join(''), log };
}

/** What `seq 1 N` prints. */
function seqText(n: number): string {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) parts.push(`${i}\n`);
  return parts.join('');
}

test('output.limit through the CLI: the first LIMIT bytes are kept and attach prints why the rest is not', async () => {
  const r = await tsflux(
    ['run', '-o', 'output.limit=64k', 'sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" y'],
    s.inst.uri,
  );
  assert.equal(r.rc, 0, r.stderr);
  assert.equal(r.stdout, 'y'.repeat(65536));
  assert.match(r.stderr, /flux-shell\[0\]: {2}WARN: output: stdout will be truncated, 64k limit exceeded\n/);
  assert.match(r.stderr, /flux-shell\[0\]: {2}WARN: output: stdout: 234464 of 300000 bytes truncated\n/);
});

test(
  'a job printing without end past its limit: the broker keeps the first LIMIT bytes and carries on',
  { timeout: HANG_TIMEOUT },
  async () => {
    const h = s.h;
    const id = await job.submit(h, spec(['yes'], { 'system.shell.options.output.limit': '1M' }), { waitable: true });
    // the warning is written when the limit is passed; yes goes on until canceled
    for await (const ev of job.eventWatch(h, id, { path: 'guest.output' })) {
      if (ev.name === 'log') break;
    }
    assert.equal((await h.rpc('broker.ping', {})).rank, 0);
    await job.cancel(h, id, 'enough');
    await job.wait(h, id);
    const { stdout, log } = await output(h, id);
    assert.equal(stdout.length, 1024 * 1024);
    assert.equal(stdout, 'y\n'.repeat(512 * 1024));
    assert.equal(log[0], 'output: stdout will be truncated, 1M limit exceeded');
    const m = /^output: stdout: (\d+) of (\d+) bytes truncated$/.exec(log[1] ?? '');
    assert.ok(m, `truncation summary in ${JSON.stringify(log)}`);
    assert.equal(Number(m[2]) - Number(m[1]), 1024 * 1024);
    // kept output is small enough for a lookup too
    const text: string = (await job.lookup(h, id, ['guest.output'], 0))['guest.output'];
    assert.ok(text.includes('limit exceeded'));
  },
);

function rawConnect(uri: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(uriToPath(uri));
    sock.once('error', reject);
    sock.once('data', (b) => {
      assert.equal(b[0], 0, 'handshake byte is 0');
      assert.equal(b.length, 1);
      resolve(sock);
    });
  });
}

test(
  'watches of a large output by a client that does not read: bounded queue in the broker, others served, all delivered in order once it reads',
  { timeout: HANG_TIMEOUT },
  async (t) => {
    const { inst, h } = s;
    const N = 1_000_000; // 6.9 MB of output, about 8 MB on the wire per watch
    const expected = seqText(N);
    const id = await job.submit(h, spec(['seq', '1', String(N)]), { waitable: true });
    assert.equal((await job.wait(h, id)).success, true);

    const before = new Set(inst.server.connections());
    const sock = await rawConnect(inst.uri);
    t.after(() => sock.destroy());
    sock.pause(); // reads nothing from here on
    const conn = inst.server.connections().find((c) => !before.has(c))!;
    assert.ok(conn, 'the raw client has a connection');
    const WATCHES = 5;
    for (let tag = 1; tag <= WATCHES; tag++) {
      const payload = { id, path: 'guest.output', flags: 0 };
      sock.write(
        encodeMessage(request('job-info.eventlog-watch', payload, { matchtag: tag, flags: MsgFlag.STREAMING })),
      );
    }
    // Unpaced, the broker would queue the whole output for each watch at once (40 MB). Paced, at
    // most one read past FLOW_HIGH: READ_BYTES and a chunk (256 KiB and an output event, 1 MiB).
    const bound = FLOW_HIGH + READ_BYTES + 2 * 1024 * 1024;
    await until(() => conn.queuedBytes > FLOW_HIGH, 'the stalled connection to fill its queue');
    for (let i = 0; i < 20; i++) {
      assert.ok(conn.queuedBytes <= bound, `queued ${conn.queuedBytes} bytes, bound ${bound}`);
      assert.equal((await h.rpc('broker.ping', { seq: i })).seq, i); // another client is served
    }
    assert.ok(conn.queuedBytes <= bound, `queued ${conn.queuedBytes} bytes, bound ${bound}`);
    assert.ok(conn.queuedMessages < 2000, `queued ${conn.queuedMessages} messages`);

    // Now it reads: every watch gets the whole output, in order, then ENODATA.
    const dec = new StreamDecoder();
    const got = new Map<number, string[]>();
    let ended = 0;
    const done = new Promise<void>((resolve, reject) => {
      sock.on('data', (chunk: Buffer) => {
        try {
          for (const m of dec.push(chunk)) {
            if (m.aux1 !== 0) {
              assert.equal(m.aux1, 61, `watch ${m.aux2} ends with ENODATA`);
              if (++ended === WATCHES) resolve();
              continue;
            }
            const ev = JSON.parse(JSON.parse(m.payload!.toString('utf8')).event);
            if (ev.name === 'data' && ev.context.stream === 'stdout' && ev.context.data !== undefined) {
              let list = got.get(m.aux2);
              if (!list) got.set(m.aux2, (list = []));
              list.push(ev.context.data);
            }
          }
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    sock.resume();
    await done;
    for (let tag = 1; tag <= WATCHES; tag++) assert.ok(got.get(tag)!.join('') === expected, `watch ${tag}`);
    sock.destroy();
  },
);

test(
  'tsflux job attach replays the multi-MB output of an inactive job, byte for byte',
  { timeout: HANG_TIMEOUT },
  async () => {
    const { inst, h } = s;
    const N = 800_000; // 5.4 MB
    const id = await job.submit(h, spec(['seq', '1', String(N)]), { waitable: true });
    assert.equal((await job.wait(h, id)).success, true);
    const r = await tsflux(['job', 'attach', encodeJobId(id, 'f58')], inst.uri);
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(r.stdout === seqText(N), `attach printed ${r.stdout.length} characters`);
  },
);

test(
  'an attach whose stdout is not read (it blocks writing): its output waits in the broker, bounded, then comes whole and in order',
  { timeout: HANG_TIMEOUT },
  async (t) => {
    const { inst, h } = s;
    const N = 1_000_000;
    const id = await job.submit(h, spec(['seq', '1', String(N)]), { waitable: true });
    assert.equal((await job.wait(h, id)).success, true);
    const before = new Set(inst.server.connections());
    const child = spawn(process.execPath, [tsfluxBin, 'job', 'attach', encodeJobId(id, 'f58')], {
      env: { ...baseEnv(), FLUX_URI: inst.uri },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // nobody reads its stdout: the attach blocks in a write (stdout is synchronous on Linux)
    let conn: ClientConn | undefined;
    await until(() => {
      conn = inst.server.connections().find((c) => !before.has(c) && c.queuedBytes > FLOW_HIGH);
      return conn !== undefined;
    }, 'the attach to leave its output in the broker');
    for (let i = 0; i < 10; i++) await h.rpc('broker.ping', {});
    assert.ok(conn!.queuedBytes > FLOW_LOW, `still ${conn!.queuedBytes} bytes queued: the attach is not reading`);
    assert.ok(conn!.queuedBytes <= FLOW_HIGH + READ_BYTES + 2 * 1024 * 1024);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    assert.equal(await closed, 0);
    assert.ok(Buffer.concat(chunks).toString('utf8') === seqText(N), 'attach printed the whole output in order');
  },
);

/** ~3 MB of text with multi-byte characters, quotes, backslashes, tabs and control characters. */
function mixedText(): string {
  const parts: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    parts.push(`${i} é€😀 "q" \\ \t\u0001 ${'ü'.repeat(i % 50)}\n`);
    if (i % 997 === 0) parts.push('😀'.repeat(20_000)); // a long run without a newline
  }
  return parts.join('');
}

test(
  'output with multi-byte characters cut anywhere by the reads: data events of at most 64 Ki characters, live and replayed byte for byte',
  { timeout: HANG_TIMEOUT },
  async (t) => {
    const { inst, h } = s;
    const text = mixedText();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-mixed-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'mixed.txt');
    fs.writeFileSync(file, text);
    // one attach follows the log while it is appended, a later one replays it from the store
    const id = await job.submit(h, spec(['cat', file]), { waitable: true });
    const live = await tsflux(['job', 'attach', encodeJobId(id, 'f58')], inst.uri);
    assert.equal(live.rc, 0, live.stderr);
    assert.ok(live.stdout === text, `the live attach printed ${live.stdout.length} characters of ${text.length}`);
    assert.equal((await job.wait(h, id)).success, true);
    const replay = await tsflux(['job', 'attach', encodeJobId(id, 'f58')], inst.uri);
    assert.equal(replay.rc, 0, replay.stderr);
    assert.ok(replay.stdout === text, `attach printed ${replay.stdout.length} characters of ${text.length}`);
    const sizes: number[] = [];
    let joined = '';
    for await (const ev of job.eventWatch(h, id, { path: 'guest.output' })) {
      const c = ev.context as Record<string, any>;
      if (ev.name === 'data' && typeof c.data === 'string') {
        sizes.push(c.data.length);
        joined += c.data;
      }
    }
    assert.ok(joined === text);
    assert.ok(sizes.length > 1 && Math.max(...sizes) <= 64 * 1024, `data events of ${Math.max(...sizes)} characters`);
  },
);

/** Run the CLI; its stdout as bytes. */
function tsfluxBytes(args: string[], uri: string): Promise<{ rc: number | null; stdout: Buffer; stderr: string }> {
  const child = spawn(process.execPath, [tsfluxBin, ...args], {
    env: { ...baseEnv(), FLUX_URI: uri },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (rc) => resolve({ rc, stdout: Buffer.concat(out), stderr })));
}

test(
  'bytes that are not UTF-8 come out of run and attach as they were printed; eventlog readers get them as base64',
  { timeout: HANG_TIMEOUT },
  async () => {
    const { inst, h } = s;
    // not UTF-8: \377, and \303 without its second byte; then é whole
    const printed = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x0a, 0xc3, 0xa9, 0x63, 0x0a]);
    const printf = "printf 'a\\377b\\303\\n\\303\\251c\\n'";
    const run = await tsfluxBytes(['run', 'sh', '-c', printf], inst.uri);
    assert.equal(run.rc, 0, run.stderr);
    assert.deepEqual(run.stdout, printed);
    const id = await job.submit(h, spec(['sh', '-c', printf]), { waitable: true });
    assert.equal((await job.wait(h, id)).success, true);
    const replay = await tsfluxBytes(['job', 'attach', encodeJobId(id, 'f58')], inst.uri);
    assert.equal(replay.rc, 0, replay.stderr);
    assert.deepEqual(replay.stdout, printed);
    // Flux's clients read guest.output as RFC 24 events: flux-core's base64 encoding for these
    const data: Buffer[] = [];
    for await (const ev of job.eventWatch(h, id, { path: 'guest.output' })) {
      const c = ev.context as Record<string, any>;
      if (ev.name !== 'data' || c.data === undefined) continue;
      assert.equal(c.encoding, 'base64');
      data.push(Buffer.from(c.data, 'base64'));
    }
    assert.deepEqual(Buffer.concat(data), printed);
  },
);

test(
  'stdin past the limit reaches the tasks but is not kept in guest.input; its eof is',
  { timeout: HANG_TIMEOUT },
  async () => {
    const h = s.h;
    const id = await job.submit(h, spec(['wc', '-c'], { 'system.shell.options.output.limit': '1k' }), {
      waitable: true,
    });
    await job.eventWait(h, id, 'shell.init', { path: 'guest.exec.eventlog' });
    const svc = `${process.getuid!()}-shell-${encodeJobId(id, 'f58plain')}.stdin`;
    for (let i = 0; i < 3; i++) await h.rpc(svc, { stream: 'stdin', rank: 'all', data: 'z'.repeat(600) });
    await h.rpc(svc, { stream: 'stdin', rank: 'all', eof: true });
    assert.equal((await job.wait(h, id)).success, true);
    const { stdout, log } = await output(h, id);
    assert.equal(stdout.trim(), '1800'); // the task got all of it
    assert.deepEqual(log, ['input: stdin beyond 1k is passed to the tasks but not kept']);
    const input: string = (await job.lookup(h, id, ['guest.input'], 0))['guest.input'];
    const events = input
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => [e.name, e.context.data?.length, e.context.eof]),
      [
        ['header', undefined, undefined],
        ['data', 600, undefined],
        ['data', undefined, true],
      ],
    );
  },
);
