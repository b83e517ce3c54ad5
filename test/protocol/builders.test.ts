/** request/response/errorResponse/event builders (docs/protocol.md §A.5), checked against captures. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readVector, vectorsDir } from '../helpers/paths.js';
import {
  decodeFrames,
  encodeMessage,
  Errno,
  errorResponse,
  event,
  FluxError,
  MsgFlag,
  MsgType,
  NODEID_ANY,
  payloadJson,
  payloadString,
  request,
  response,
  responseError,
  USERID_UNKNOWN,
  type Message,
} from '../../src/protocol/index.js';

interface Capture {
  messages: { dir: 'c2b' | 'b2c'; conn: number; hex: string }[];
}

const decodeHex = (hex: string): Message => decodeFrames(Buffer.from(hex, 'hex').subarray(8));

describe('builders reproduce every captured message byte for byte', () => {
  const files = fs
    .readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.json') && f !== 'jobid.json' && f !== 'dry-run-sleep0.json');
  for (const file of files) {
    const cap = readVector<Capture>(file);
    if (!Array.isArray(cap.messages)) continue;
    test(file, () => {
      cap.messages.forEach((m, i) => {
        const got = decodeHex(m.hex);
        const text = payloadString(got);
        if (m.dir === 'c2b') {
          const req = request(got.topic!, text, { matchtag: got.aux2, nodeid: got.aux1, flags: got.flags });
          assert.equal(encodeMessage(req).toString('hex'), m.hex, `${file}#${i} request`);
          return;
        }
        // the request this answers: latest earlier c2b on the same connection with that matchtag
        const reqHex = cap.messages
          .slice(0, i)
          .filter((r) => r.dir === 'c2b' && r.conn === m.conn && decodeHex(r.hex).aux2 === got.aux2)
          .pop()?.hex;
        assert.ok(reqHex, `${file}#${i}: request found`);
        const req = decodeHex(reqHex);
        const cred = { userid: got.userid, rolemask: got.rolemask };
        const built = got.aux1 === 0 ? response(req, text, cred) : errorResponse(req, got.aux1, text, cred);
        assert.equal(encodeMessage(built).toString('hex'), m.hex, `${file}#${i} response`);
      });
    });
  }
});

describe('builder details', () => {
  test('request defaults (§A.5 worked example)', () => {
    const req = request('job-manager.wait', { id: 33923530752 }, { matchtag: 1 });
    assert.deepEqual(req, {
      type: MsgType.REQUEST,
      flags: MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE,
      topic: 'job-manager.wait',
      route: [],
      userid: USERID_UNKNOWN,
      rolemask: 0,
      aux1: NODEID_ANY,
      aux2: 1,
      payload: Buffer.from('{"id":33923530752}'),
      payloadNul: true,
    });
    const py = readVector<Capture>('py-submit-wait.json').messages[2]!;
    assert.equal(encodeMessage(req).toString('hex'), py.hex);
  });

  test('bigint payloads serialize losslessly', () => {
    const req = request('job-manager.wait', { id: 18446744073709551614n });
    assert.equal(payloadString(req), '{"id":18446744073709551614}');
    assert.deepEqual(payloadJson(req), { id: 18446744073709551614n });
  });

  test('request flags: STREAMING / NORESPONSE kept, derived flags ignored', () => {
    const r = request('job-info.eventlog-watch', { id: 1 }, { flags: MsgFlag.STREAMING | MsgFlag.TOPIC, matchtag: 4 });
    assert.equal(r.flags, 0x4b);
    assert.equal(decodeFrames(encodeMessage(r).subarray(8)).flags, 0x4b);
  });

  test('empty payloads give no payload frame', () => {
    for (const p of [undefined, '', Buffer.alloc(0)]) {
      const r = response(request('job-manager.raise', { id: 1 }, { matchtag: 7 }), p);
      assert.equal(r.payload, undefined);
      assert.equal(r.flags, MsgFlag.TOPIC | MsgFlag.ROUTE);
      assert.equal(decodeFrames(encodeMessage(r).subarray(8)).flags, MsgFlag.TOPIC | MsgFlag.ROUTE);
    }
  });

  test('raw Buffer payloads carry no NUL', () => {
    const r = request('x.y', Buffer.from('raw'));
    assert.equal(r.payloadNul, false);
    assert.equal(encodeMessage(r).length, 8 + 1 + 4 + 4 + 21);
  });

  test('response keeps topic/route/matchtag/STREAMING and defaults to UNKNOWN creds', () => {
    const req: Message = { ...request('a.b', { x: 1 }, { matchtag: 9, flags: MsgFlag.STREAMING }), route: ['uuid-1'] };
    const r = response(req, { ok: true });
    assert.equal(r.type, MsgType.RESPONSE);
    assert.equal(r.topic, 'a.b');
    assert.deepEqual(r.route, ['uuid-1']);
    assert.notEqual(r.route, req.route);
    assert.equal(r.aux1, 0);
    assert.equal(r.aux2, 9);
    assert.equal(r.flags, MsgFlag.STREAMING | MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE);
    assert.equal(r.userid, USERID_UNKNOWN);
    assert.equal(r.rolemask, 0);
  });

  test('errorResponse: errnum 0 → EINVAL; text NUL-terminated; responseError', () => {
    const req = request('job-manager.wait', { id: -1 }, { matchtag: 1 });
    const e0 = errorResponse(req, 0);
    assert.equal(e0.aux1, Errno.EINVAL);
    assert.equal(e0.payload, undefined);
    const e = errorResponse(req, Errno.ECHILD, 'there are no more waitable jobs');
    assert.equal(e.payloadNul, true);
    const err = responseError(decodeFrames(encodeMessage(e).subarray(8)));
    assert.ok(err instanceof FluxError);
    assert.equal(err.errno, 10);
    assert.equal(err.message, 'there are no more waitable jobs');
    assert.equal(responseError(errorResponse(req, Errno.ENODATA))!.message, 'No data available');
    assert.equal(responseError(response(req)), undefined);
  });

  test('event', () => {
    const ev = event('job-state', { transitions: [[1n << 60n, 'RUN', 1.5]] }, 42);
    assert.equal(ev.type, MsgType.EVENT);
    assert.equal(ev.aux1, 42);
    assert.equal(ev.aux2, 0);
    assert.deepEqual(ev.route, []);
    assert.equal(payloadString(ev), '{"transitions":[[1152921504606846976,"RUN",1.5]]}');
    assert.deepEqual(decodeFrames(encodeMessage(ev).subarray(8)), ev);
    const hb = event('hb', undefined, 1, { route: null });
    assert.equal(hb.route, undefined);
    assert.equal(hb.flags, MsgFlag.TOPIC);
  });
});
