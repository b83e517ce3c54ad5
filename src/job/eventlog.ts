/**
 * RFC 18 eventlogs (docs/protocol.md §C.2; flux-core libeventlog/eventlog.c; Python
 * flux/eventlog.py, flux/job/event.py).
 *
 * An eventlog is UTF-8 text, one compact JSON object per line, each line ending in `\n`:
 * `{"timestamp":<float>,"name":<non-empty string>[,"context":<object>]}`.
 * Encoding writes timestamps as jansson does (`%.17g`, always with a `.` or exponent), so a
 * log written by flux-core re-encodes to the same bytes.
 */
import { formatFixed, formatJanssonReal } from './numfmt.js';
import { Errno, FluxError } from '../protocol/errno.js';

export interface EventlogEntry {
  timestamp: number;
  name: string;
  context?: Record<string, unknown>;
}

/** Malformed eventlog text or entry (errno EINVAL, as eventlog_decode/eventlog_entry_parse). */
export class EventlogError extends FluxError {
  /** 1-based line number of the bad entry, when known. */
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(Errno.EINVAL, line !== undefined ? `eventlog line ${line}: ${message}` : message);
    this.name = 'EventlogError';
    this.line = line;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Validate an entry object; returns the entry (keys timestamp, name, context only). */
export function validateEntry(obj: unknown, line?: number): EventlogEntry {
  if (!isPlainObject(obj)) throw new EventlogError('entry is not a JSON object', line);
  const ts = obj['timestamp'];
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    throw new EventlogError(ts === undefined ? 'missing "timestamp"' : '"timestamp" must be a number', line);
  }
  const name = obj['name'];
  if (typeof name !== 'string') {
    throw new EventlogError(name === undefined ? 'missing "name"' : '"name" must be a string', line);
  }
  if (name.length === 0) throw new EventlogError('"name" must not be empty', line);
  const entry: EventlogEntry = { timestamp: ts, name };
  if ('context' in obj) {
    const ctx = obj['context'];
    if (!isPlainObject(ctx)) throw new EventlogError('"context" must be a JSON object', line);
    entry.context = ctx;
  }
  return entry;
}

/**
 * True when JSON.stringify writes `value` exactly as compactJson would: only strings, booleans,
 * null, integers, plain arrays and plain objects with such values (no reals, no undefined, no
 * toJSON). Most event contexts are like that, and the native encoder is several times faster.
 */
