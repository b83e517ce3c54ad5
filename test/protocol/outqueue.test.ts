import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OutQueue } from '../../src/protocol/outqueue.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import { encodeMessage, payloadString, request, withTextPayload } from '../../src/protocol/codec.js';

/** A connected pair of unix sockets; `received` collects the messages arriving at the far end. */
async function pair(): Promise<{ client: net.Socket; received: string[]; closed: Promise<void>; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outq-'));
  const sockPath = path.join(dir, 's');
  const received: string[] = [];
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const server = net.createServer((s) => {
    const dec = new StreamDecoder();
    // read slowly, so the writer's chunks really wait for the socket
    s.pause();
    const timer = setInterval(() => s.resume(), 5);
    s.on('data', (c: Buffer) => {
      s.pause();
      for (const m of dec.push(c)) received.push(`${m.aux2}:${m.topic}:${payloadString(m) ?? ''}`);
    });
    s.on('end', () => {
      clearInterval(timer);
      closedResolve();
    });
  });
  await new Promise<void>((r) => server.listen(sockPath, r));
  const client = net.connect(sockPath);
  await new Promise<void>((r) => client.on('connect', r));
  return {
    client,
    received,
    closed,
    cleanup: () => (server.close(), fs.rmSync(dir, { recursive: true, force: true })),
  };
}

test('OutQueue: thousands of messages of mixed sizes (one larger than a chunk) arrive whole and in order', async () => {
  const { client, received, closed, cleanup } = await pair();
  const q = new OutQueue();
  const shared = 'x'.repeat(2700);
  const expect: string[] = [];
  for (let i = 1; i <= 3000; i++) {
    const text = i === 1500 ? 'B'.repeat(600_000) : i % 7 === 0 ? `{"n":${i},"é":"ü"}` : shared;
    q.push(withTextPayload(request(`t.${i}`, undefined, { matchtag: i }), text));
    expect.push(`${i}:t.${i}:${text}`);
    if (i % 500 === 0)
      q.pump(client); // pumps interleaved with pushes, as a client does
    else if (i % 97 === 0 || (i > 2900 && i % 3 === 0)) q.drain(client); // and explicit flushes
  }
  q.pump(client);
  await new Promise<void>((r) => {
    const check = () => (q.length === 0 ? r() : setTimeout(check, 5));
    check();
  });
  client.end();
  await closed;
  cleanup();
  assert.equal(received.length, expect.length);
  for (let i = 0; i < expect.length; i++) assert.equal(received[i], expect[i], `message ${i + 1}`);
});

test('OutQueue: drain writes everything at once; discard drops what is queued', async () => {
  const { client, received, closed, cleanup } = await pair();
  const q = new OutQueue();
  for (let i = 1; i <= 500; i++) q.push(withTextPayload(request('a', undefined, { matchtag: i }), { i }));
  q.drain(client);
  assert.equal(q.length, 0);
  q.push(request('dropped'));
  q.discard();
  assert.equal(q.length, 0);
  q.pump(client);
  client.end();
  await closed;
  cleanup();
  assert.equal(received.length, 500);
  assert.equal(received[499], '500:a:{"i":500}');
});

test('withTextPayload: empty text means no payload frame; objects are JSON with exact bigints', () => {
  const m = withTextPayload(request('t'), '');
  assert.equal(m.payloadText, undefined);
  assert.equal(m.flags & 2, 0);
  const j = withTextPayload(request('t'), { id: 2n ** 63n + 5n });
  assert.equal(j.payloadText, '{"id":9223372036854775813}');
  assert.equal(j.flags & 2, 2);
});

test('encodeMessage: a text payload encodes to the same bytes as the same payload built by request()', () => {
  for (const text of ['{"J":"abc","urgency":16,"flags":4}', 'héllo ✓', 'x'.repeat(300)]) {
    const a = encodeMessage(request('job-ingest.submit', text, { matchtag: 9 }));
    const b = encodeMessage(withTextPayload(request('job-ingest.submit', undefined, { matchtag: 9 }), text));
    assert.deepEqual(b, a);
  }
});

test('OutQueue: messages that do not fit in what is left of a chunk start the next one, whole and in order', async () => {
  const { client, received, closed, cleanup } = await pair();
  const q = new OutQueue();
  const expect: string[] = [];
  // sizes around what is left of a 256 KiB chunk: 100-250 KiB messages between small ones
  for (let i = 1; i <= 60; i++) {
    const text =
      i % 3 === 0 ? `{"n":${i}}` : String.fromCharCode(0x61 + (i % 26)).repeat(100_000 + ((i * 37_001) % 150_000));
    q.push(withTextPayload(request(`t.${i}`, undefined, { matchtag: i }), text));
    expect.push(`${i}:t.${i}:${text}`);
    if (i % 4 === 0) q.pump(client);
  }
  q.pump(client);
  await new Promise<void>((r) => {
    const check = () => (q.length === 0 && q.bytes === 0 ? r() : setTimeout(check, 5));
    check();
  });
  client.end();
  await closed;
  cleanup();
  assert.equal(received.length, expect.length);
  for (let i = 0; i < expect.length; i++) assert.ok(received[i] === expect[i], `message ${i + 1} differs`);
});
