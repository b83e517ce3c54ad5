/** Shared helpers for the protocol tests. */
import assert from 'node:assert/strict';
import { StreamDecoder, type Message } from '../../src/protocol/index.js';

/** Split `buf` at the given cut points (any values; they are clamped and sorted). */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(buf.length, c))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Feed chunks through a fresh decoder and collect every message. */
export function decodeChunks(chunks: Buffer[], opts?: { maxMessageSize?: number }): Message[] {
  const dec = new StreamDecoder(opts);
  const out: Message[] = [];
  for (const c of chunks) out.push(...dec.push(c));
  assert.equal(dec.buffered, 0, 'no bytes left over');
  return out;
}

/** Assert that `fn` throws a FluxError with errno EPROTO (71) and the given message. */
export function assertProto(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: any) => {
    assert.equal(e.errno, 71, `errno of ${e}`);
    assert.equal(e.code, 'EPROTO');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}
