/**
 * Exact number formatting shared by the job model:
 *  - C printf `%.Ng` / `%.Nf` with glibc's exact, round-half-even conversion;
 *  - jansson's real format (`%.17g` that always keeps a `.0`, exponent without `+`/leading
 *    zeros) — what flux-core's C code writes, e.g. eventlog timestamps;
 *  - Python's `repr(float)` (shortest round-trip digits, exponent outside 1e-4 ≤ |x| < 1e16).
 *
 * Doubles are exact binary fractions, so each one has a finite decimal expansion; we compute
 * it with BigInt and round that string, which reproduces glibc byte for byte (including ties,
 * where JS `toPrecision`/`toFixed` round half up instead of half to even).
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `|x| = mant * 2^exp2` with mant an integer (x finite). */
function decompose(x: number): { neg: boolean; mant: bigint; exp2: number } {
  f64[0] = x;
  const hi = LITTLE ? u32[1]! : u32[0]!;
  const lo = LITTLE ? u32[0]! : u32[1]!;
  const neg = hi >>> 31 === 1;
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp2: number;
  if (bexp === 0) {
    exp2 = -1074; // subnormal (or zero)
  } else {
    mant |= 1n << 52n;
    exp2 = bexp - 1075;
  }
  return { neg, mant, exp2 };
}

const pow5Cache: bigint[] = [1n];
function pow5(n: number): bigint {
  for (let i = pow5Cache.length; i <= n; i++) pow5Cache.push(pow5Cache[i - 1]! * 5n);
  return pow5Cache[n]!;
}

/**
 * Exact decimal value of a finite double: `|x| = digits × 10^exp10`, digits without
 * leading or trailing zeros ("0" with exp10 0 for zero).
 */
export function exactDecimal(x: number): { neg: boolean; digits: string; exp10: number } {
  if (!Number.isFinite(x)) throw new RangeError(`exactDecimal: ${x} is not finite`);
  const { neg, mant, exp2 } = decompose(x);
  if (mant === 0n) return { neg, digits: '0', exp10: 0 };
  let digits: string;
  let exp10: number;
  if (exp2 >= 0) {
    digits = (mant << BigInt(exp2)).toString();
    exp10 = 0;
  } else {
    digits = (mant * pow5(-exp2)).toString();
    exp10 = exp2;
  }
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  exp10 += digits.length - end;
  digits = digits.slice(0, end);
  return { neg, digits, exp10 };
}

/**
 * Round a digit string to its first `keep` digits, half to even.
 * Returns the kept digits (possibly one longer after a carry, e.g. "99"→"100").
 */
function roundDigits(digits: string, keep: number): string {
  if (keep >= digits.length) return digits;
  if (keep < 0) return '';
  const head = digits.slice(0, keep);
  const rest = digits.slice(keep);
  const first = rest.charCodeAt(0) - 48;
  let up: boolean;
  if (first > 5) up = true;
  else if (first < 5) up = false;
  else if (/[1-9]/.test(rest.slice(1))) up = true;
  else {
    // exact tie: round half to even
    const last = keep > 0 ? head.charCodeAt(keep - 1) - 48 : 0;
    up = last % 2 === 1;
  }
  if (!up) return head === '' ? '0' : head;
  if (head === '') return '1';
  return (BigInt(head) + 1n).toString().padStart(keep, '0');
}

/** C `printf("%.{prec}f", x)` (glibc: exact value, round half to even). */
export function formatFixed(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const { neg, digits, exp10 } = exactDecimal(x);
  // value = digits × 10^exp10; we want an integer N = round(value × 10^prec)
  const shift = exp10 + prec; // value×10^prec = digits × 10^shift
  let n: string;
  if (shift >= 0) n = digits + '0'.repeat(shift);
  else n = roundDigits(digits, digits.length + shift); // keep digits left of the point
  if (n === '') n = '0';
  n = n.replace(/^0+(?=\d)/, '');
  let out: string;
  if (prec === 0) out = n;
  else {
    const padded = n.padStart(prec + 1, '0');
    out = padded.slice(0, padded.length - prec) + '.' + padded.slice(padded.length - prec);
  }
  return (neg ? '-' : '') + out;
}

function expSuffix(e: number, minDigits = 2): string {
  const sign = e < 0 ? '-' : '+';
  return 'e' + sign + String(Math.abs(e)).padStart(minDigits, '0');
}

/**
 * C `printf("%.*e", prec, x)` for a finite x: correctly rounded, ties to even (Python's format
 * type 'e'; JavaScript's toExponential rounds ties away from zero: 2.5 → "3e+0").
 */
