/** Codec and stream framing properties (docs/protocol.md §A.2–A.4). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeFrames,
  encodeMessage,
  MAX_FRAMES,
  MsgFlag,
  StreamDecoder,
  type Message,
  type MsgTypeValue,
} from '../../src/protocol/index.js';
import { decodeChunks, splitAt } from './util.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = (maxLength: number, minLength = 0) => fc.string({ unit: 'binary', minLength, maxLength });

/** Random messages in normalized form: what decodeFrames(encodeMessage(m)) must return. */
const messageArb: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<MsgTypeValue>,
    extra: fc.integer({ min: 0, max: 255 }),
    topic: fc.option(text(300), { nil: undefined }),
    payload: fc.option(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 250, maxLength: 700 })), {
      nil: undefined,
    }),
    payloadNul: fc.boolean(),
    route: fc.option(fc.array(text(300, 1), { maxLength: 3 }), { nil: undefined }),
    userid: u32,
    rolemask: u32,
    aux1: u32,
    aux2: u32,
  })
  .map((r) => {
    let flags = r.extra & ~(MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE);
    if (flags & MsgFlag.NORESPONSE) flags &= ~MsgFlag.STREAMING;
    const m: Message = { type: r.type, flags, userid: r.userid, rolemask: r.rolemask, aux1: r.aux1, aux2: r.aux2 };
    if (r.route !== undefined) {
      m.route = r.route;
      m.flags |= MsgFlag.ROUTE;
    }
    if (r.topic !== undefined) {
      m.topic = r.topic;
      m.flags |= MsgFlag.TOPIC;
    }
    if (r.payload !== undefined) {
      let p = Buffer.from(r.payload);
      // a raw payload ending in NUL is indistinguishable from a NUL-terminated one
      if (!r.payloadNul && p.length > 0 && p[p.length - 1] === 0) p = Buffer.concat([p, Buffer.from([1])]);
      m.payload = p;
      m.payloadNul = r.payloadNul;
      m.flags |= MsgFlag.PAYLOAD;
    }
    return m;
  });

