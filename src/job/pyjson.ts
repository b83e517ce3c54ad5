/**
 * Python `json.dumps` compatible serializer, for output that must match what Flux's Python
 * tools print (e.g. `flux run --dry-run`): separators `", "` and `": "`, one line, keys in
 * insertion order, Python's string escaping and float repr.
 *
 * JS has one number type, so Python's int/float distinction is carried by a marker:
 * plain numbers that are integers print as ints (`0`), `PyFloat` values print as floats
 * (`0.0`, `3600.0`). Non-integer plain numbers print as floats too.
 */
import { formatPyFloat } from './numfmt.js';

/** A number that Python holds as a `float` (prints `1.0`, not `1`). JSON.stringify → number. */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
  valueOf(): number {
    return this.value;
  }
}

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** Strip PyFloat markers: a plain JSON-compatible deep copy. */
export function unwrapPy<T = unknown>(value: unknown): T {
  if (value instanceof PyFloat) return value.value as T;
  if (Array.isArray(value)) return value.map((v) => unwrapPy(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = unwrapPy(v);
    }
    return out as T;
  }
  return value as T;
}

export interface PyDumpsOptions {
  /** Python's default is true: escape every non-ASCII character as \uXXXX. */
  ensureAscii?: boolean;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function hex4(code: number): string {
  return '\\u' + code.toString(16).padStart(4, '0');
}

/** Python's `encode_basestring_ascii` / `encode_basestring`. */
export function pyEncodeString(s: string, ensureAscii = true): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code < 0x20) out += hex4(code);
    else if (ensureAscii && code > 0x7e)
      out += hex4(code); // UTF-16 units = Python's surrogate pairs
    else out += ch;
  }
  return out + '"';
}

function encodeNumber(n: number, asFloat: boolean): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (!asFloat && Number.isInteger(n)) {
    return Number.isSafeInteger(n) ? String(n === 0 ? 0 : n) : BigInt(n).toString();
  }
  return formatPyFloat(n);
}

function encode(value: unknown, ensureAscii: boolean, seen: Set<object>): string | undefined {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value instanceof PyFloat) return encodeNumber(value.value, true);
  switch (typeof value) {
    case 'number':
      return encodeNumber(value, false);
    case 'bigint':
      return value.toString();
    case 'string':
      return pyEncodeString(value, ensureAscii);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  const obj = value as object;
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function' && !(obj instanceof Date)) {
    return encode((toJSON as () => unknown).call(obj), ensureAscii, seen);
  }
  if (seen.has(obj)) throw new TypeError('pyDumps: circular reference');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const parts = obj.map((v) => encode(v, ensureAscii, seen) ?? 'null');
      return '[' + parts.join(', ') + ']';
    }
    const parts: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      const ev = encode(v, ensureAscii, seen);
      if (ev === undefined) continue;
      parts.push(pyEncodeString(k, ensureAscii) + ': ' + ev);
    }
    return '{' + parts.join(', ') + '}';
  } finally {
    seen.delete(obj);
  }
}

/**
 * `json.dumps(value)` as Python prints it. Object keys keep JS insertion order (note that JS
 * moves integer-like keys such as "10" to the front of an object; Python would not).
 */
export function pyDumps(value: unknown, opts: PyDumpsOptions = {}): string {
  const out = encode(value, opts.ensureAscii ?? true, new Set());
  if (out === undefined) throw new TypeError('pyDumps: value is not JSON serializable');
  return out;
}
