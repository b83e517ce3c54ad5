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
import { formatExp, formatFixed, formatG, formatPyFloat } from '../../job/numfmt.js';
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
  /** The fill character given before an alignment, or ''. */
  fill: string;
  align: string;
  sign: string;
  /** `z`: negative zero coerced (floats only). */
  noNeg0: boolean;
  alt: boolean;
  /** `0` before the width (with no fill given): zero padding. */
  zero: boolean;
  width: number | undefined;
  grouping: string;
  precision: number | undefined;
  type: string;
}

const ALIGNS = '<>=^';

/** Python's "Unknown format code" error (Python/formatter_unicode.c unknown_presentation_type). */
function unknownType(type: string, of: string): FormatError {
  const c = type.codePointAt(0)!;
  const shown = c > 32 && c < 128 ? type : `\\x${c.toString(16)}`;
  return new FormatError(`Unknown format code '${shown}' for object of type '${of}'`);
}

/**
 * Python's parse_internal_render_format_spec: `[[fill]align][sign][z][#][0][width][grouping]
 * [.precision][type]`, with its errors (`of` names the value's type in them).
 */
export function parseSpec(spec: string, of = 'str'): Spec {
  const cs = [...spec];
  let pos = 0;
  const sp: Spec = {
    fill: '',
    align: '',
    sign: '',
    noNeg0: false,
    alt: false,
    zero: false,
    width: undefined,
    grouping: '',
    precision: undefined,
    type: '',
  };
  if (cs.length >= 2 && ALIGNS.includes(cs[1]!)) {
    sp.fill = cs[0]!;
    sp.align = cs[1]!;
    pos = 2;
  } else if (cs.length >= 1 && ALIGNS.includes(cs[0]!)) {
    sp.align = cs[pos++]!;
  }
  if (pos < cs.length && '+- '.includes(cs[pos]!)) sp.sign = cs[pos++]!;
  const flag = (c: string): boolean => cs[pos] === c && ++pos > 0;
  sp.noNeg0 = flag('z');
  sp.alt = flag('#');
  sp.zero = sp.fill === '' && flag('0');
  const digits = (): number | undefined => {
    let n: number | undefined;
    for (; pos < cs.length && /^\p{Nd}$/u.test(cs[pos]!); pos++) {
      n = (n ?? 0) * 10 + digitValue(cs[pos]!);
      if (n > Number.MAX_SAFE_INTEGER) throw new FormatError('Too many decimal digits in format string');
    }
    return n;
  };
  sp.width = digits();
  if (flag(',')) sp.grouping = ',';
  if (flag('_')) {
    if (sp.grouping) throw new FormatError("Cannot specify both ',' and '_'.");
    sp.grouping = '_';
  }
  if (cs[pos] === ',' && sp.grouping === '_') throw new FormatError("Cannot specify both ',' and '_'.");
  if (flag('.')) {
    sp.precision = digits();
    if (sp.precision === undefined) throw new FormatError('Format specifier missing precision');
  }
  if (cs.length - pos > 1) throw new FormatError(`Invalid format specifier '${spec}' for object of type '${of}'`);
  if (pos < cs.length) sp.type = cs[pos]!;
  // the type a value of this kind is formatted with when none is given ('' for a float)
  const type = sp.type || (of === 'str' ? 's' : of === 'float' ? '' : 'd');
  if (sp.grouping && !'deEfFgG%'.includes(type) && !(sp.grouping === '_' && 'boxX'.includes(type))) {
    const c = type.codePointAt(0)!;
    const shown = c > 32 && c < 128 ? type : `\\x${c.toString(16)}`;
    throw new FormatError(`Cannot specify '${sp.grouping}' with '${shown}'.`);
  }
  return sp;
}

