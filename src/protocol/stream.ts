/**
 * Incremental stream framing (docs/protocol.md §A.1 handshake, §A.2 8-byte header).
 */
import { ProtoError } from './errno.js';
import { decodeFrames, HEADER_SIZE } from './codec.js';
import type { Message } from './types.js';

export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

export interface StreamDecoderOptions {
  /** Largest frame section accepted (the header's length field). Default 64 MiB. */
  maxMessageSize?: number;
}

/**
 * Splits a byte stream into messages. push() returns every message completed by the chunk;
 * any split of the input yields the same messages. Whole messages inside one chunk are
 * decoded in place (payloads are views into the chunk); partial data is kept as a list of
 * chunks and concatenated once, when the message completes.
 * After an error (EPROTO) the stream is unusable: later push() calls rethrow it.
 */
export class StreamDecoder {
  private readonly max: number;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** frame-section length of the partial message, or -1 while its header is incomplete */
  private bodyLen = -1;
  private failed: Error | undefined;

  constructor(opts: StreamDecoderOptions = {}) {
    this.max = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.pendingLen;
  }

  push(chunk: Buffer): Message[] {
    if (this.failed) throw this.failed;
    try {
      return this.pushInner(chunk);
    } catch (e) {
      this.failed = e as Error;
      this.pending = [];
      this.pendingLen = 0;
      throw e;
    }
  }

  private pushInner(chunk: Buffer): Message[] {
    const out: Message[] = [];
    let off = 0;
    // 1. complete a partial message from earlier chunks
    while (this.pendingLen > 0) {
      const need = this.bodyLen < 0 ? HEADER_SIZE : HEADER_SIZE + this.bodyLen;
      const missing = need - this.pendingLen;
      const avail = chunk.length - off;
      if (avail < missing) {
        if (avail > 0) this.pending.push(chunk.subarray(off));
        this.pendingLen += avail;
        return out;
      }
      this.pending.push(chunk.subarray(off, off + missing));
      off += missing;
      const whole = Buffer.concat(this.pending, need);
      if (this.bodyLen < 0) {
        this.pending = [whole];
        this.pendingLen = need;
        this.bodyLen = this.readHeader(whole, 0);
        continue; // now wait for/complete the body
      }
      this.pending = [];
      this.pendingLen = 0;
      this.bodyLen = -1;
      out.push(decodeFrames(whole.subarray(HEADER_SIZE)));
    }
    // 2. whole messages directly from the chunk
    const end = chunk.length;
    while (end - off >= HEADER_SIZE) {
      const len = this.readHeader(chunk, off);
      if (end - off - HEADER_SIZE < len) {
        this.bodyLen = len;
        break;
      }
      out.push(decodeFrames(chunk.subarray(off + HEADER_SIZE, off + HEADER_SIZE + len)));
      off += HEADER_SIZE + len;
    }
    // 3. keep the tail
    if (off < end) {
      this.pending = [chunk.subarray(off)];
      this.pendingLen = end - off;
      if (this.pendingLen < HEADER_SIZE) this.bodyLen = -1;
    }
    return out;
  }

  /** Validate the 8-byte header at `off` and return the frame-section length (§A.2). */
  private readHeader(buf: Buffer, off: number): number {
    const b0 = buf[off]!;
    const b1 = buf[off + 1]!;
    const b2 = buf[off + 2]!;
    const b3 = buf[off + 3]!;
    const le = b0 === 0x12 && b1 === 0x00 && b2 === 0xee && b3 === 0xff;
    const be = b0 === 0xff && b1 === 0xee && b2 === 0x00 && b3 === 0x12;
    if (!le && !be) {
      const hex = [b0, b1, b2, b3].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new ProtoError(`bad stream magic ${hex} (expected 12 00 ee ff)`);
    }
    const len = buf.readUInt32BE(off + 4);
    if (len > this.max) throw new ProtoError(`message length ${len} exceeds maximum ${this.max}`);
    return len;
  }
}

/** The one-byte connection handshake the server sends (§A.1): 0 = accepted, else an errno. */
export function encodeHandshake(errno = 0): Buffer {
  return Buffer.from([errno & 0xff]);
}