describe('codec round trip', () => {
  test('decode(encode(m)) === m', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const wire = encodeMessage(m);
        assert.deepEqual([...wire.subarray(0, 4)], [0x12, 0x00, 0xee, 0xff]);
        assert.equal(wire.readUInt32BE(4), wire.length - 8);
        assert.deepEqual(decodeFrames(wire.subarray(8)), m);
      }),
      { numRuns: 500 },
    );
  });

  test('encode recomputes TOPIC/PAYLOAD/ROUTE from presence', () => {
    const wire = encodeMessage({ type: 1, flags: 0xff & ~MsgFlag.STREAMING, userid: 0, rolemask: 0, aux1: 0, aux2: 0 });
    assert.equal(
      wire[wire.length - 17],
      0xff & ~MsgFlag.STREAMING & ~(MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE),
    );
    assert.equal(wire.length, 8 + 21);
  });

  test('many messages under random chunk splits', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 8000 }), { maxLength: 30 }),
        (msgs, cuts) => {
          const stream = Buffer.concat(msgs.map((m) => encodeMessage(m)));
          assert.deepEqual(decodeChunks(splitAt(stream, cuts)), msgs);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('one byte at a time', () => {
    const [a] = fc.sample(fc.array(messageArb, { minLength: 3, maxLength: 3 }), { numRuns: 1, seed: 42 });
    const stream = Buffer.concat(a!.map((m) => encodeMessage(m)));
    const chunks = [...stream].map((b) => Buffer.from([b]));
    assert.deepEqual(decodeChunks(chunks), a);
  });

  test('a 64 KiB message one byte at a time, between two small ones', () => {
    const big: Message = {
      type: 2,
      flags: MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE,
      route: [],
      topic: 'job-list.list',
      payload: Buffer.alloc(65536 + 7, 0x7a),
      payloadNul: true,
      userid: 0,
      rolemask: 5,
      aux1: 0,
      aux2: 3,
    };
    const small: Message = {
      type: 4,
      flags: MsgFlag.TOPIC,
      topic: 'heartbeat.pulse',
      userid: 0,
      rolemask: 5,
      aux1: 9,
      aux2: 0,
    };
    const stream = Buffer.concat([encodeMessage(small), encodeMessage(big), encodeMessage(small)]);
    const dec = new StreamDecoder();
    const got: Message[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...dec.push(stream.subarray(i, i + 1)));
    assert.deepEqual(got, [small, big, small]);
  });

  test('a message of more than MAX_FRAMES frames is refused, whole or while it arrives', () => {
    const n = MAX_FRAMES + 1;
    assert.throws(() => decodeFrames(Buffer.alloc(n)), /more than 254 frames in one message/);
    // a route of 250 hops (254 frames with delimiter, topic, payload and PROTO) still decodes
    const m: Message = {
      type: 1,
      flags: MsgFlag.TOPIC | MsgFlag.ROUTE | MsgFlag.PAYLOAD,
      topic: 'a.b',
      route: Array.from({ length: MAX_FRAMES - 4 }, (_, i) => `hop${i}`),
      payload: Buffer.from('{}'),
      payloadNul: true,
      userid: 1,
      rolemask: 2,
      aux1: 3,
      aux2: 4,
    };
    assert.deepEqual(decodeFrames(encodeMessage(m).subarray(8)), m);
    // announced 64 MiB, and only empty frames: the decoder fails after the 255th byte
    const dec = new StreamDecoder();
    const head = Buffer.from([0x12, 0x00, 0xee, 0xff, 0x04, 0, 0, 0]);
    assert.deepEqual(dec.push(head), []);
    let pushed = 0;
    assert.throws(() => {
      for (;;) {
        dec.push(Buffer.alloc(16));
        pushed += 16;
      }
    }, /more than 254 frames/);
    assert.equal(pushed, 16 * Math.floor(MAX_FRAMES / 16));
    assert.equal(dec.buffered, 0);
  });

  test('a frame longer than its message is refused before the message is complete', () => {
    const dec = new StreamDecoder();
    const head = Buffer.from([0x12, 0x00, 0xee, 0xff, 0, 0, 0x10, 0]); // 4096 bytes of frames
    dec.push(head);
    assert.throws(() => dec.push(Buffer.from([0xff, 0, 0, 0x20, 0])), /truncated frame: size 8192 exceeds the message/);
  });

  test('RFC byte order magic ff ee 00 12 is accepted', () => {
    const m: Message = {
      type: 1,
      flags: MsgFlag.TOPIC | MsgFlag.ROUTE,
      topic: 'a.b',
      route: [],
      userid: 1,
      rolemask: 2,
      aux1: 3,
      aux2: 4,
    };
    const wire = encodeMessage(m);
    Buffer.from([0xff, 0xee, 0x00, 0x12]).copy(wire, 0);
    assert.deepEqual(new StreamDecoder().push(Buffer.concat([wire, wire])), [m, m]);
  });

  test('empty chunks are harmless', () => {
    const m: Message = { type: 4, flags: MsgFlag.TOPIC, topic: 'x', userid: 1, rolemask: 2, aux1: 3, aux2: 0 };
    const wire = encodeMessage(m);
    const dec = new StreamDecoder();
    assert.deepEqual(dec.push(Buffer.alloc(0)), []);
    assert.deepEqual(dec.push(wire.subarray(0, 5)), []);
    assert.deepEqual(dec.push(Buffer.alloc(0)), []);
    assert.equal(dec.buffered, 5);
    assert.deepEqual(dec.push(wire.subarray(5)), [m]);
  });
});

describe('frame size prefixes (§A.3)', () => {
  const req = (n: number): Message => ({
    type: 1,
    flags: MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE,
    route: [],
    topic: 't',
    payload: Buffer.alloc(n, 0x61),
    payloadNul: true,
    userid: 0,
    rolemask: 0,
    aux1: 0,
    aux2: 0,
  });
  for (const [n, prefix] of [
    [253, 1],
    [254, 5],
    [255, 5],
    [65536, 5],
    [1 << 20, 5],
  ] as const) {
    test(`payload ${n} bytes + NUL → ${prefix}-byte prefix`, () => {
      const m = req(n);
      const wire = encodeMessage(m);
      assert.equal(wire.length, 8 + 1 + 2 + prefix + n + 1 + 21);
      const at = 8 + 1 + 2;
      if (prefix === 1) assert.equal(wire[at], n + 1);
      else {
        assert.equal(wire[at], 0xff);
        assert.equal(wire.readUInt32BE(at + 1), n + 1);
      }
      assert.deepEqual(decodeFrames(wire.subarray(8)), m);
      const cuts = [3, 9, at + 2, at + 4, Math.floor(wire.length / 3), wire.length - 10];
      assert.deepEqual(decodeChunks(splitAt(wire, cuts)), [m]);
    });
  }

  test('long topic and route ids use 5-byte prefixes too', () => {
    const m: Message = {
      type: 2,
      flags: MsgFlag.TOPIC | MsgFlag.ROUTE | MsgFlag.STREAMING,
      route: ['r'.repeat(300), 'ü'.repeat(200)],
      topic: 'x'.repeat(70000),
      userid: 0,
      rolemask: 5,
      aux1: 61,
      aux2: 9,
    };
    assert.deepEqual(decodeFrames(encodeMessage(m).subarray(8)), m);
  });
});
