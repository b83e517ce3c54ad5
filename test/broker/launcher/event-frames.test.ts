/**
 * FrameReader (src/broker/launcher/event-frames.ts): the native launcher's event stream read
 * into one reused buffer, cut at every possible place, gives the same frames and output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, OUTPUT } from '../../../src/broker/launcher/event-frames.js';

/** A frame: u32 length of the rest, op, body. */
function frame(op: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(1 + body.length, 0);
  head[4] = op;
  return Buffer.concat([head, body]);
}
function output(id: number, stream: number, data: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32LE(id, 0);
  h[4] = stream;
  return frame(OUTPUT, Buffer.concat([h, data]));
}
function exited(id: number, status: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt32LE(id, 0);
  b.writeUInt32LE(status, 4);
  return frame(0x58, b);
}
function failed(id: number, message: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(id, 0);
  b.writeUInt32LE(2, 4);
  return frame(0x46, Buffer.concat([b, Buffer.from(`ENOENT\0${message}\0`)]));
}

/** What a reader passed on: each frame but output as hex, and each task and stream's output joined. */
function readAll(stream: Buffer, cuts: number[]): { frames: string[]; out: Map<string, string> } {
  const frames: string[] = [];
  const out = new Map<string, string>();
  const add = (id: number, s: number, bytes: Buffer): void => {
    out.set(`${id}.${s}`, (out.get(`${id}.${s}`) ?? '') + bytes.toString('latin1'));
  };
  const r = new FrameReader({
    // a whole output frame comes as a frame (native-transport.ts decodes it), a cut one in parts
    frame: (buf, a, b) =>
      buf[a] === OUTPUT
        ? add(buf.readUInt32LE(a + 1), buf[a + 5]!, buf.subarray(a + 6, b))
        : frames.push(buf.toString('hex', a, b)),
    output: add,
  });
  // one buffer for every read, overwritten with junk once each read is done, as libuv reuses it
  const reused = Buffer.alloc(stream.length);
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    const n = stream.copy(reused, 0, at, cut);
    r.push(reused.subarray(0, n));
    reused.fill(0xee);
    at = cut;
  }
  return { frames, out };
}

const frames = [
  exited(7, 0),
  output(1, 1, Buffer.from('hello, ')),
  output(2, 2, Buffer.from('é€😀 on stderr')),
  failed(3, 'nosuchcmd: No such file or directory'),
  output(1, 1, Buffer.from('x'.repeat(300))),
  output(1, 1, Buffer.alloc(0)),
  exited(1, 256),
  output(2, 2, Buffer.from('\n')),
];
const stream = Buffer.concat(frames);
const whole = readAll(stream, []);

test('frames in one read: each passed on once, output by task and stream', () => {
  assert.equal(whole.frames.length, 3);
  assert.equal(whole.out.get('1.1'), 'hello, ' + 'x'.repeat(300));
  assert.equal(whole.out.get('2.2'), Buffer.from('é€😀 on stderr\n').toString('latin1'));
});

test('the stream cut at any one place, or at every byte, into a reused buffer: the same frames and output', () => {
  const bodies = (r: ReturnType<typeof readAll>): string[] =>
    r.frames.filter((h) => parseInt(h.slice(0, 2), 16) !== OUTPUT);
  for (let cut = 1; cut < stream.length; cut++) {
    const r = readAll(stream, [cut]);
    assert.deepEqual(bodies(r), bodies(whole), `cut at ${cut}`);
    assert.deepEqual(r.out, whole.out, `cut at ${cut}`);
  }
  const bytewise = readAll(
    stream,
    Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
  );
  assert.deepEqual(bodies(bytewise), bodies(whole));
  assert.deepEqual(bytewise.out, whole.out);
  // cut in two places too (a frame's head over three reads)
  for (let a = 1; a < 40; a++)
    for (let b = a + 1; b < 60; b++) assert.deepEqual(readAll(stream, [a, b]).out, whole.out);
});
