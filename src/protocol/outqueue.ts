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
 * jobspec for a whole bulk submission) until the socket has room: then up to MAX_INFLIGHT
 * chunks of 256 KiB are filled and written, and each chunk is reused once written.
 *
 *   const out = new OutQueue();
 *   out.push(msg);        // any number of times
 *   out.pump(socket);     // encode and write what the socket has room for; the rest follows
 *                         // by itself as writes complete
 *   out.drain(socket);    // encode and write everything now (before closing)
 */
import type { Socket } from 'node:net';
import { encodeMessage } from './codec.js';
import type { Message } from './types.js';

const CHUNK_SIZE = 256 * 1024;
/** Chunks handed to the socket and not written yet, at most. */
const MAX_INFLIGHT = 2;
/** Idle chunks kept for reuse. */
const POOL_MAX = 3;

export class OutQueue {
  private q: (Message | undefined)[] = [];
  private head = 0;
  private readonly pool: Buffer[] = [];
  private inflight = 0;

  /** Messages queued and not yet encoded. */
  get length(): number {
    return this.q.length - this.head;
  }

  push(msg: Message): void {
    this.q.push(msg);
  }

  /** Encode and write queued messages while fewer than MAX_INFLIGHT chunks are being written. */
  pump(sock: Socket): void {
    while (this.head < this.q.length && this.inflight < MAX_INFLIGHT && !sock.destroyed) {
      const chunk = this.pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
      const { used, extra } = this.fill(chunk);
      this.inflight++;
      const done = (): void => {
        this.inflight--;
        if (this.pool.length < POOL_MAX) this.pool.push(chunk);
        if (!sock.destroyed) this.pump(sock);
      };
      if (extra === undefined) {
        sock.write(chunk.subarray(0, used), done);
      } else if (used === 0) {
        sock.write(extra, done);
      } else {
        // writes complete in order: the chunk is free once `extra`, written after it, is
        sock.cork();
        sock.write(chunk.subarray(0, used));
        sock.write(extra, done);
        sock.uncork();
      }
    }
  }

  /** Encode and write everything queued now, whatever is in flight (e.g. before closing). */
  drain(sock: Socket): void {
    while (this.head < this.q.length) {
      const chunk = Buffer.allocUnsafeSlow(CHUNK_SIZE);
      const { used, extra } = this.fill(chunk);
      if (used > 0) sock.write(chunk.subarray(0, used));
      if (extra !== undefined) sock.write(extra);
    }
  }

  /** Drop what is queued (the connection is gone). */
  discard(): void {
    this.q = [];
    this.head = 0;
  }

  /**
   * Encode queued messages into `chunk` until it is full. The message that does not fit is
   * encoded into its own buffer (`extra`), which ends this chunk.
   */
  private fill(chunk: Buffer): { used: number; extra: Buffer | undefined } {
    let used = 0;
    let extra: Buffer | undefined;
    const alloc = (n: number): Buffer => {
      if (used + n <= CHUNK_SIZE) {
        const b = chunk.subarray(used, used + n);
        used += n;
        return b;
      }
      extra = Buffer.allocUnsafeSlow(n);
      return extra;
    };
    while (this.head < this.q.length && extra === undefined) {
      const msg = this.q[this.head]!;
      this.q[this.head++] = undefined;
      encodeMessage(msg, alloc);
    }
    if (this.head === this.q.length) {
      this.q = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    return { used, extra };
  }
}
