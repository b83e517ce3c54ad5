/**
 * What `job-info.lookup` with FLUX_JOB_LOOKUP_CURRENT answers for `jobspec` and `R`: the
 * value re-encoded by jansson's `json_dumps(o, 0)`, i.e. one line with `", "` / `": "`
 * separators, keys in their original order, reals as `%.17g` with `.0` kept
 * (test/vectors/cli-job-info-lookup.json).
 *
 * JS numbers lose the int/real distinction, so the parser here keeps it: a number token with
 * `.`, `e` or `E` becomes a `Real`; unsafe integers become bigint.
 */
import { formatJanssonReal } from '../../job/numfmt.js';

/** A JSON number that was written as a real (`0.0`, `1e3`). */
export class Real {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

export type JValue = null | boolean | string | number | bigint | Real | JValue[] | { [k: string]: JValue };

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(): never {
    throw new SyntaxError(`invalid JSON at position ${this.pos}`);
  }

  ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  value(): JValue {
    this.ws();
    const c = this.s[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't' && this.s.startsWith('true', this.pos)) return ((this.pos += 4), true);
    if (c === 'f' && this.s.startsWith('false', this.pos)) return ((this.pos += 5), false);
    if (c === 'n' && this.s.startsWith('null', this.pos)) return ((this.pos += 4), null);
    return this.number();
  }

  object(): JValue {
    this.pos++;
    const o: { [k: string]: JValue } = {};
    this.ws();
    if (this.s[this.pos] === '}') return (this.pos++, o);
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail();
      const k = this.string();
      this.ws();
      if (this.s[this.pos] !== ':') this.fail();
      this.pos++;
      o[k] = this.value();
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') return o;
      if (c !== ',') this.fail();
    }
  }

  array(): JValue {
    this.pos++;
    const a: JValue[] = [];
    this.ws();
    if (this.s[this.pos] === ']') return (this.pos++, a);
    for (;;) {
      a.push(this.value());
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') return a;
      if (c !== ',') this.fail();
    }
  }

  string(): string {
    const start = this.pos;
    const s = this.s;
    let i = start + 1;
    for (;;) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) this.fail();
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    this.pos = i + 1;
    return JSON.parse(s.slice(start, i + 1)) as string;
  }

  number(): JValue {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const r = m.exec(this.s);
    if (!r) this.fail();
    this.pos += r[0].length;
    if (r[1] !== undefined || r[2] !== undefined) return new Real(Number(r[0]));
    const n = Number(r[0]);
    return Number.isSafeInteger(n) ? n : BigInt(r[0]);
  }
}

/** Parse JSON text, keeping reals as `Real` and unsafe integers as bigint. */
export function parseKeepReals(text: string): JValue {
  const p = new Parser(text);
  const v = p.value();
  p.ws();
  if (p.pos !== text.length) p.fail();
  return v;
}

/** jansson `json_dumps(o, 0)`. Plain non-integer numbers are written as reals too. */
export function janssonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? String(v) : formatJanssonReal(v);
    case 'object': {
      if (v instanceof Real) return formatJanssonReal(v.value);
      if (Array.isArray(v)) return '[' + v.map(janssonDumps).join(', ') + ']';
      const parts: string[] = [];
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue;
        parts.push(JSON.stringify(k) + ': ' + janssonDumps(x));
      }
      return '{' + parts.join(', ') + '}';
    }
    default:
      return 'null';
  }
}

/** Turn `Real` markers back into plain numbers (for FLUX_JOB_LOOKUP_JSON_DECODE answers). */
export function plain(v: JValue): unknown {
  if (v instanceof Real) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/**
 * Set a dotted path (`attributes.system.duration`) in an object, creating intermediate
 * objects (flux-core `jpath_set`, as used by jobspec-update / resource-update).
 */
export function jpathSet(obj: { [k: string]: JValue }, path: string, value: JValue): void {
  const parts = path.split('.');
  let cur: { [k: string]: JValue } = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next) || next instanceof Real) {
      const o: { [k: string]: JValue } = {};
      cur[k] = o;
      cur = o;
    } else {
      cur = next as { [k: string]: JValue };
    }
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Convert a value decoded by JSON.parse (an event context) to a JValue (numbers as they are). */
export function fromPlain(v: unknown): JValue {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') {
    const o: { [k: string]: JValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = fromPlain(x);
    return o;
  }
  return v as JValue;
}
