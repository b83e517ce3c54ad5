/**
 * Job IDs: encodings and parsing compatible with flux-core
 * (libjob/id.c flux_job_id_parse/flux_job_id_encode, libutil/fluid.c, mnemonic.c, basemoji.c)
 * and with Python's flux.job.JobID.
 *
 * A job id is a u64, represented here as a `bigint` in [0, 2^64).
 */
import { inspect } from 'node:util';
import { basemojiDecode, basemojiEncode, looksLikeBasemoji } from './emoji.js';
import { mnDecodeU64, mnEncodeU64 } from './mnemonic.js';
import { FluxError } from '../protocol/errno.js';

export type JobIdEncoding = 'dec' | 'hex' | 'dothex' | 'kvs' | 'f58' | 'f58plain' | 'words' | 'emoji';

/** All encodings, in the order `flux job id --to` documents them. */
export const JOBID_ENCODINGS: readonly JobIdEncoding[] = Object.freeze([
  'dec',
  'hex',
  'dothex',
  'kvs',
  'f58',
  'f58plain',
  'words',
  'emoji',
] as const);

export const JOBID_MAX = (1n << 64n) - 1n;
const MASK64 = JOBID_MAX;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export const EINVAL = 22;
export const EPROTO = 71;

/**
 * Error thrown for malformed job ids.  `message` is `<input>: malformed input`, exactly the
 * text flux prints after `flux-job: `.
 */
export class JobIdError extends FluxError {
  /** The offending input (string form). */
  readonly input: string;
  constructor(input: string, message = `${input}: malformed input`, errno = EINVAL) {
    super(errno, message);
    this.name = 'JobIdError';
    this.input = input;
  }
}

function malformed(input: string): JobIdError {
  return new JobIdError(input);
}

// ---------------------------------------------------------------------------------------------
// Locale / f58 prefix

/** The F58 prefix flux uses in a UTF-8 locale. */
export const F58_PREFIX = '\u0192'; // ƒ
/** The ASCII alternative prefix. */
export const F58_ALT_PREFIX = 'f';

/**
 * Whether the current environment selects a UTF-8 locale, approximating glibc's
 * setlocale(LC_ALL, "") + MB_CUR_MAX > 1: the first non-empty of LC_ALL, LC_CTYPE, LANG
 * decides; no locale variables means the "C" locale (ASCII).
 */
export function isUtf8Locale(env: NodeJS.ProcessEnv = process.env): boolean {
  const loc = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(loc);
}

/**
 * The prefix flux would print for `--to=f58` in this environment: `ƒ` in a UTF-8 locale
 * unless FLUX_F58_FORCE_ASCII is set (to anything), else `f`.
 */
export function f58Prefix(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLUX_F58_FORCE_ASCII !== undefined) return F58_ALT_PREFIX;
  return isUtf8Locale(env) ? F58_PREFIX : F58_ALT_PREFIX;
}

// ---------------------------------------------------------------------------------------------
// Encoders

const B58_DIGITS = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < B58_DIGITS.length; i++) t[B58_DIGITS.charCodeAt(i)] = i;
  return t;
})();
const B58_6 = 58n ** 6n;
/** Max base58 digits after the prefix (MAX_B58_STRLEN). */
const MAX_B58_LEN = 12;

function b58Number(v: number): string {
  if (v === 0) return '1';
  let s = '';
  while (v > 0) {
    s = B58_DIGITS[v % 58]! + s;
    v = Math.floor(v / 58);
  }
  return s;
}

