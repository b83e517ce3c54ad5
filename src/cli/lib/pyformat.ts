/**
 * Python `str.format` as Flux's CLI tools use it (flux/util.py: UtilFormatter, OutputFormat;
 * flux/job/info.py: JobInfoFormat): `{field!conv:spec}` with Python's format-spec mini
 * language, plus Flux's extensions:
 *
 *  - conversions `!d` (datetime, spec is an strftime format, `::` then a normal spec),
 *    `!D` (ISO 8601 date), `!F` (Flux standard duration), `!H` (h:mm:ss), `!P` (percent),
 *    and Python's `!s` / `!r`;
 *  - spec suffixes `h` (show `-` for empty/zero values), `+` (mark truncation with `+`), `W`;
 *  - sentinels before a field: `?:` drops the field when it is empty for every row, `+:`
 *    widens it to the widest value.
 *
 * Values are JS values with Python meaning: strings, integers (number or bigint), `PyFloat`
 * or non-integer numbers (floats), booleans, and objects implementing `PyObject`.
 * Not supported: `sort:` prefixes, nested replacement fields inside specs, indexing (`a[0]`).
 */
import { PyFloat } from '../../job/pyjson.js';
import { fsd } from '../../job/fsd.js';
import { formatFixed, formatG, formatPyFloat } from '../../job/numfmt.js';
import { Errno, FluxError } from '../../protocol/errno.js';

/** An object with Python `str()` and, optionally, its own `__format__`. */
export interface PyObject {
  pyStr(): string;
  pyFormat?(spec: string): string;
}

export type PyValue = string | number | bigint | boolean | PyFloat | PyObject | null | undefined;

/** A bad `--format` string or field (Python's ValueError; errno EINVAL). */
export class FormatError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'FormatError';
  }
}

function isPyObject(v: unknown): v is PyObject {
  return typeof v === 'object' && v !== null && typeof (v as PyObject).pyStr === 'function';
}

function isFloat(v: unknown): v is number | PyFloat {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** Python `str(value)`. */
export function pyStr(v: PyValue): string {
  if (v === null || v === undefined) return v === null ? 'None' : '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyFloat) return formatPyFloat(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : formatPyFloat(v);
  return v.pyStr();
}

/** Python `repr(value)` (only what matters for `!r`). */
export function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return "'" + v.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
  return pyStr(v);
}

// ---- format spec -------------------------------------------------------------------------

export interface Spec {
  fill: string;
  align: string;
  sign: string;
  alt: boolean;
  zero: boolean;
  width: number | undefined;
  grouping: string;
  precision: number | undefined;
  type: string;
}

