/** Malformed input: every case is a ProtoError (EPROTO 71) with a precise message. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFrames,
  encodeMessage,
  MsgFlag,
  payloadJson,
  ProtoError,
  request,
  StreamDecoder,
} from '../../src/protocol/index.js';
import { assertProto } from './util.js';

/** Concatenate frames with 1-byte size prefixes. */
function frames(...parts: (Buffer | string)[]): Buffer {
  return Buffer.concat(
    parts.flatMap((p) => {
      const b = typeof p === 'string' ? Buffer.from(p) : p;
      return [Buffer.from([b.length]), b];
    }),
  );
}

function proto(opts: { flags?: number; type?: number; magic?: number; version?: number; size?: number } = {}): Buffer {
  const b = Buffer.alloc(opts.size ?? 20);
  b[0] = opts.magic ?? 0x8e;
  b[1] = opts.version ?? 1;
  b[2] = opts.type ?? 1;
  b[3] = opts.flags ?? 0;
  return b;
}

const T = MsgFlag.TOPIC;
const P = MsgFlag.PAYLOAD;
const R = MsgFlag.ROUTE;

describe('stream header (§A.2)', () => {
  test('bad magic names the bytes', () => {
    assertProto(
      () => new StreamDecoder().push(Buffer.from('GET / HTTP/1.1\r\n')),
      'bad stream magic 47 45 54 20 (expected 12 00 ee ff)',
    );
  });

  test('4 GiB length is rejected from the header alone, before buffering', () => {
    const dec = new StreamDecoder();
    assert.deepEqual(dec.push(Buffer.from('1200eeff', 'hex')), []);
    assertProto(() => dec.push(Buffer.from('ffffffff', 'hex')), 'message length 4294967295 exceeds maximum 67108864');
    // the decoder stays failed
    assertProto(() => dec.push(Buffer.alloc(1)), 'message length 4294967295 exceeds maximum 67108864');
  });

  test('length over a custom cap', () => {
    const wire = encodeMessage(request('a.b', { pad: 'x'.repeat(100) }));
    const len = wire.length - 8;
    assert.equal(new StreamDecoder({ maxMessageSize: len }).push(wire).length, 1);
    assertProto(
      () => new StreamDecoder({ maxMessageSize: len - 1 }).push(wire),
      `message length ${len} exceeds maximum ${len - 1}`,
    );
  });

  test('a frame error inside a framed message surfaces through the decoder', () => {
    const body = frames('a', proto({ flags: T, size: 19 }));
    const hdr = Buffer.from([0x12, 0, 0xee, 0xff, 0, 0, 0, 0]);
    hdr.writeUInt32BE(body.length, 4);
    const dec = new StreamDecoder();
    assert.throws(() => dec.push(Buffer.concat([hdr, body])), ProtoError);
    assertProto(() => dec.push(Buffer.alloc(0)), 'PROTO frame is 19 bytes, expected 20');
  });
});

describe('frames (§A.3, §A.4)', () => {
  test('PROTO frame of 19 and 21 bytes', () => {
    assertProto(() => decodeFrames(frames('a', proto({ flags: T, size: 19 }))), 'PROTO frame is 19 bytes, expected 20');
    assertProto(() => decodeFrames(frames('a', proto({ flags: T, size: 21 }))), 'PROTO frame is 21 bytes, expected 20');
  });
  test('no frames at all', () => {
    assertProto(() => decodeFrames(Buffer.alloc(0)), 'missing PROTO frame');
  });
  test('bad PROTO magic', () => {
    assertProto(() => decodeFrames(frames(proto({ magic: 0x8f }))), 'bad PROTO magic 0x8f');
  });
  test('bad version', () => {
    assertProto(() => decodeFrames(frames(proto({ version: 2 }))), 'bad message version 2');
  });
  for (const type of [3, 0, 16]) {
    test(`bad type ${type}`, () => {
      assertProto(() => decodeFrames(frames(proto({ type }))), `bad message type ${type}`);
    });
  }
  test('missing topic frame', () => {
    assertProto(() => decodeFrames(frames(proto({ flags: T }))), 'missing topic frame');
    assertProto(() => decodeFrames(frames('', proto({ flags: T | R }))), 'missing topic frame');
  });
  test('missing payload frame', () => {
    assertProto(() => decodeFrames(frames('a.b', proto({ flags: T | P }))), 'missing payload frame');
  });
  test('truncated frame size', () => {
    const body = Buffer.concat([Buffer.from([0xff, 0, 0, 0x01, 0x2c]), Buffer.alloc(12)]);
    assertProto(() => decodeFrames(body), 'truncated frame: size 300 exceeds remaining 12 bytes');
    assertProto(() => decodeFrames(Buffer.from([5, 1, 2])), 'truncated frame: size 5 exceeds remaining 2 bytes');
    assertProto(() => decodeFrames(Buffer.from([0xff, 0, 0])), /^truncated frame size/);
  });
  test('route flag without delimiter', () => {
    assertProto(() => decodeFrames(frames('a.b', proto({ flags: T | R }))), 'missing route delimiter');
    assertProto(() => decodeFrames(frames(proto({ flags: R }))), 'missing route delimiter');
  });
  test('NORESPONSE and STREAMING both set', () => {
    const flags = T | MsgFlag.NORESPONSE | MsgFlag.STREAMING;
    assertProto(() => decodeFrames(frames('a', proto({ flags }))), 'NORESPONSE and STREAMING both set');
  });
  test('extra frames before PROTO', () => {
    assertProto(() => decodeFrames(frames('a', 'b', proto({ flags: T }))), '1 unexpected extra frame(s) before PROTO');
  });
});

describe('payloadJson (§A.5)', () => {
  const withPayload = (p: string) => request('a.b', p);
  test('invalid JSON', () => {
    assertProto(() => payloadJson(withPayload('this is not json')), /^payload is not valid JSON: /);
    assertProto(() => payloadJson(withPayload('{"id":123456789012345678901,}')), /^payload is not valid JSON: /);
  });
  test('not an object', () => {
    for (const p of ['[1]', '12', '"s"', 'null', 'true'])
      assertProto(() => payloadJson(withPayload(p)), 'payload is not a JSON object');
  });
  test('missing payload', () => {
    assertProto(() => payloadJson(request('a.b')), 'message has no payload');
    assert.equal(payloadJson(request('a.b'), { optional: true }), undefined);
  });
});