/** base58 digits (no prefix), most significant first; 0 -> "1". */
function b58Encode(id: bigint): string {
  if (id <= MAX_SAFE) return b58Number(Number(id));
  const hi = Number(id / B58_6); // < 2^64 / 58^6 ≈ 4.8e8
  let lo = Number(id % B58_6);
  let low = '';
  for (let i = 0; i < 6; i++) {
    low = B58_DIGITS[lo % 58]! + low;
    lo = Math.floor(lo / 58);
  }
  return b58Number(hi) + low;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function split32(id: bigint): [lo: number, hi: number] {
  if (id <= MAX_SAFE) {
    const n = Number(id);
    return [n % 0x100000000, Math.floor(n / 0x100000000)];
  }
  return [Number(id & 0xffffffffn), Number(id >> 32n)];
}

function dothex(id: bigint): string {
  const [lo, hi] = split32(id);
  return `${hex4(hi >>> 16)}.${hex4(hi & 0xffff)}.${hex4(lo >>> 16)}.${hex4(lo & 0xffff)}`;
}

function checkId(id: bigint): bigint {
  if (typeof id !== 'bigint') throw new TypeError(`job id must be a bigint, got ${typeof id}`);
  if (id < 0n || id > MASK64) throw new RangeError(`job id out of range [0, 2^64): ${id}`);
  return id;
}

/**
 * Encode a job id like `flux job id --to=<to>` / flux_job_id_encode().
 * `to` is matched case-insensitively as flux does; an unknown encoding throws a JobIdError
 * with errno EPROTO and message `Unknown to=<to>`.
 */
export function encodeJobId(id: bigint, to: JobIdEncoding = 'dec'): string {
  checkId(id);
  switch (to) {
    case 'dec':
      return id.toString();
    case 'hex':
      return '0x' + id.toString(16);
    case 'dothex':
      return dothex(id);
    case 'kvs':
      return 'job.' + dothex(id);
    case 'f58':
      return f58Prefix() + b58Encode(id);
    case 'f58plain':
      return F58_ALT_PREFIX + b58Encode(id);
    case 'words': {
      const [lo, hi] = split32(id);
      return mnEncodeU64(lo, hi);
    }
    case 'emoji':
      return basemojiEncode(id);
    default: {
      const lower = String(to).toLowerCase();
      if (lower !== to && (JOBID_ENCODINGS as readonly string[]).includes(lower))
        return encodeJobId(id, lower as JobIdEncoding);
      throw new JobIdError(String(to), `Unknown to=${String(to)}`, EPROTO);
    }
  }
}

/** Is `s` (case-insensitively) one of the encodings? Returns the canonical name or undefined. */
export function normalizeEncoding(s: string): JobIdEncoding | undefined {
  const lower = s.toLowerCase();
  return (JOBID_ENCODINGS as readonly string[]).includes(lower) ? (lower as JobIdEncoding) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** isspace() in the C locale */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * glibc strtoul()/strtoull() on s starting at `pos`, with base 10 or 16 (base 16 accepts an
 * optional 0x/0X).  Returns the value (u64, ULONG_MAX on overflow, negated mod 2^64 for a
 * leading '-'), the end index, and whether it overflowed (errno ERANGE).
 */
function cStrtoul(s: string, pos: number, base: 10 | 16): { value: bigint; end: number; overflow: boolean } {
  const n = s.length;
  let i = pos;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  const sc = s.charCodeAt(i);
  if (sc === 43 /* + */ || sc === 45 /* - */) {
    neg = sc === 45;
    i++;
  }
  let prefixed = false;
  if (base === 16 && s.charCodeAt(i) === 48 && (s.charCodeAt(i + 1) | 0x20) === 120 /* x */) {
    i += 2;
    prefixed = true;
  }
  const digitsStart = i;
  if (base === 16) while (i < n && hexVal(s.charCodeAt(i)) >= 0) i++;
  else while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i === digitsStart) {
    // no conversion; "0x" followed by a non-digit converts the "0" and ends at the 'x'
    if (prefixed) return { value: 0n, end: digitsStart - 1, overflow: false };
    return { value: 0n, end: pos, overflow: false };
  }
  const digits = s.slice(digitsStart, i);
  let value = base === 16 ? BigInt('0x' + digits) : BigInt(digits);
  if (value > MASK64) return { value: MASK64, end: i, overflow: true };
  if (neg) value = -value & MASK64;
  return { value, end: i, overflow: false };
}

function decodeDothex(s: string): bigint | null {
  // fluid_decode_dothex(): four strtoul(...,16) fields separated by '.', nothing after the last
  let pos = 0;
  let id = 0n;
  for (let k = 0; k < 4; k++) {
    const r = cStrtoul(s, pos, 16);
    const next = s.charCodeAt(r.end);
    if (k < 3) {
      if (next !== 46 /* . */) return null;
    } else if (r.end !== s.length) return null;
    id |= r.value << BigInt(48 - 16 * k);
    pos = r.end + 1;
  }
  return id & MASK64;
}

function decodeF58Digits(d: string): bigint | null {
  const n = d.length;
  if (n === 0 || n > MAX_B58_LEN) return null;
  // accumulate in up to two Number chunks (58^6 < 2^53), combine as bigint mod 2^64
  let hi = 0;
  let lo = 0;
  const split = n > 6 ? n - 6 : 0;
  for (let i = 0; i < n; i++) {
    const c = d.charCodeAt(i);
    const v = c < 128 ? B58_VALUE[c]! : -1;
    if (v < 0) return null;
    if (i < split) hi = hi * 58 + v;
    else lo = lo * 58 + v;
  }
  if (split === 0) return BigInt(lo);
  return (BigInt(hi) * B58_6 + BigInt(lo)) & MASK64;
}

/** Which encoding an input was recognized as (kvs = dothex with a `job.` prefix). */
export type JobIdInputKind = JobIdEncoding;

/** Parse result with the recognized encoding; returns null for malformed input. */
export function parseJobIdDetailed(input: string): { id: bigint; kind: JobIdInputKind } | null {
  if (typeof input !== 'string' || input.length === 0) return null;
  if (input.indexOf('\0') >= 0) return null; // a C string would end there; reject outright
  const n = input.length;
  // flux_job_id_parse: skip leading whitespace, ignore one `job.` prefix
  let p = 0;
  while (p < n && isSpace(input.charCodeAt(p))) p++;
  let jobPrefix = false;
  if (input.startsWith('job.', p)) {
    p += 4;
    jobPrefix = true;
  }
  // fluid_parse: empty string is EINVAL, then skip leading whitespace (again)
  if (p === n) return null;
  while (p < n && isSpace(input.charCodeAt(p))) p++;
  const s = p === 0 ? input : input.slice(p);

  // fluid_string_detect_type order: dothex, words, f58, emoji; else integer
  if (s.indexOf('.') >= 0) {
    const id = decodeDothex(s);
    return id === null ? null : { id, kind: jobPrefix ? 'kvs' : 'dothex' };
  }
  if (s.indexOf('-') >= 0) {
    const r = mnDecodeU64(s);
    if (r === null) return null;
    return { id: (BigInt(r[1]) << 32n) | BigInt(r[0]), kind: 'words' };
  }
  const c0 = s.charCodeAt(0);
  if (c0 === 0x192 /* ƒ */ || c0 === 102 /* f */) {
    const id = decodeF58Digits(s.slice(1));
    return id === null ? null : { id, kind: c0 === 102 ? 'f58plain' : 'f58' };
  }
  if (looksLikeBasemoji(s)) {
    const id = basemojiDecode(s);
    return id === null ? null : { id, kind: 'emoji' };
  }

  // integer: "0x" prefix -> hex (strtoull base 16), otherwise decimal (strtoull base 10)
  const len = s.length;
  let k = 0;
  while (k < len && isDigit(s.charCodeAt(k))) k++;
  if (k === len && len > 0 && len <= 15) return { id: BigInt(Number(s)), kind: 'dec' }; // fast path
  const hex = c0 === 48 && s.charCodeAt(1) === 120; // strncmp (s, "0x", 2)
  const r = cStrtoul(s, 0, hex ? 16 : 10);
  if (r.overflow) return null;
  for (let i = r.end; i < len; i++) if (!isSpace(s.charCodeAt(i))) return null;
  return { id: r.value, kind: hex ? 'hex' : 'dec' };
}

/**
 * Parse a job id in any encoding, the way flux_job_id_parse() does.
 * Throws JobIdError (`<input>: malformed input`, errno EINVAL) on malformed input.
 *
 * Quirks kept from flux: f58 and emoji values wrap modulo 2^64 (`fjpXCZedGfVR` -> 0);
 * dothex fields are C strtoul() fields; trailing junk after six valid mnemonic words is
 * ignored; `job.` followed only by whitespace parses as 0.
 */
export function parseJobId(s: string): bigint {
  const r = parseJobIdDetailed(s);
  if (r === null) throw malformed(String(s));
  return r.id;
}

/**
 * Parse, requiring the input to be in encoding `from` (`dothex` also accepts `kvs`, `f58`
 * accepts either prefix).  Throws JobIdError on malformed or mismatched input.
 */
export function parseJobIdAs(s: string, from: JobIdEncoding | 'any'): bigint {
  const r = parseJobIdDetailed(s);
  if (r === null) throw malformed(String(s));
  if (from === 'any' || r.kind === from) return r.id;
  if (from === 'dothex' && r.kind === 'kvs') return r.id;
  if (from === 'f58' && r.kind === 'f58plain') return r.id;
  throw malformed(String(s));
}

// ---------------------------------------------------------------------------------------------
// JobID

export type JobIDLike = bigint | number | string | JobID;

/**
 * An immutable job id, modelled on Python's flux.job.JobID: `toString()` gives f58, and the
 * getters give every other encoding.  `valueOf()` is the bigint (so `<`, `>`, `Number(id)`
 * work); `toJSON()` is the decimal string (lossless above 2^53).
 */
export class JobID {
  /** The id as an unsigned 64-bit integer. */
  readonly value: bigint;
  /** The string this id was parsed from, or its decimal form. */
  readonly orig: string;

  constructor(v: JobIDLike) {
    if (v instanceof JobID) {
      this.value = v.value;
      this.orig = v.orig;
    } else if (typeof v === 'string') {
      this.value = parseJobId(v);
      this.orig = v;
    } else if (typeof v === 'bigint') {
      if (v < 0n || v > MASK64) throw new JobIdError(String(v));
      this.value = v;
      this.orig = v.toString();
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw new JobIdError(String(v));
      this.value = BigInt(v);
      this.orig = String(v);
    } else {
      throw new TypeError(`cannot make a JobID from ${typeof v}`);
    }
    Object.freeze(this);
  }

  /** Parse a string in any encoding (throws JobIdError). */
  static parse(s: string): JobID {
    return new JobID(String(s));
  }

  /** Convert from a bigint, a non-negative safe integer, a string in any encoding, or a JobID. */
  static from(v: JobIDLike): JobID {
    return v instanceof JobID ? v : new JobID(v);
  }

  /** Like parse(), but returns undefined instead of throwing. */
  static tryParse(s: string): JobID | undefined {
    const r = parseJobIdDetailed(s);
    return r === null ? undefined : new JobID(r.id);
  }

  get dec(): string {
    return this.value.toString();
  }
  get hex(): string {
    return '0x' + this.value.toString(16);
  }
  get dothex(): string {
    return dothex(this.value);
  }
  get kvs(): string {
    return 'job.' + dothex(this.value);
  }
  /** `ƒ`/`f` + base58, prefix chosen from the locale and FLUX_F58_FORCE_ASCII. */
  get f58(): string {
    return f58Prefix() + b58Encode(this.value);
  }
  /** `f` + base58, always ASCII. */
  get f58plain(): string {
    return F58_ALT_PREFIX + b58Encode(this.value);
  }
  get words(): string {
    const [lo, hi] = split32(this.value);
    return mnEncodeU64(lo, hi);
  }
  get emoji(): string {
    return basemojiEncode(this.value);
  }

  encode(to: JobIdEncoding = 'dec'): string {
    return encodeJobId(this.value, to);
  }

  /** f58, as Python's `str(JobID)`. */
  toString(): string {
    return this.f58;
  }

  valueOf(): bigint {
    return this.value;
  }

  /** Decimal string (JSON has no lossless representation for u64 numbers). */
  toJSON(): string {
    return this.value.toString();
  }

  equals(other: JobIDLike): boolean {
    if (other instanceof JobID) return other.value === this.value;
    if (typeof other === 'bigint') return other === this.value;
    const r = JobID.tryFrom(other);
    return r !== undefined && r.value === this.value;
  }

  private static tryFrom(v: JobIDLike): JobID | undefined {
    try {
      return JobID.from(v);
    } catch {
      return undefined;
    }
  }

  static compare(a: JobID, b: JobID): number {
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }

  [inspect.custom](): string {
    return `JobID(${F58_ALT_PREFIX}${b58Encode(this.value)})`;
  }
}
