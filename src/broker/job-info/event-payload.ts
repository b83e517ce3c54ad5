/**
 * The payload of an eventlog-watch response, `{"event":"<line>\n"}` (docs/protocol.md §B), for a
 * line of a guest log (a job's output), written straight into the wire buffer when the response
 * is sent (Message.payloadWriter) rather than made into a string here: the line is already JSON
 * text, and Flux's wire format escapes it once more as a JSON string. size() turns the line
 * into UTF-8 in one reused buffer; the write() that follows escapes it from there.
 */
import { jsonStringLength, writeJsonString } from '../../protocol/json-string.js';
import type { PayloadWriter } from '../../protocol/types.js';

const HEAD = Buffer.from('{"event":', 'latin1');
const TAIL = 0x7d; // }
/** Lines up to this many characters are turned into bytes in the reused buffer. */
const SCRATCH_CHARS = 256 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit. */
let scratch = Buffer.allocUnsafeSlow(3 * 1024);

export class EventPayload implements PayloadWriter {
  private bytes: Buffer = scratch;
  private n = 0;

  constructor(private readonly line: string) {}

  get estimate(): number {
    return this.line.length + HEAD.length + 3;
  }

  size(): number {
    const need = 3 * this.line.length;
    if (need > scratch.length && this.line.length <= SCRATCH_CHARS) {
      scratch = Buffer.allocUnsafeSlow(Math.max(need, 2 * scratch.length));
    }
    this.bytes = need <= scratch.length ? scratch : Buffer.allocUnsafe(need);
    this.n = this.bytes.write(this.line, 0, 'utf8');
    return HEAD.length + jsonStringLength(this.bytes, 0, this.n) + 1;
  }

  write(buf: Buffer, off: number): number {
    off += HEAD.copy(buf, off);
    off = writeJsonString(this.bytes, 0, this.n, buf, off);
    buf[off++] = TAIL;
    this.bytes = scratch; // a buffer of its own (a long line) is not kept
    return off;
  }
}
