/**
 * The native launcher's event stream cut into frames (README "Protocol": u32 little-endian
 * length of the rest, op byte, body), from reads into one reused buffer: every read is
 * borrowed (the next read overwrites it), so what a frame needs from a later read is copied
 * out first (a small owned `carry`: a frame's head, or a whole small frame), and an output
 * frame's body is passed on a read's part at a time, as a view that is valid only during the
 * call (never copied together first: the launcher's output frames are as long as our reads).
 */

/** Op of an output frame. */
export const OUTPUT = 0x4f; // O
/** An output frame's bytes before its output: u32 length, op, u32 id, stream (1 stdout, 2 stderr). */
export const OUTPUT_HEAD = 10;

export interface FrameSink {
  /** A whole frame but an output frame's body in parts: its bytes are buf[a..b) (a at the op byte). */
  frame(buf: Buffer, a: number, b: number): void;
  /** Part of the body of the output frame of task `id` (stream 1 or 2), in order. */
  output(id: number, stream: number, bytes: Buffer): void;
}

export class FrameReader {
  /** The start of a frame that the next reads complete (owned, reused). */
  private carry = Buffer.allocUnsafe(256);
  private carryLen = 0;
  /** An output frame whose body is still arriving: its task, stream and bytes to come. */
  private partial: { id: number; stream: number; left: number } | undefined;

  constructor(private readonly sink: FrameSink) {}

  /** One read; `buf` may be overwritten once this returns. */
  push(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      if (this.partial !== undefined) {
        off = this.outputBody(buf, off);
        continue;
      }
      if (this.carryLen > 0) {
        off = this.fillCarry(buf, off);
        continue;
      }
      // frames from this read
      const left = buf.length - off;
      if (left < 5) break;
      const len = buf.readUInt32LE(off);
      if (left - 4 >= len) {
        this.sink.frame(buf, off + 4, off + 4 + len);
        off += 4 + len;
      } else if (buf[off + 4] === OUTPUT && left >= OUTPUT_HEAD) {
        this.partial = { id: buf.readUInt32LE(off + 5), stream: buf[off + 9]!, left: len - 6 };
        off += OUTPUT_HEAD;
      } else break;
    }
    if (off < buf.length) this.put(buf, off, buf.length - off);
  }

  /**
   * Take from buf[off..] what the carried frame start needs: its head, then (an output frame)
   * its first OUTPUT_HEAD bytes or (any other) the whole frame; returns where that ends.
   */
  private fillCarry(buf: Buffer, off: number): number {
    const c = this.carry;
    for (;;) {
      let want: number;
      if (this.carryLen < 5) want = 5;
      else {
        const len = c.readUInt32LE(0);
        want = c[4] === OUTPUT ? Math.min(OUTPUT_HEAD, 4 + len) : 4 + len;
      }
      if (this.carryLen < want) {
        if (off === buf.length) return off;
        const k = Math.min(want - this.carryLen, buf.length - off);
        this.put(buf, off, k);
        off += k;
        continue;
      }
      // the carry holds what it wants: a whole frame, or an output frame's head
      const len = c.readUInt32LE(0);
      this.carryLen = 0;
      if (4 + len === want) this.sink.frame(c, 4, want);
      else this.partial = { id: c.readUInt32LE(5), stream: c[9]!, left: len - 6 };
      return off;
    }
  }

  /** Append buf[off..off+n) to the carry. */
  private put(buf: Buffer, off: number, n: number): void {
    if (this.carryLen + n > this.carry.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.carry.length, this.carryLen + n));
      this.carry.copy(bigger, 0, 0, this.carryLen);
      this.carry = bigger;
    }
    buf.copy(this.carry, this.carryLen, off, off + n);
    this.carryLen += n;
  }

  /** Pass on the bytes of the partial output frame's body that buf has from `at`; returns where they end. */
  private outputBody(buf: Buffer, at: number): number {
    const p = this.partial!;
    const k = Math.min(p.left, buf.length - at);
    p.left -= k;
    if (p.left === 0) this.partial = undefined;
    if (k > 0) this.sink.output(p.id, p.stream, buf.subarray(at, at + k));
    return at + k;
  }
}
