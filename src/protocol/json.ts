/**
 * Lossless JSON for Flux payloads (docs/protocol.md §A.5 payloads, §C.4 job ids).
 *
 * Job ids are u64 FLUIDs; on an instance older than a few days they exceed 2^53 and
 * JSON.parse would silently round them. parseJson() returns integers outside the safe range
 * as `bigint` (all digits kept); every other number is a plain number. stringifyJson()
 * writes bigints as bare integers.
 *
 * Speed: the common payload (a ~3 KB submit whose only long digit runs, if any, are
 * inside base64 strings) takes the native path: one regex test + JSON.parse. Only text
 * containing a run of ≥16 digits goes through the hand-written parser below.
 */
import { FluxError, Errno } from './errno.js';

/** FLUX_JOBID_ANY (2^64-1); `-1` on the wire. */
export const JOBID_ANY = 0xffffffffffffffffn;

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
/**
 * 16 digits is the shortest integer that can be unsafe (9007199254740992). Spelled out:
 * V8 runs this form several times faster than /\d{16}/ on base64-heavy text.
 */
const LONG_DIGITS = /\d\d\d\d\d\d\d\d\d\d\d\d\d\d\d\d/;

/** Freeze a decoded JSON value and everything in it (for values handed out more than once). */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** Parse JSON text (any whitespace); unsafe integers become bigint. Throws SyntaxError. */
export function parseJson(text: string | Buffer): unknown {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  if (!LONG_DIGITS.test(s)) return JSON.parse(s);
  return parseSlow(s);
}

// ---------------------------------------------------------------- slow path parser
let src = '';
let pos = 0;

function parseSlow(s: string): unknown {
  src = s;
  pos = 0;
  try {
    const v = parseValue();
    skipWs();
    if (pos < src.length) fail();
    return v;
  } finally {
    src = '';
  }
}

function fail(): never {
  if (pos >= src.length) throw new SyntaxError('Unexpected end of JSON input');
  throw new SyntaxError(`Unexpected token '${src[pos]}' in JSON at position ${pos}`);
}

function skipWs(): void {
  for (;;) {
    const c = src.charCodeAt(pos);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
    else return;
  }
}

function parseValue(): unknown {
  skipWs();
  const c = src.charCodeAt(pos);
  switch (c) {
    case 0x7b /* { */:
      return parseObject();
    case 0x5b /* [ */:
      return parseArray();
    case 0x22 /* " */:
      return parseString();
    case 0x74 /* t */:
      return literal('true', true);
    case 0x66 /* f */:
      return literal('false', false);
    case 0x6e /* n */:
      return literal('null', null);
    default:
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumber();
      return fail();
  }
}

function literal<T>(word: string, value: T): T {
  if (!src.startsWith(word, pos)) {
    // advance to the first mismatching character for a precise position
    let k = 0;
    while (k < word.length && src.charCodeAt(pos) === word.charCodeAt(k)) {
      pos++;
      k++;
    }
    fail();
  }
  pos += word.length;
  return value;
}

function parseObject(): Record<string, unknown> {
  pos++; // {
  const obj: Record<string, unknown> = {};
  skipWs();
  if (src.charCodeAt(pos) === 0x7d) {
    pos++;
    return obj;
  }
  for (;;) {
    skipWs();
    if (src.charCodeAt(pos) !== 0x22) fail();
    const key = parseString();
    skipWs();
    if (src.charCodeAt(pos) !== 0x3a /* : */) fail();
    pos++;
    const val = parseValue();
    if (key === '__proto__') {
      Object.defineProperty(obj, key, { value: val, writable: true, enumerable: true, configurable: true });
    } else {
      obj[key] = val;
    }
    skipWs();
    const c = src.charCodeAt(pos);
    if (c === 0x2c /* , */) pos++;
    else if (c === 0x7d /* } */) {
      pos++;
      return obj;
    } else fail();
  }
}