const SPEC_RE = /^(?:([\s\S])?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([_,])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/u;

export function parseSpec(spec: string): Spec {
  const m = SPEC_RE.exec(spec);
  if (!m) throw new FormatError(`Invalid format specifier '${spec}'`);
  return {
    fill: m[1] ?? '',
    align: m[2] ?? '',
    sign: m[3] ?? '',
    alt: m[5] !== undefined,
    zero: m[6] !== undefined,
    width: m[7] !== undefined ? Number(m[7]) : undefined,
    grouping: m[8] ?? '',
    precision: m[9] !== undefined ? Number(m[9]) : undefined,
    type: m[10] ?? '',
  };
}

/** Length in code points (Python's len()). */
function plen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function ptrunc(s: string, n: number): string {
  return [...s].slice(0, n).join('');
}

function pad(body: string, sp: Spec, defaultAlign: string, signPrefix = ''): string {
  const width = sp.width ?? 0;
  let fill = sp.fill || ' ';
  let align = sp.align || defaultAlign;
  if (!sp.align && sp.zero && defaultAlign === '>') {
    fill = sp.fill || '0';
    align = '=';
  }
  const len = plen(signPrefix) + plen(body);
  if (len >= width) return signPrefix + body;
  const n = width - len;
  switch (align) {
    case '<':
      return signPrefix + body + fill.repeat(n);
    case '^': {
      const left = Math.floor(n / 2);
      return fill.repeat(left) + signPrefix + body + fill.repeat(n - left);
    }
    case '=':
      return signPrefix + fill.repeat(n) + body;
    default:
      return fill.repeat(n) + signPrefix + body;
  }
}

function group(intPart: string, sep: string, every = 3): string {
  if (!sep) return intPart;
  let out = '';
  for (let i = intPart.length; i > 0; i -= every) {
    const chunk = intPart.slice(Math.max(0, i - every), i);
    out = out ? chunk + sep + out : chunk;
  }
  return out;
}

function signOf(neg: boolean, sp: Spec): string {
  if (neg) return '-';
  if (sp.sign === '+') return '+';
  if (sp.sign === ' ') return ' ';
  return '';
}

function formatStr(s: string, sp: Spec): string {
  if (sp.type && sp.type !== 's') throw new FormatError(`Unknown format code '${sp.type}' for object of type 'str'`);
  if (sp.sign) throw new FormatError('Sign not allowed in string format specifier');
  if (sp.align === '=') throw new FormatError("'=' alignment not allowed in string format specifier");
  const body = sp.precision !== undefined ? ptrunc(s, sp.precision) : s;
  return pad(body, sp, '<');
}

function formatInt(n: bigint, sp: Spec): string {
  const t = sp.type;
  if ('eEfFgG%'.includes(t) && t !== '') return formatFloat(Number(n), sp);
  if (sp.precision !== undefined) throw new FormatError('Precision not allowed in integer format specifier');
  const neg = n < 0n;
  const a = neg ? -n : n;
  let body: string;
  let prefix = '';
  switch (t) {
    case 'x':
      body = a.toString(16);
      prefix = sp.alt ? '0x' : '';
      break;
    case 'X':
      body = a.toString(16).toUpperCase();
      prefix = sp.alt ? '0X' : '';
      break;
    case 'o':
      body = a.toString(8);
      prefix = sp.alt ? '0o' : '';
      break;
    case 'b':
      body = a.toString(2);
      prefix = sp.alt ? '0b' : '';
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(n)), sp, '<');
    case 's':
      throw new FormatError("Unknown format code 's' for object of type 'int'");
    default:
      body = group(a.toString(), sp.grouping);
  }
  if (t && t !== 'd' && t !== 'n' && sp.grouping) body = group(body, sp.grouping, 4);
  return pad(body, sp, '>', signOf(neg, sp) + prefix);
}

function expFormat(x: number, p: number, upper: boolean): string {
  let s = x.toExponential(p);
  s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  return upper ? s.toUpperCase() : s;
}

function formatFloat(x: number, sp: Spec): string {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let body: string;
  const t = sp.type;
  const p = sp.precision;
  if (Number.isNaN(x)) body = t && t === t.toUpperCase() && t !== '%' ? 'NAN' : 'nan';
  else if (!Number.isFinite(a)) body = t && t === t.toUpperCase() && t !== '%' ? 'INF' : 'inf';
  else if (t === 'f' || t === 'F') body = formatFixed(a, p ?? 6);
  else if (t === 'e' || t === 'E') body = expFormat(a, p ?? 6, t === 'E');
  else if (t === 'g' || t === 'G' || t === 'n') {
    body = formatG(a, p ?? 6);
    if (t === 'G') body = body.toUpperCase();
  } else if (t === '%') body = formatFixed(a * 100, p ?? 6) + '%';
  else if (p === undefined) body = formatPyFloat(a);
  else {
    // '' with a precision: like 'g', but fixed-point output keeps one decimal digit
    const P = p === 0 ? 1 : p;
    const X = a === 0 ? 0 : Math.floor(Math.log10(Number(a.toExponential(P - 1))));
    if (X < -4 || X >= P) body = formatG(a, P);
    else {
      body = formatG(a, P);
      if (!/[.e]/.test(body)) body += '.0';
    }
  }
  if (sp.grouping && /^\d/.test(body)) {
    const m = /^(\d+)(.*)$/.exec(body)!;
    body = group(m[1]!, sp.grouping) + m[2]!;
  }
  return pad(body, sp, '>', signOf(neg && !Number.isNaN(x), sp));
}

