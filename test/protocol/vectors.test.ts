/** Real flux-core captures (test/vectors): decode, check against `decoded`, re-encode byte-exact. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { readVector, vectorsDir } from '../helpers/paths.js';
import {
  decodeFrames,
  encodeHandshake,
  encodeMessage,
  payloadString,
  StreamDecoder,
  type Message,
} from '../../src/protocol/index.js';
import { decodeChunks, splitAt } from './util.js';

const TYPE_NAMES: Record<string, number> = { request: 1, response: 2, event: 4, control: 8 };

interface Capture {
  connections: { conn: number; handshake_hex: string }[];
  messages: { dir: 'c2b' | 'b2c'; conn: number; hex: string; decoded: Record<string, any> }[];
}

const files = fs
  .readdirSync(vectorsDir)
  .filter((f) => f.endsWith('.json') && f !== 'jobid.json' && f !== 'dry-run-sleep0.json')
  .sort();

function checkDecoded(msg: Message, d: Record<string, any>, where: string): void {
  assert.equal(msg.type, TYPE_NAMES[d.type], `${where} type`);
  assert.equal(msg.flags, d.flags, `${where} flags`);
  assert.equal(msg.topic ?? null, d.topic ?? null, `${where} topic`);
  if (d.payload === null || d.payload === undefined) {
    assert.equal(msg.payload, undefined, `${where} payload absent`);
  } else {
    assert.equal(payloadString(msg), d.payload, `${where} payload`);
    assert.equal(msg.payload!.length + (msg.payloadNul ? 1 : 0), d.payload_frame_len, `${where} frame len`);
    assert.equal(msg.payloadNul, d.payload_nul_terminated, `${where} payload NUL`);
  }
  assert.equal(msg.userid, d.userid, `${where} userid`);
  assert.equal(msg.rolemask, d.rolemask, `${where} rolemask`);
  assert.equal(msg.aux1, d.aux1, `${where} aux1`);
  assert.equal(msg.aux2, d.matchtag, `${where} matchtag`);
  assert.deepEqual(msg.route, d.route, `${where} route`);
  if (d.errnum !== undefined) assert.equal(msg.aux1, d.errnum, `${where} errnum`);
}

let total = 0;
for (const file of files) {
  const cap = readVector<Capture>(file);
  if (!Array.isArray(cap.messages)) continue;

  describe(`vector ${file}`, () => {
    test('every message decodes to `decoded` and re-encodes to the same bytes', () => {
      cap.messages.forEach((m, i) => {
        const where = `${file}#${i}`;
        const bytes = Buffer.from(m.hex, 'hex');
        assert.equal(m.hex.slice(0, 8), m.decoded.stream_magic);
        const msgs = new StreamDecoder().push(bytes);
        assert.equal(msgs.length, 1, `${where}: one message`);
        const msg = msgs[0]!;
        assert.deepEqual(decodeFrames(bytes.subarray(8)), msg);
        checkDecoded(msg, m.decoded, where);
        assert.equal(encodeMessage(msg).toString('hex'), m.hex, `${where} re-encode`);
        total++;
      });
    });

    test('each connection stream decodes identically under random splits', () => {
      for (const c of cap.connections) {
        assert.equal(c.handshake_hex, encodeHandshake(0).toString('hex'));
        for (const dir of ['c2b', 'b2c'] as const) {
          const ms = cap.messages.filter((m) => m.conn === c.conn && m.dir === dir);
          if (ms.length === 0) continue;
          const stream = Buffer.from(ms.map((m) => m.hex).join(''), 'hex');
          const expected = ms.map((m) => decodeFrames(Buffer.from(m.hex, 'hex').subarray(8)));
          assert.deepEqual(decodeChunks([stream]), expected);
          fc.assert(
            fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 40 }), (cuts) => {
              assert.deepEqual(decodeChunks(splitAt(stream, cuts)), expected);
            }),
            { numRuns: 25 },
          );
        }
      }
    });
  });
}

test('captures cover 200+ messages', () => {
  // runs after the describe blocks above (node:test runs top-level tests in order)
  assert.ok(total >= 200, `decoded ${total} messages`);
});