export function formatExp(x: number, prec: number): string {
  const { neg, digits, exp10 } = exactDecimal(x);
  const sign = neg ? '-' : '';
  const P = prec + 1;
  let rounded = digits === '0' ? '0' : roundDigits(digits, P);
  // decimal exponent of the leading digit
  let X = digits === '0' ? 0 : digits.length - 1 + exp10;
  if (rounded.length > P) {
    X += 1;
    rounded = rounded.slice(0, P);
  }
  rounded = rounded.padEnd(P, '0');
  return sign + rounded[0]! + (prec > 0 ? '.' + rounded.slice(1) : '') + expSuffix(X);
}

/**
 * `%.{P}g` of x without BigInt arithmetic, for the common case (1 <= |x| < 1e15, fixed
 * notation: every eventlog timestamp); undefined when the slow exact path must decide.
 * `toPrecision` rounds correctly but breaks exact ties upward where glibc rounds half to even;
 * a tie needs the exact decimal expansion to be exactly P+1 significant digits long (a dyadic
 * fraction with q binary places has exactly q decimal places), so those go the slow way.
 */
function formatGFast(x: number, P: number): string | undefined {
  const a = x < 0 ? -x : x;
  if (!(a >= 1 && a < 1e15) || P > 21) return undefined;
  const ip = Math.floor(a);
  const D = String(ip).length;
  if (D > P) return undefined;
  let f = a - ip; // exact
  let q = 0;
  while (f !== Math.floor(f)) {
    f *= 2; // exact: a dyadic fraction
    q++;
  }
  if (D + q === P + 1) return undefined;
  let s = a.toPrecision(P);
  if (s.includes('e')) return undefined; // rounding carried into exponential notation
  if (s.includes('.')) {
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s.charCodeAt(end - 1) === 46) end--;
    s = s.slice(0, end);
  }
  return x < 0 ? '-' + s : s;
}

/** C `printf("%.{prec}g", x)` (glibc rules: trailing zeros removed, no `#` flag). */
export function formatG(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const P = prec === 0 ? 1 : prec;
  const fast = formatGFast(x, P);
  if (fast !== undefined) return fast;
  return formatGExact(x, P);
}

/** formatG by the exact decimal value (BigInt), for every case. Exported for tests. */
export function formatGExact(x: number, P: number): string {
  const { neg, digits, exp10 } = exactDecimal(x);
  const sign = neg ? '-' : '';
  if (digits === '0') return sign + '0';
  let rounded = roundDigits(digits, P);
  // decimal exponent of the leading digit
  let X = digits.length - 1 + exp10;
  if (rounded.length > P) {
    // carry produced an extra digit (e.g. 9.99 → 10.0)
    X += 1;
    rounded = rounded.slice(0, P);
  }
  rounded = rounded.padEnd(P, '0');
  let out: string;
  if (X < -4 || X >= P) {
    let mant = rounded[0]! + (P > 1 ? '.' + rounded.slice(1) : '');
    mant = stripZeros(mant);
    out = mant + expSuffix(X);
  } else {
    let s: string;
    if (X >= 0) {
      const intPart = rounded.slice(0, X + 1);
      const frac = rounded.slice(X + 1);
      s = frac.length ? intPart + '.' + frac : intPart;
    } else {
      s = '0.' + '0'.repeat(-X - 1) + rounded;
    }
    out = stripZeros(s);
  }
  return sign + out;
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  s = s.replace(/0+$/, '');
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

/**
 * jansson's real encoding (what flux-core's C side writes): `%.17g`, then `.0` appended when
 * the text has neither `.` nor `e`, and the exponent's `+` and leading zeros removed.
 * Non-finite values cannot be encoded by jansson (throws).
 */
export function formatJanssonReal(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot encode non-finite real ${x}`);
  let s = formatG(x, 17);
  if (!s.includes('.') && !s.includes('e')) s += '.0';
  const e = s.indexOf('e');
  if (e >= 0) {
    let exp = s.slice(e + 1);
    let sign = '';
    if (exp[0] === '+') exp = exp.slice(1);
    else if (exp[0] === '-') {
      sign = '-';
      exp = exp.slice(1);
    }
    exp = exp.replace(/^0+(?=\d)/, '');
    s = s.slice(0, e + 1) + sign + exp;
  }
  return s;
}

/** Python `repr(float)`: shortest round-trip digits; `1.0`, `1e-05`, `1e+16`, `inf`, `nan`. */
export function formatPyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest round-trip digits
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(x).toExponential());
  if (!m) throw new Error(`formatPyFloat: unexpected ${x}`);
  const digits = m[1]! + (m[2] ?? '');
  const X = Number(m[3]);
  if (X < -4 || X >= 16) {
    const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    return sign + mant + expSuffix(X);
  }
  let s: string;
  if (X >= 0) {
    const intPart = digits.slice(0, X + 1).padEnd(X + 1, '0');
    const frac = digits.slice(X + 1);
    s = intPart + '.' + (frac.length ? frac : '0');
  } else {
    s = '0.' + '0'.repeat(-X - 1) + digits;
  }
  return sign + s;
}
