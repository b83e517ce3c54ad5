/**
 * A job's output as the store keeps it and as tsflux's own `job attach` receives it: binary
 * records, the output's bytes as the tasks wrote them (docs/architecture.md "store",
 * docs/protocol.md §B `job-info.output-watch`). A job printing a gigabyte is a gigabyte on disk
 * and on the wire, copied, never escaped; Flux's clients still get RFC 24 eventlog lines, made
 * from the records when read (renderRecord).
 *
 * Little-endian, one record after another:
 *   LINE  u8 1, u32 n, n bytes: one RFC 18 eventlog line, UTF-8, ending in \n (header, eof, log,
 *         redirect: every guest.output event but data)
 *   DATA  u8 2, f64 timestamp, u8 stream (1 stdout, 2 stderr), u32 rank, u32 n, n bytes of output
 * As an RFC 24 line, a DATA record is `{"timestamp":T,"name":"data","context":{"stream":S,
 * "rank":"R","data":D}}`, D the bytes as text when they are UTF-8, else their base64 with
 * `"encoding":"base64"` (flux-core's ioencode.c).
 */
import { isUtf8 } from 'node:buffer';
import { encodeEvent, parseEvent, type EventlogEntry } from './eventlog.js';

const LINE = 1;
const DATA = 2;
const LINE_HEAD = 5;
const DATA_HEAD = 18;

export type OutputStream = 'stdout' | 'stderr';

/** One DATA record, decoded; `data` is a view into the record bytes. */
export interface DataRecord {
  timestamp: number;
  stream: OutputStream;
  rank: number;
  data: Buffer;
}

/** One record, decoded: a DATA record, or a LINE record's eventlog line. */
export type OutputRecord = { data: DataRecord; line?: undefined } | { line: string; data?: undefined };

/** A LINE record holding `line` (one eventlog line ending in \n). */
export function lineRecord(line: string): Buffer {
  const n = Buffer.byteLength(line);
  const b = Buffer.allocUnsafe(LINE_HEAD + n);
  b[0] = LINE;
  b.writeUInt32LE(n, 1);
  b.write(line, LINE_HEAD, 'utf8');
  return b;
}

/** Bytes of a DATA record holding `n` bytes of output. */
export const dataRecordSize = (n: number): number => DATA_HEAD + n;

/**
 * A DATA record holding a copy of `data`: in a new buffer, or at the start of `into` if it has
 * room (a view of it; for a caller that hands the record to something that copies it at once).
 */
export function dataRecord(timestamp: number, stream: OutputStream, rank: number, data: Buffer, into?: Buffer): Buffer {
  const size = DATA_HEAD + data.length;
  const b = into !== undefined && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  b[0] = DATA;
  b.writeDoubleLE(timestamp, 1);
  b[9] = stream === 'stdout' ? 1 : 2;
  b.writeUInt32LE(rank, 10);
  b.writeUInt32LE(data.length, 14);
  data.copy(b, DATA_HEAD);
  return b;
}

export class RecordError extends Error {}

/**
 * The records of `buf` (whole records, one after another), with each one's end offset.
 * Throws RecordError if one is malformed or cut short.
 */
export function* records(buf: Buffer): Generator<OutputRecord & { end: number }> {
  let off = 0;
  while (off < buf.length) {
    const kind = buf[off];
    if (kind === LINE) {
      if (off + LINE_HEAD > buf.length) throw new RecordError(`output record at ${off}: cut short`);
      const end = off + LINE_HEAD + buf.readUInt32LE(off + 1);
      if (end > buf.length) throw new RecordError(`output record at ${off}: cut short`);
      yield { line: buf.toString('utf8', off + LINE_HEAD, end), end };
      off = end;
    } else if (kind === DATA) {
      if (off + DATA_HEAD > buf.length) throw new RecordError(`output record at ${off}: cut short`);
      const s = buf[off + 9];
      if (s !== 1 && s !== 2) throw new RecordError(`output record at ${off}: bad stream ${s}`);
      const end = off + DATA_HEAD + buf.readUInt32LE(off + 14);
      if (end > buf.length) throw new RecordError(`output record at ${off}: cut short`);
      const data: DataRecord = {
        timestamp: buf.readDoubleLE(off + 1),
        stream: s === 1 ? 'stdout' : 'stderr',
        rank: buf.readUInt32LE(off + 10),
        data: buf.subarray(off + DATA_HEAD, end),
      };
      yield { data, end };
      off = end;
    } else {
      throw new RecordError(`output record at ${off}: unknown kind ${kind}`);
    }
  }
}

/** A DATA record as its RFC 24 `data` event. */
export function dataEvent(r: DataRecord): EventlogEntry {
  const context: Record<string, unknown> = { stream: r.stream, rank: String(r.rank) };
  if (isUtf8(r.data)) context.data = r.data.toString('utf8');
  else {
    context.data = r.data.toString('base64');
    context.encoding = 'base64';
  }
  return { timestamp: r.timestamp, name: 'data', context };
}

/** A record as its RFC 24 eventlog line. */
export function renderRecord(r: OutputRecord): string {
  return r.line ?? encodeEvent(dataEvent(r.data!));
}

/** Records as the eventlog text they stand for (lines, each ending in \n). */
export function recordsText(buf: Buffer): string {
  const out: string[] = [];
  for (const r of records(buf)) out.push(renderRecord(r));
  return out.join('');
}

/** Eventlog text (whole lines) as LINE records: a log stored as text by an older tsflux. */
export function textRecords(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length - 1;
    parts.push(lineRecord(text.slice(start, nl + 1)));
    start = nl + 1;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** The event a LINE record's line stands for (throws EventlogError if it is not one). */
export function lineEvent(line: string): EventlogEntry {
  return parseEvent(line);
}

/**
 * How much of `buf` ends on a whole UTF-8 character: all of it unless its last bytes begin a
 * multi-byte character that the next read completes (kept back, as a StringDecoder would).
 */
export function utf8Whole(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = buf[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    // b begins a character: how many bytes does it want?
    const want = b >= 0xf8 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return want > back ? n - back : n;
  }
  return n;
}

/**
 * One stream's reads, passed on as bytes but never cut inside a UTF-8 character: the start of
 * one at the end of a read is held back until the next read completes it (a StringDecoder that
 * keeps the bytes; bytes that are not UTF-8 pass as they are).
 */
export class WholeChars {
  private tail: Buffer | undefined;

  /** `read` after what was held back, without the start of a character cut at its end. */
  push(read: Buffer): Buffer {
    let data = this.tail === undefined ? read : Buffer.concat([this.tail, read]);
    this.tail = undefined;
    const whole = utf8Whole(data);
    if (whole < data.length) {
      this.tail = Buffer.from(data.subarray(whole)); // a copy: the read it came from is not kept
      data = data.subarray(0, whole);
    }
    return data;
  }

  /** What is still held back (the stream has ended), if anything. */
  end(): Buffer | undefined {
    const t = this.tail;
    this.tail = undefined;
    return t;
  }
}
