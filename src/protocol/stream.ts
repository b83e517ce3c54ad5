/**
 * Incremental stream framing (docs/protocol.md §A.1 handshake, §A.2 8-byte header).
 */
import { ProtoError } from './errno.js';
import { decodeFrames, HEADER_SIZE, MAX_FRAMES, tooManyFrames } from './codec.js';
import type { Message } from './types.js';

export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

/**
 * What the half-received messages of many decoders (a server's connections) may hold together.
 * A decoder asks before it keeps more bytes of an incomplete message and gives them back when
 * the message completes or the decoder is discarded.
 */
export interface PendingBudget {
  /** May `d` keep `bytes` more? False: the decoder fails (EPROTO) with `why()`. */
  reserve(d: StreamDecoder, bytes: number): boolean;
  release(d: StreamDecoder, bytes: number): void;
  why(): string;
}

export interface StreamDecoderOptions {
  /** Largest frame section accepted (the header's length field). Default 64 MiB. */
  maxMessageSize?: number;
  /** Shared bound on the bytes of incomplete messages (with other decoders). */
  budget?: PendingBudget;
}

/**
 * Splits a byte stream into messages. push() returns every message completed by the chunk;
 * any split of the input yields the same messages. Whole messages inside one chunk are
 * decoded in place (payloads are views into the chunk); partial data is kept as a list of
 * chunks and concatenated once, when the message completes. The frame prefixes of a partial
 * message are followed as its bytes arrive, so one with more than MAX_FRAMES frames (or a
 * frame longer than the message) fails at once, not when its last byte is in.
 * After an error (EPROTO) the stream is unusable: later push() calls rethrow it.
 */
export class StreamDecoder {
  private readonly max: number;
  private readonly budget: PendingBudget | undefined;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** frame-section length of the partial message, or -1 while its header is incomplete */
  private bodyLen = -1;
  /** Frame scan of the partial message's body: bytes of it scanned, frames seen. */
  private scanned = 0;
  private frames = 0;
  /** Bytes left of the current frame's data; its 5-byte prefix's bytes still to come (0-4) and value. */
  private frameLeft = 0;
  private prefixLeft = 0;
  private prefixValue = 0;
  private failed: Error | undefined;

  constructor(opts: StreamDecoderOptions = {}) {
    this.max = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.budget = opts.budget;
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
      this.discard();
      throw e;
    }
  }

  /** Drop what is held (the connection is gone), giving it back to the budget. */
  discard(): void {
    this.setPending([], 0);
  }

  /** Hold these bytes of an incomplete message (accounted in the budget). */
  private setPending(bufs: Buffer[], len: number): void {
    const b = this.budget;
    if (b !== undefined && len !== this.pendingLen) {
      if (len > this.pendingLen) {
        if (!b.reserve(this, len - this.pendingLen)) throw new ProtoError(b.why());
      } else b.release(this, this.pendingLen - len);
    }
    this.pending = bufs;
    this.pendingLen = len;
  }

  private startBody(len: number): void {
    this.bodyLen = len;
    this.scanned = 0;
    this.frames = 0;
    this.frameLeft = 0;
    this.prefixLeft = 0;
  }

  /** Follow the frame prefixes in `buf[from, to)`, the next bytes of the partial message's body. */
  private scan(buf: Buffer, from: number, to: number): void {
    let i = from;
    while (i < to) {
      if (this.frameLeft > 0) {
        const n = Math.min(this.frameLeft, to - i);
        this.frameLeft -= n;
        i += n;
        continue;
      }
      const byte = buf[i++]!;
      if (this.prefixLeft > 0) {
        this.prefixValue = this.prefixValue * 256 + byte;
        if (--this.prefixLeft === 0) this.frameLeft = this.prefixValue;
      } else {
        if (++this.frames > MAX_FRAMES) throw new ProtoError(tooManyFrames());
        if (byte === 0xff) {
          this.prefixLeft = 4;
          this.prefixValue = 0;
        } else this.frameLeft = byte;
      }
      if (this.frameLeft > 0 && this.frameLeft > this.bodyLen - (this.scanned + (i - from))) {
        throw new ProtoError(`truncated frame: size ${this.frameLeft} exceeds the message`);
      }
    }
    this.scanned += to - from;
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
        if (avail > 0) {
          if (this.bodyLen >= 0) this.scan(chunk, off, chunk.length);
          this.pending.push(chunk.subarray(off));
          this.setPending(this.pending, this.pendingLen + avail);
        }
        return out;
      }
      if (this.bodyLen >= 0) this.scan(chunk, off, off + missing);
      this.pending.push(chunk.subarray(off, off + missing));
      off += missing;
      const whole = Buffer.concat(this.pending, need);
      if (this.bodyLen < 0) {
        this.setPending([whole], need);
        this.startBody(this.readHeader(whole, 0));
        continue; // now wait for/complete the body
      }
      this.setPending([], 0);
      this.bodyLen = -1;
      out.push(decodeFrames(whole.subarray(HEADER_SIZE)));
    }
    // 2. whole messages directly from the chunk
    const end = chunk.length;
    while (end - off >= HEADER_SIZE) {
      const len = this.readHeader(chunk, off);
      if (end - off - HEADER_SIZE < len) {
        this.startBody(len);
        this.scan(chunk, off + HEADER_SIZE, end);
        break;
      }
      out.push(decodeFrames(chunk.subarray(off + HEADER_SIZE, off + HEADER_SIZE + len)));
      off += HEADER_SIZE + len;
    }
    // 3. keep the tail
    if (off < end) {
      if (end - off < HEADER_SIZE) this.bodyLen = -1;
      this.setPending([chunk.subarray(off)], end - off);
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