/** Python `format(value, spec)`. */
export function pyFormat(v: PyValue, spec: string): string {
  if (isPyObject(v)) {
    if (v.pyFormat) return v.pyFormat(spec);
    return formatStr(v.pyStr(), parseSpec(spec));
  }
  if (spec === '') return pyStr(v);
  const sp = parseSpec(spec);
  if (v === null || v === undefined || typeof v === 'string') return formatStr(pyStr(v), sp);
  if (typeof v === 'boolean') return formatInt(v ? 1n : 0n, sp);
  if (isFloat(v)) return formatFloat(Number(v), sp);
  if (typeof v === 'bigint') return formatInt(v, sp);
  return formatInt(BigInt(v), sp);
}

// ---- Flux conversions and extensions ------------------------------------------------------

/** Python `str(timedelta(seconds=s))` for a whole number of seconds. */
export function timedeltaStr(s: number): string {
  const neg = s < 0;
  let t = Math.abs(Math.round(s));
  const days = Math.floor(t / 86400);
  t -= days * 86400;
  const hms = `${Math.floor(t / 3600)}:${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  if (days === 0 && !neg) return hms;
  const d = neg ? -days - 1 : days;
  return `${d} day${Math.abs(d) === 1 ? '' : 's'}, ${hms}`;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** C strftime() on local time (the common directives). */
export function strftime(fmt: string, t: number): string {
  const d = new Date(t * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => {
    switch (c) {
      case 'a':
        return DAYS[d.getDay()]!.slice(0, 3);
      case 'A':
        return DAYS[d.getDay()]!;
      case 'b':
      case 'h':
        return MONTHS[d.getMonth()]!.slice(0, 3);
      case 'B':
        return MONTHS[d.getMonth()]!;
      case 'd':
        return p2(d.getDate());
      case 'e':
        return String(d.getDate()).padStart(2, ' ');
      case 'H':
        return p2(d.getHours());
      case 'I':
        return p2(((d.getHours() + 11) % 12) + 1);
      case 'j': {
        const start = new Date(d.getFullYear(), 0, 1);
        return String(Math.floor((d.getTime() - start.getTime()) / 86400000) + 1).padStart(3, '0');
      }
      case 'm':
        return p2(d.getMonth() + 1);
      case 'M':
        return p2(d.getMinutes());
      case 'p':
        return d.getHours() < 12 ? 'AM' : 'PM';
      case 'S':
        return p2(d.getSeconds());
      case 's':
        return String(Math.floor(t));
      case 'y':
        return p2(d.getFullYear() % 100);
      case 'Y':
        return String(d.getFullYear());
      case 'z': {
        const off = -d.getTimezoneOffset();
        return (off < 0 ? '-' : '+') + p2(Math.floor(Math.abs(off) / 60)) + p2(Math.abs(off) % 60);
      }
      case 'Z':
        return (
          Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
            .formatToParts(d)
            .find((x) => x.type === 'timeZoneName')?.value ?? ''
        );
      case 'F':
        return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
      case 'T':
        return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
      case 'R':
        return `${p2(d.getHours())}:${p2(d.getMinutes())}`;
      case 'D':
        return `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`;
      case 'c':
        return `${DAYS[d.getDay()]!.slice(0, 3)} ${MONTHS[d.getMonth()]!.slice(0, 3)} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
      case '%':
        return '%';
      default:
        return m;
    }
  });
}

/** flux.util.UtilDatetime: strftime format, then `::` and a normal spec (`h` allowed). */
export class PyDatetime implements PyObject {
  constructor(readonly t: number) {}
  pyStr(): string {
    return this.t === 0 ? '' : strftime('%F %T', this.t);
  }
  pyFormat(fmt: string): string {
    const i = fmt.indexOf('::');
    const timefmt = i >= 0 ? fmt.slice(0, i) : fmt;
    let spec = i >= 0 ? fmt.slice(i + 2) : '';
    let result = this.t === 0 ? '' : strftime(timefmt || '%FT%T', this.t);
    if (spec.endsWith('h')) {
      if (!result) result = '-';
      spec = spec.slice(0, -1) + 's';
    }
    return spec ? pyFormat(result, spec) : result;
  }
}