function nativeSafe(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isInteger(value);
    case 'object': {
      if (value === null) return true;
      if (depth > 8) return false;
      if (Array.isArray(value)) {
        for (const v of value) if (!nativeSafe(v, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k in value) if (!nativeSafe((value as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** Compact JSON with jansson-style reals for non-integer numbers (JSON.stringify otherwise). */
function compactJson(value: unknown): string {
  if (typeof value === 'object' && value !== null && nativeSafe(value)) return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new EventlogError(`cannot encode non-finite number ${value}`);
    return Number.isInteger(value) ? JSON.stringify(value) : formatJanssonReal(value);
  }
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return compactJson((toJSON as () => unknown).call(value));
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : compactJson(v))).join(',') + ']';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(JSON.stringify(k) + ':' + compactJson(v));
  }
  return '{' + parts.join(',') + '}';
}

/** Now, in seconds since the epoch with sub-microsecond digits: an event's timestamp. */
export function eventTime(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

let lastTimestamp = NaN;
let lastTimestampText = '';

/**
 * One eventlog line, trailing `\n` included. Key order timestamp, name, context; context is
 * left out when absent. The timestamp is always written as a real (`1.0`, never `1`).
 * Note: whole-number reals inside the context (jansson `0.0`) come out as integers (`0`)
 * because JS numbers do not keep that distinction.
 */
export function encodeEvent(e: EventlogEntry): string {
  if (typeof e.name !== 'string' || e.name.length === 0) {
    throw new EventlogError('event name must be a non-empty string');
  }
  if (typeof e.timestamp !== 'number' || !Number.isFinite(e.timestamp)) {
    throw new EventlogError('event timestamp must be a finite number');
  }
  if (e.name.includes('\n')) throw new EventlogError('event name must not contain a newline');
  // Events posted together share a timestamp: format it once.
  let ts: string;
  if (e.timestamp === lastTimestamp) ts = lastTimestampText;
  else {
    ts = formatJanssonReal(e.timestamp);
    lastTimestamp = e.timestamp;
    lastTimestampText = ts;
  }
  const name = JSON.stringify(e.name);
  if (e.context === undefined) return ['{"timestamp":', ts, ',"name":', name, '}\n'].join('');
  if (!isPlainObject(e.context)) throw new EventlogError('event context must be an object');
  // join, not +: one flat string, where + would leave a tree of pieces that a store keeping
  // every line of every job would hold on to (and the garbage collector would walk).
  return ['{"timestamp":', ts, ',"name":', name, ',"context":', compactJson(e.context), '}\n'].join('');
}

/** Encode a whole log (concatenated lines). */
export function encodeEventlog(entries: readonly EventlogEntry[]): string {
  return entries.map(encodeEvent).join('');
}

/** Parse one line (a trailing `\n` is allowed). */
export function parseEvent(line: string, lineNo?: number): EventlogEntry {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (text.includes('\n')) throw new EventlogError('entry contains an embedded newline', lineNo);
  if (text.trim() === '') throw new EventlogError('empty entry', lineNo);
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new EventlogError(`invalid JSON: ${(err as Error).message}`, lineNo);
  }
  return validateEntry(obj, lineNo);
}

/**
 * Parse a whole eventlog. `""` is an empty log. Every entry, the last one included, must end
 * with `\n`; blank lines are errors.
 */
export function parseEventlog(text: string): EventlogEntry[] {
  const out: EventlogEntry[] = [];
  if (text === '') return out;
  let start = 0;
  let lineNo = 1;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      throw new EventlogError('last entry is not terminated by a newline', lineNo);
    }
    out.push(parseEvent(text.slice(start, nl), lineNo));
    start = nl + 1;
    lineNo++;
  }
  return out;
}

/** Like `flux job eventlog` default output: `1712345678.123456 name k=v k2="s"`. */
export function formatEventText(e: EventlogEntry): string {
  let s = formatFixed(e.timestamp, 6) + ' ' + e.name;
  if (e.context) {
    for (const [k, v] of Object.entries(e.context)) {
      if (v === undefined) continue;
      s += ' ' + k + '=' + compactJson(v);
    }
  }
  return s;
}

// ---- Python-like wrappers -------------------------------------------------------------------

/** Python `flux.job.EventLogEvent`: `.name .timestamp .context` (context `{}` when absent). */
export class EventlogEvent {
  readonly name: string;
  readonly timestamp: number;
  readonly context: Record<string, unknown>;
  /** Whether the underlying entry had a context key. */
  readonly hasContext: boolean;

  constructor(event: EventlogEntry | string) {
    const entry = typeof event === 'string' ? parseEvent(event) : validateEntry(event);
    this.name = entry.name;
    this.timestamp = entry.timestamp;
    this.context = entry.context ?? {};
    this.hasContext = entry.context !== undefined;
  }

  /** The RFC 18 entry (context omitted when the original had none). */
  toJSON(): EventlogEntry {
    const e: EventlogEntry = { timestamp: this.timestamp, name: this.name };
    if (this.hasContext) e.context = this.context;
    return e;
  }

  /** RFC 18 line with trailing newline. */
  encode(): string {
    return encodeEvent(this.toJSON());
  }

  toString(): string {
    return formatEventText(this.toJSON());
  }
}

/**
 * Python `flux.job.JobException`: raised for a fatal `exception` event. Not a FluxError: it
 * is a job's outcome (an RFC 21 exception with a type and severity), not a failed call, and
 * as in Python (where it is no OSError) a caller tells a failed job from a rejected submit
 * (FluxError) by its class.
 */
export class JobException extends Error {
  readonly type: string;
  readonly note: string;
  readonly severity: number;
  readonly timestamp: number;
  readonly event: EventlogEvent;

  constructor(event: EventlogEvent | EventlogEntry) {
    const ev = event instanceof EventlogEvent ? event : new EventlogEvent(event);
    const type = typeof ev.context['type'] === 'string' ? (ev.context['type'] as string) : '';
    const note = typeof ev.context['note'] === 'string' ? (ev.context['note'] as string) : '';
    super(`job.exception: type=${type}: ${note}`);
    this.name = 'JobException';
    this.type = type;
    this.note = note;
    this.severity = typeof ev.context['severity'] === 'number' ? (ev.context['severity'] as number) : 0;
    this.timestamp = ev.timestamp;
    this.event = ev;
  }

  override toString(): string {
    return this.message;
  }
}