/** The value of a Unicode decimal digit (Python takes any, e.g. Arabic-Indic ones, in a width). */
function digitValue(c: string): number {
  // decimal digits come in runs of ten, 0 to 9
  const cp = c.codePointAt(0)!;
  let zero = cp;
  while (zero > cp - 9 && /^\p{Nd}$/u.test(String.fromCodePoint(zero - 1))) zero--;
  return cp - zero;
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

/** Padded with zeros between the sign and the digits (`0` or a `0=` fill and alignment)? */
function zeroPadded(sp: Spec, defaultAlign: string): boolean {
  const fill = sp.fill || (sp.zero ? '0' : ' ');
  const align = sp.align || (sp.zero && defaultAlign === '>' ? '=' : defaultAlign);
  return fill === '0' && align === '=';
}

function pad(body: string, sp: Spec, defaultAlign: string, signPrefix = ''): string {
  const width = sp.width ?? 0;
  // `0` pads with zeros, after the sign for numbers unless an alignment is given
  const fill = sp.fill || (sp.zero ? '0' : ' ');
  const align = sp.align || (sp.zero && defaultAlign === '>' ? '=' : defaultAlign);
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

function group(intPart: string, sep: string, every = 3, minWidth = 0): string {
  if (!sep) return intPart;
  // zero padding is grouped too: leading zeros until the grouped digits fill `minWidth`
  while (minWidth > 0 && group(intPart, sep, every).length < minWidth) intPart = '0' + intPart;
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
  if (sp.type && sp.type !== 's') throw unknownType(sp.type, 'str');
  if (sp.sign === ' ') throw new FormatError('Space not allowed in string format specifier');
  if (sp.sign) throw new FormatError('Sign not allowed in string format specifier');
  if (sp.noNeg0) throw new FormatError('Negative zero coercion (z) not allowed in string format specifier');
  if (sp.alt) throw new FormatError('Alternate form (#) not allowed in string format specifier');
  if (sp.align === '=') throw new FormatError("'=' alignment not allowed in string format specifier");
  const body = sp.precision !== undefined ? ptrunc(s, sp.precision) : s;
  return pad(body, sp, '<');
}

function formatInt(n: bigint, sp: Spec): string {
  const t = sp.type;
  if ('eEfFgG%'.includes(t) && t !== '') return formatFloat(Number(n), sp);
  if (!'bcdoxXn'.includes(t)) throw unknownType(t, 'int');
  if (sp.precision !== undefined) throw new FormatError('Precision not allowed in integer format specifier');
  if (sp.noNeg0) throw new FormatError('Negative zero coercion (z) not allowed in integer format specifier');
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
      if (sp.sign) throw new FormatError("Sign not allowed with integer format specifier 'c'");
      if (sp.alt) throw new FormatError("Alternate form (#) not allowed with integer format specifier 'c'");
      if (n < 0n || n > 0x10ffffn) throw new FormatError('%c arg not in range(0x110000)');
      return pad(String.fromCodePoint(Number(n)), sp, '>');
    default:
      body = a.toString();
  }
  const sign = signOf(neg, sp) + prefix;
  const every = t && t !== 'd' && t !== 'n' ? 4 : 3;
  body = group(body, sp.grouping, every, zeroPadded(sp, '>') ? (sp.width ?? 0) - sign.length : 0);
  return pad(body, sp, '>', sign);
}

function expFormat(x: number, p: number, upper: boolean): string {
  const s = formatExp(x, p);
  return upper ? s.toUpperCase() : s;
}

function formatFloat(x: number, sp: Spec): string {
  let neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let body: string;
  const t = sp.type;
  if (!'eEfFgGn%'.includes(t)) throw unknownType(t, 'float');
  // `#` keeps the point of a fixed or exponent form with no digits after it
  const alt = (s: string): string => (sp.alt && !s.includes('.') ? s.replace(/(?=e|%|$)/i, '.') : s);
  if (sp.alt && (t === '' || !'eEfF%'.includes(t))) {
    throw new FormatError(
      `Alternate form (#) is not supported by tsflux for a float formatted with '${t || 'no type'}'`,
    );
  }
  const p = sp.precision;
  const upper = t !== '' && t === t.toUpperCase() && t !== '%';
  if (Number.isNaN(x)) body = (upper ? 'NAN' : 'nan') + (t === '%' ? '%' : '');
  else if (!Number.isFinite(a)) body = (upper ? 'INF' : 'inf') + (t === '%' ? '%' : '');
  else if (t === 'f' || t === 'F') body = alt(formatFixed(a, p ?? 6));
  else if (t === 'e' || t === 'E') body = alt(expFormat(a, p ?? 6, t === 'E'));
  else if (t === 'g' || t === 'G' || t === 'n') {
    body = formatG(a, p ?? 6);
    if (t === 'G') body = body.toUpperCase();
  } else if (t === '%') body = alt(formatFixed(a * 100, p ?? 6) + '%');
  else if (p === undefined) body = formatPyFloat(a);
  else {
    // '' with a precision: like 'g', but a fixed-point form keeps a digit after the point, and
    // one that would have none (all P digits before the point) takes the exponent form
    const P = p === 0 ? 1 : p;
    const X = a === 0 ? 0 : Math.floor(Math.log10(Number(a.toExponential(Math.min(P - 1, 100)))));
    body = formatG(a, P);
    if (X >= P - 1 && !body.includes('e'))
      body = expFormat(a, P - 1, false)
        .replace(/(\.\d*?)0*e/, '$1e')
        .replace('.e', 'e');
    else if (!/[.e]/.test(body)) body += '.0';
  }
  // `z`: a negative zero (after rounding) loses its sign
  if (sp.noNeg0 && neg && !/[1-9]/.test(body.replace(/e[+-]\d+$/i, ''))) neg = false;
  const sign = signOf(neg && !Number.isNaN(x), sp);
  if (sp.grouping && /^\d/.test(body)) {
    const m = /^(\d+)(.*)$/.exec(body)!;
    const minWidth = zeroPadded(sp, '>') ? (sp.width ?? 0) - sign.length - m[2]!.length : 0;
    body = group(m[1]!, sp.grouping, 3, minWidth) + m[2]!;
  }
  return pad(body, sp, '>', sign);
}

/** Python `format(value, spec)`. */
export function pyFormat(v: PyValue, spec: string): string {
  if (isPyObject(v)) {
    if (v.pyFormat) return v.pyFormat(spec);
    return formatStr(v.pyStr(), parseSpec(spec));
  }
  if (spec === '') return pyStr(v);
  if (v === null || v === undefined || typeof v === 'string') return formatStr(pyStr(v), parseSpec(spec));
  if (typeof v === 'boolean') return formatInt(v ? 1n : 0n, parseSpec(spec, 'bool'));
  if (isFloat(v)) return formatFloat(Number(v), parseSpec(spec, 'float'));
  return formatInt(typeof v === 'bigint' ? v : BigInt(v), parseSpec(spec, 'int'));
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
