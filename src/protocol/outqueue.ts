/**
 * The outgoing messages of one connection: queued as messages, encoded into reused memory
 * only as fast as the socket takes them, written without concatenation.
 *
 * Why: on this kind of machine (a VM) the first touch of fresh memory is expensive. Encoding a
 * burst of 1,000 submits up front (3 KB each) into new buffers and concatenating them into
 * another new buffer cost the client about 20 µs per submit, almost all of it page faults;
 * writing the same bytes into memory already touched costs about 0.2 µs (Buffer.concat into
 * fresh 256 KiB buffers: 2.07 µs per 2.7 KB part; a copy into a reused one: 0.13 µs). So a
 * queued message stays a small object (its payload text is usually shared, e.g. one signed
 * jobspec for a whole bulk submission) until it is written: messages are encoded into 256 KiB
 * chunks, each region of a chunk is written as it is filled, and a chunk is reused once all
 * its regions are written.
 *
 *   const out = new OutQueue();
 *   out.push(msg);        // any number of times
 *   out.pump(socket);     // encode and write what the socket has room for (at most
 *                         // MAX_INFLIGHT regions being written); the rest follows by itself as
 *                         // writes complete
 *   out.drain(socket);    // encode and write everything queued now (an explicit flush, or
 *                         // before closing), filling the current chunk further
 *   out.bytes             // what is queued and not yet taken by the kernel (flow control)
 *   out.onWritten = fn;   // called each time a write completes (the queue got shorter)
 */
import type { Socket } from 'node:net';
import { encodeMessage } from './codec.js';
import type { Message } from './types.js';

const CHUNK_SIZE = 256 * 1024;
/** Regions handed to the socket and not written yet, at most, while pumping. */
const MAX_INFLIGHT = 2;
/** Idle chunks kept for reuse. */
const POOL_MAX = 3;
/** Bytes of a message's frames besides topic and payload (header, proto frame, prefixes). */
const MSG_OVERHEAD = 40;

/**
 * A queued message's size on the wire, near enough for flow control and cheap (no encoding: a
 * text payload is counted in UTF-16 units, so non-ASCII text counts short).
 */
function sizeOf(msg: Message): number {
  const payload = msg.payloadText?.length ?? msg.payloadWriter?.estimate ?? msg.payload?.length ?? 0;
  return payload + (msg.topic?.length ?? 0) + MSG_OVERHEAD;
}

interface Chunk {
  buf: Buffer;
  /** Regions of it being written. */
  writes: number;
  /** Full: no longer filled. */
  retired: boolean;
}

export class OutQueue {
  private q: (Message | undefined)[] = [];
  private head = 0;
  private readonly pool: Chunk[] = [];
  private cur: Chunk | undefined;
  /** End of the encoded bytes in `cur`. */
  private used = 0;
  private inflight = 0;
  /** sizeOf() of the messages not yet encoded. */
  private queuedBytes = 0;
  /** Bytes handed to the socket whose write has not completed. */
  private writingBytes = 0;
  /** Called after each completed write (flow control: `bytes` went down). */
  onWritten: (() => void) | undefined;

  /** Messages queued and not yet encoded. */
  get length(): number {
    return this.q.length - this.head;
  }

  /** Bytes queued or being written and not yet taken by the kernel (estimated: sizeOf). */
  get bytes(): number {
    return this.queuedBytes + this.writingBytes;
  }

  push(msg: Message): void {
    this.q.push(msg);
    this.queuedBytes += sizeOf(msg);
  }

  /** Encode and write queued messages while fewer than MAX_INFLIGHT regions are being written. */
  pump(sock: Socket): void {
    while (this.head < this.q.length && this.inflight < MAX_INFLIGHT && !sock.destroyed) this.writeOne(sock);
  }

  /** Encode and write everything queued now, whatever is being written. */
  drain(sock: Socket): void {
    while (this.head < this.q.length && !sock.destroyed) this.writeOne(sock);
  }

  /** Drop what is queued (the connection is gone). */
  discard(): void {
    this.q = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  /**
   * Encode queued messages into the current chunk from where it was left until it is full or
   * the queue is empty, and write that region. A message that does not fit in what is left
   * ends the region: it goes at the start of the next chunk, which becomes the current one
   * (one longer than a chunk gets a buffer of its own), and both are written.
   */
  private writeOne(sock: Socket): void {
    let c = this.cur;
    if (c === undefined || this.used === CHUNK_SIZE) c = this.nextChunk();
    const start = this.used;
    let extra: Buffer | undefined;
    let spill: Chunk | undefined;
    const alloc = (n: number): Buffer => {
      if (this.used + n <= CHUNK_SIZE) {
        const b = c!.buf.subarray(this.used, this.used + n);
        this.used += n;
        return b;
      }
      if (n <= CHUNK_SIZE) {
        spill = this.takeChunk();
        extra = spill.buf.subarray(0, n);
      } else {
        extra = Buffer.allocUnsafeSlow(n);
      }
      return extra;
    };
    while (this.head < this.q.length && extra === undefined) {
      const msg = this.q[this.head]!;
      this.q[this.head++] = undefined;
      this.queuedBytes -= sizeOf(msg);
      encodeMessage(msg, alloc);
    }
    if (this.head === this.q.length) {
      this.q = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    const region = this.used > start ? c.buf.subarray(start, this.used) : undefined;
    // Writes complete in order: the last one's callback releases everything written here.
    const last = extra ?? region!;
    c.writes++; // before retiring it: a retired chunk with no writes goes back to the pool
    this.inflight++;
    const n = (region?.length ?? 0) + (extra?.length ?? 0);
    this.writingBytes += n;
    if (extra !== undefined) this.retire(c);
    const next = spill;
    if (next !== undefined) {
      next.writes++;
      this.cur = next;
      this.used = extra!.length;
    }
    const done = (): void => {
      this.inflight--;
      this.writingBytes -= n;
      c!.writes--;
      this.recycle(c!);
      if (next !== undefined) {
        next.writes--;
        this.recycle(next);
      }
      if (!sock.destroyed) this.pump(sock);
      this.onWritten?.();
    };
    if (region !== undefined && extra !== undefined) {
      sock.cork();
      sock.write(region);
      sock.write(extra, done);
      sock.uncork();
    } else {
      sock.write(last, done);
    }
  }

  /** An idle chunk from the pool, or a new one. */
  private takeChunk(): Chunk {
    const c = this.pool.pop() ?? { buf: Buffer.allocUnsafeSlow(CHUNK_SIZE), writes: 0, retired: false };
    c.retired = false;
    return c;
  }

  private nextChunk(): Chunk {
    if (this.cur) this.retire(this.cur);
    const c = this.takeChunk();
    this.cur = c;
    this.used = 0;
    return c;
  }

  private retire(c: Chunk): void {
    if (c.retired) return;
    c.retired = true;
    if (this.cur === c) {
      this.cur = undefined;
      this.used = 0;
    }
    this.recycle(c);
  }

  /** A full chunk with nothing left being written goes back to the pool. */
  private recycle(c: Chunk): void {
    if (c.retired && c.writes === 0 && this.pool.length < POOL_MAX && !this.pool.includes(c)) this.pool.push(c);
  }
}