function parseArray(): unknown[] {
  pos++; // [
  const arr: unknown[] = [];
  skipWs();
  if (src.charCodeAt(pos) === 0x5d) {
    pos++;
    return arr;
  }
  for (;;) {
    arr.push(parseValue());
    skipWs();
    const c = src.charCodeAt(pos);
    if (c === 0x2c) pos++;
    else if (c === 0x5d /* ] */) {
      pos++;
      return arr;
    } else fail();
  }
}

// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const CONTROL_CHAR = /[\u0000-\u001f]/;

function parseString(): string {
  const start = pos + 1; // after the opening quote
  let q = src.indexOf('"', start);
  if (q < 0) {
    pos = src.length;
    fail();
  }
  const bs = src.indexOf('\\', start);
  if (bs < 0 || bs > q) {
    // no escapes: the text is the value
    const s = src.slice(start, q);
    if (CONTROL_CHAR.test(s)) {
      pos = start + s.search(CONTROL_CHAR);
      fail();
    }
    pos = q + 1;
    return s;
  }
  // escapes present: find the closing quote (one preceded by an even number of backslashes)
  for (;;) {
    let k = q - 1;
    while (src.charCodeAt(k) === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) break;
    q = src.indexOf('"', q + 1);
    if (q < 0) {
      pos = src.length;
      fail();
    }
  }
  pos = q + 1;
  // let the native parser decode (and validate) the escapes
  try {
    return JSON.parse(src.slice(start - 1, q + 1)) as string;
  } catch {
    pos = start - 1;
    throw new SyntaxError(`Bad string in JSON at position ${start - 1}`);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function parseNumber(): number | bigint {
  const start = pos;
  let neg = false;
  if (src.charCodeAt(pos) === 0x2d) {
    neg = true;
    pos++;
  }
  // integer part, accumulated directly while it is surely exact (≤ 15 digits)
  let acc = 0;
  const intStart = pos;
  const first = src.charCodeAt(pos);
  if (first === 0x30) pos++;
  else if (first >= 0x31 && first <= 0x39) {
    let c = first;
    do {
      acc = acc * 10 + (c - 0x30);
      c = src.charCodeAt(++pos);
    } while (c >= 0x30 && c <= 0x39);
  } else fail();
  const intDigits = pos - intStart;
  let isInt = true;
  if (src.charCodeAt(pos) === 0x2e /* . */) {
    isInt = false;
    pos++;
    if (!isDigit(src.charCodeAt(pos))) fail();
    while (isDigit(src.charCodeAt(pos))) pos++;
  }
  const e = src.charCodeAt(pos);
  if (e === 0x65 || e === 0x45 /* e E */) {
    isInt = false;
    pos++;
    const sign = src.charCodeAt(pos);
    if (sign === 0x2b || sign === 0x2d) pos++;
    if (!isDigit(src.charCodeAt(pos))) fail();
    while (isDigit(src.charCodeAt(pos))) pos++;
  }
  if (isInt && intDigits <= 15) return neg ? -acc : acc;
  const tok = src.slice(start, pos);
  if (isInt && intDigits >= 17) return BigInt(tok); // ≥ 10^16 > 2^53: never safe
  const n = Number(tok);
  if (isInt && !Number.isSafeInteger(n)) return BigInt(tok);
  return n;
}

// ---------------------------------------------------------------- stringify

/**
 * Compact JSON; bigints are written as bare integers. Same rules as JSON.stringify
 * otherwise (toJSON, undefined/function members skipped, non-finite numbers → null).
 * Throws TypeError on a top-level value with no JSON form (undefined, function).
 */
export function stringifyJson(value: unknown): string {
  let out = hasTopLevelBigint(value) ? NEEDS_SERIALIZE : tryNative(value);
  if (out === NEEDS_SERIALIZE) out = serialize(value, '', []);
  if (out === undefined) throw new TypeError('value has no JSON representation');
  return out;
}

const NEEDS_SERIALIZE = Symbol('bigint');

function tryNative(value: unknown): string | undefined | typeof NEEDS_SERIALIZE {
  // JSON.stringify throws on the first bigint; a stack trace would make that throw cost
  // several µs, so capture none while trying (restored at once).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (e instanceof TypeError && e.message.includes('BigInt')) return NEEDS_SERIALIZE;
    Error.stackTraceLimit = limit;
    return JSON.stringify(value); // throws again, this time with a stack trace
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Cheap check that catches the common `{"id": <bigint>, …}` without a failed native attempt. */
function hasTopLevelBigint(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const k in value) if (typeof (value as Record<string, unknown>)[k] === 'bigint') return true;
  return false;
}

/** Quoted object keys; payload keys repeat ("id", "state", …), so this saves most quoting. */
const quotedKeys = new Map<string, string>();

function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 4096) quotedKeys.set(k, q);
  }
  return q;
}