/** Values that `h` shows as `-`. */
const EMPTY_OUTPUTS = new Set(['', '0s', '0.0', '0:00:00', '1970-01-01T00:00:00']);

function num(v: PyValue): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** UtilFormatter.convert_field. */
export function convertField(v: PyValue, conv: string): PyValue {
  const orig = pyStr(v);
  const n = num(v);
  switch (conv) {
    case '':
      return v;
    case 's':
      return orig;
    case 'r':
    case 'a':
      return pyRepr(v);
    case 'd':
      if (n === undefined) {
        if (orig === '') return new PyDatetime(0);
        throw new FormatError(`!d: not a timestamp: '${orig}'`);
      }
      return new PyDatetime(n);
    case 'D':
      if (!n) return '';
      return strftime('%FT%T', n);
    case 'F':
      if (n === undefined) {
        if (orig === '') return '';
        throw new FormatError(`!F: not a duration: '${orig}'`);
      }
      return fsd(n);
    case 'H':
      if (n === undefined) {
        if (orig === '') return '';
        throw new FormatError(`!H: not a duration: '${orig}'`);
      }
      return timedeltaStr(n > 0 && n < 1 ? 1 : n);
    case 'P': {
      if (n === undefined) {
        if (orig === '') return '';
        throw new FormatError(`!P: not a number: '${orig}'`);
      }
      const x = n * 100;
      return x > 0 && x < 1 ? formatFixed(x, 2) + '%' : formatG(x, 3) + '%';
    }
    default:
      throw new FormatError(`Unknown conversion specifier ${conv}`);
  }
}

/** UtilFormatter.format_field: the `+` and `h` (and `W`) extensions, then Python format(). */
export function formatField(v: PyValue, spec: string): string {
  let denote = false;
  if (spec.endsWith('+')) {
    denote = true;
    spec = spec.slice(0, -1);
  }
  let value: PyValue = v;
  if (spec.endsWith('h') && !(v instanceof PyDatetime)) {
    const s = pyStr(v);
    value = EMPTY_OUTPUTS.has(s) ? '-' : s;
    spec = spec.slice(0, -1) + 's';
  }
  if (spec.endsWith('W')) spec = spec.slice(0, -1) + 's';
  const out = pyFormat(value, spec);
  if (denote && plen(out) < plen(pyStr(value))) return [...out].slice(0, -1).join('') + '+';
  return out;
}

// ---- format strings ------------------------------------------------------------------------

export interface FormatItem {
  /** Literal text before the field. */
  text: string;
  /** Field name (empty for trailing text). */
  field: string;
  conv: string;
  spec: string;
}

/** Python `string.Formatter().parse(fmt)`. */
export function parseFormat(fmt: string): FormatItem[] {
  const items: FormatItem[] = [];
  let text = '';
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c === '{') {
      if (fmt[i + 1] === '{') {
        text += '{';
        i += 2;
        continue;
      }
      // find the matching close brace (nested braces allowed in the spec)
      let depth = 1;
      let j = i + 1;
      for (; j < fmt.length; j++) {
        if (fmt[j] === '{') depth++;
        else if (fmt[j] === '}' && --depth === 0) break;
      }
      if (j >= fmt.length) throw new FormatError("expected '}' before end of string");
      const inner = fmt.slice(i + 1, j);
      let field = inner;
      let conv = '';
      let spec = '';
      const colon = inner.search(/[:!]/);
      if (colon >= 0) {
        field = inner.slice(0, colon);
        let rest = inner.slice(colon);
        if (rest[0] === '!') {
          conv = rest[1] ?? '';
          rest = rest.slice(2);
          if (rest !== '' && rest[0] !== ':') throw new FormatError("expected ':' after conversion specifier");
        }
        if (rest[0] === ':') spec = rest.slice(1);
      }
      if (field === '') throw new FormatError('empty field names are not supported');
      items.push({ text, field, conv, spec });
      text = '';
      i = j + 1;
      continue;
    }
    if (c === '}') {
      if (fmt[i + 1] === '}') {
        text += '}';
        i += 2;
        continue;
      }
      throw new FormatError("Single '}' encountered in format string");
    }
    text += c;
    i++;
  }
  if (text !== '') items.push({ text, field: '', conv: '', spec: '' });
  return items;
}

