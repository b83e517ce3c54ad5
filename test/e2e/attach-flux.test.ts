/**
 * `tsflux job attach` against a Flux instance, which has no `job-info.output-watch`: a server on
 * a real socket answers it ENOSYS, as flux-core answers a method nobody serves, and answers
 * every other request with the responses a real flux-core sent to `flux job attach` of the same
 * job (test/vectors/cli-job-attach-output.json, re-tagged to the requests' matchtags). attach
 * then follows guest.output by eventlog-watch and prints what flux's attach printed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encodeMessage, errorResponse, response } from '../../src/protocol/codec.js';
import { Errno } from '../../src/protocol/errno.js';
import { parseJson } from '../../src/protocol/json.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import { MsgType, type Message } from '../../src/protocol/types.js';
import { tsflux } from '../helpers/cli.js';
import { readVector } from '../helpers/paths.js';

interface VMsg {
  dir: 'c2b' | 'b2c';
  hex: string;
  decoded: { topic?: string; matchtag: number; payload?: string };
}

/** What the request asks for, as the vector's requests are told apart: topic, and path if any. */
function key(topic: string, payload: unknown): string {
  const p = payload as { path?: unknown } | undefined;
  return typeof p?.path === 'string' ? `${topic} ${p.path}` : topic;
}

/**
 * A server on a real socket answering as the vector's flux-core did; `outputWatch` answers
 * job-info.output-watch (default: ENOSYS, as flux-core).
 */
async function replayServer(
  t: TestContext,
  outputWatch?: (req: Message) => Message,
): Promise<{ uri: string; topics: string[]; cap: { stdout: string; stderr: string; rc: number } }> {
  const cap = readVector<{ messages: VMsg[]; stdout: string; stderr: string; rc: number }>(
    'cli-job-attach-output.json',
  );
  // the vector's responses, by what was asked (its requests' topic and path)
  const byKey = new Map<string, Buffer[]>();
  const asked = new Map<number, string>(); // the vector's matchtag → key, as it was in flight
  for (const m of cap.messages) {
    const d = m.decoded;
    if (m.dir === 'c2b' && d.matchtag !== 0) {
      const k = key(d.topic!, d.payload ? JSON.parse(d.payload) : undefined);
      asked.set(d.matchtag, k);
      byKey.set(k, []);
    } else if (m.dir === 'b2c') byKey.get(asked.get(d.matchtag)!)?.push(Buffer.from(m.hex, 'hex'));
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-attach-flux-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sockPath = path.join(dir, 'local');
  const topics: string[] = [];
  const server = net.createServer((sock) => {
    sock.write(Buffer.from([0])); // handshake: accepted
    const dec = new StreamDecoder();
    sock.on('error', () => undefined);
    sock.on('data', (chunk) => {
      for (const req of dec.push(chunk)) {
        if (req.type !== MsgType.REQUEST) continue;
        topics.push(req.topic!);
        if (req.aux2 === 0) continue; // NORESPONSE (a cancel)
        if (req.topic === 'job-info.output-watch' && outputWatch !== undefined) {
          sock.write(encodeMessage(outputWatch(req)));
          continue;
        }
        const payload = req.payload ? parseJson(req.payload) : undefined;
        const answers = byKey.get(key(req.topic!, payload));
        if (answers === undefined) {
          sock.write(encodeMessage(errorResponse(req, Errno.ENOSYS)));
          continue;
        }
        for (const bytes of answers) {
          const [m] = new StreamDecoder().push(bytes) as Message[];
          m!.aux2 = req.aux2;
          sock.write(encodeMessage(m!));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(sockPath, r));
  t.after(() => server.close());
  return { uri: `local://${sockPath}`, topics, cap };
}

test('job attach of a Flux instance job: output-watch is ENOSYS, guest.output is followed by eventlog-watch', async (t) => {
  const { uri, topics, cap } = await replayServer(t);
  const r = await tsflux(['job', 'attach', 'ƒ2Bafn6B'], uri);
  assert.equal(r.stdout, cap.stdout);
  assert.equal(r.stderr, cap.stderr);
  assert.equal(r.rc, cap.rc);
  assert.ok(topics.includes('job-info.output-watch'), topics.join(' '));
  assert.ok(topics.indexOf('job-info.output-watch') < topics.lastIndexOf('job-info.eventlog-watch'));
});

test('job attach given output-watch bytes that are not whole records: EPROTO, named, and it exits 1', async (t) => {
  // a DATA record cut short after its head
  const { uri } = await replayServer(t, (req) => response(req, Buffer.from([2, 0, 0, 0])));
  const r = await tsflux(['job', 'attach', 'ƒ2Bafn6B'], uri);
  assert.equal(r.rc, 1);
  assert.match(r.stderr, /job-info\.output-watch: output record at 0: cut short/);
});