/** JSON.stringify semantics (toJSON, boxed primitives, skipped members), plus bigints. */
function serialize(v: unknown, key: string, stack: object[]): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? '' + v : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint': {
      const toJSON = (v as unknown as { toJSON?: unknown }).toJSON; // BigInt.prototype.toJSON, if someone set it
      return typeof toJSON === 'function' ? serializeValue(toJSON.call(v, key), stack) : v.toString();
    }
    case 'object':
      if (v === null) return 'null';
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
        return serializeValue((v as { toJSON: (k: string) => unknown }).toJSON(key), stack);
      }
      return serializeObject(v, stack);
    default:
      return undefined; // undefined, function, symbol
  }
}

/** A toJSON() result: serialized without calling toJSON again (as JSON.stringify does). */
function serializeValue(v: unknown, stack: object[]): string | undefined {
  if (typeof v === 'object' && v !== null) return serializeObject(v, stack);
  if (typeof v === 'bigint') return v.toString();
  return serialize(v, '', stack);
}

function serializeObject(v: object, stack: object[]): string {
  if (Array.isArray(v)) {
    enter(v, stack);
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += serialize(v[i], '' + i, stack) ?? 'null';
    }
    stack.pop();
    return out + ']';
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) {
    if (v instanceof Number) return serialize(Number(v), '', stack)!;
    if (v instanceof String) return JSON.stringify(String(v));
    if (v instanceof Boolean) return v.valueOf() ? 'true' : 'false';
    if (typeof BigInt !== 'undefined' && v instanceof BigInt) return v.valueOf().toString();
  }
  enter(v, stack);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const s = serialize(o[k], k, stack);
    if (s === undefined) continue;
    if (first) first = false;
    else out += ',';
    out += quoteKey(k) + ':' + s;
  }
  stack.pop();
  return out + '}';
}

function enter(v: object, stack: object[]): void {
  if (stack.includes(v)) throw new TypeError('Converting circular structure to JSON');
  stack.push(v);
}

// ---------------------------------------------------------------- job ids (§C.4)

/**
 * Normalize a job id from a payload or user input: an integer number, a bigint or a decimal
 * string. -1 maps to FLUX_JOBID_ANY (2^64-1). Throws FluxError EINVAL otherwise.
 */
export function toJobId(v: unknown): bigint {
  let id: bigint | undefined;
  if (typeof v === 'bigint') id = v;
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) id = BigInt(v);
  } else if (typeof v === 'string') {
    if (/^-?\d+$/.test(v)) id = BigInt(v);
  }
  if (id === -1n) return JOBID_ANY;
  if (id === undefined || id < 0n || id > JOBID_ANY) {
    throw new FluxError(Errno.EINVAL, `invalid job id: ${typeof v === 'bigint' ? v.toString() : String(v)}`);
  }
  return id;
}

/** Job id as it goes into a payload: ANY → -1, safe values → number, others → bigint. */
export function jobIdToWire(id: bigint): bigint | number {
  if (id === JOBID_ANY) return -1;
  if (id <= MAX_SAFE_BIG && id >= -MAX_SAFE_BIG) return Number(id);
  return id;
}