/** OutputFormat.FormatSpec: just align and width, for headers. */
function headerSpec(spec: string): string {
  const s = spec.includes('::') ? spec.slice(spec.indexOf('::') + 2) : spec;
  const m = /^(?:([\s\S])?([<>=^]))?([- +])?(z)?(#)?(0)?(\d+)?/u.exec(s);
  if (!m) return '';
  return (m[2] ?? '') + (m[7] ?? '');
}

/**
 * A parsed output format (flux.util.OutputFormat): validates field names against
 * `headings`, renders headers and rows, and applies the `?:` / `+:` sentinels.
 */
export class OutputFormat<T> {
  readonly items: FormatItem[];
  private readonly sentinel: string[];

  constructor(
    fmt: string | FormatItem[],
    readonly headings: Record<string, string>,
    private readonly lookup: (obj: T, field: string) => PyValue,
  ) {
    const items = typeof fmt === 'string' ? parseFormat(fmt) : fmt;
    this.sentinel = [];
    for (const it of items) {
      let s = '';
      for (const sen of ['?+:', '?:', '+:']) {
        if (it.field && it.text.endsWith(sen)) {
          s = sen;
          it.text = it.text.slice(0, -sen.length);
          break;
        }
      }
      this.sentinel.push(s);
      if (it.field && !(it.field in headings)) throw new FormatError(`Unknown format field: ${it.field}`);
    }
    this.items = items;
  }

  get fields(): string[] {
    return [...new Set(this.items.filter((i) => i.field).map((i) => i.field))];
  }

  /** Apply `?:` and `+:` for this set of rows: a new format for them. */
  prepare(rows: readonly T[]): OutputFormat<T> {
    if (this.sentinel.every((s) => s === '')) return this;
    const items: FormatItem[] = [];
    this.items.forEach((it, idx) => {
      const sen = this.sentinel[idx]!;
      const values = sen ? rows.map((r) => pyStr(convertField(this.lookup(r, it.field), it.conv))) : [];
      if (sen.startsWith('?') && values.every((v) => v === '')) {
        // drop the field; keep its text unless it is only whitespace
        if (it.text.trim() !== '') items.push({ text: it.text, field: '', conv: '', spec: '' });
        return;
      }
      let spec = it.spec;
      if (sen.includes('+')) {
        const width = Math.max(plen(headingOf(this.headings, it.field)), ...values.map(plen));
        const m = /^((?:[\s\S]?[<>=^])?[- +]?z?#?0?)(\d+)?([_,]?)(?:\.(\d+))?(.*)$/u.exec(spec);
        if (m) {
          const prec = m[4] !== undefined ? `.${Math.max(Number(m[4]), width)}` : '';
          spec = `${m[1]}${width}${m[3]}${prec}${m[5]}`;
        }
      }
      items.push({ ...it, spec });
    });
    return new OutputFormat<T>(items, this.headings, this.lookup);
  }

  header(): string {
    let out = '';
    for (const it of this.items) {
      out += it.text;
      if (!it.field) continue;
      out += pyFormat(headingOf(this.headings, it.field), headerSpec(it.spec));
    }
    return out;
  }

  format(obj: T): string {
    let out = '';
    for (const it of this.items) {
      out += it.text;
      if (!it.field) continue;
      out += formatField(convertField(this.lookup(obj, it.field), it.conv), it.spec);
    }
    return out;
  }
}

function headingOf(h: Record<string, string>, field: string): string {
  return h[field] ?? field.toUpperCase();
}
