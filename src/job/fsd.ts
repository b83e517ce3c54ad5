/**
 * Flux Standard Duration (RFC 23; Python flux.util.parse_fsd / fsd): a non-negative number
 * with an optional unit suffix `ms`, `s`, `m`, `h` or `d` (no suffix = seconds), or
 * `inf`/`infinity`.
 */
import { formatFixed, formatG } from './numfmt.js';
import { Errno, FluxError } from '../protocol/errno.js';

/** Malformed Flux standard duration (RFC 23; errno EINVAL, as fsd_parse_duration). */
export class FsdError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'FsdError';
  }
}

const NUMBER_RE = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL_RE = /^[+-]?(?:inf|infinity|nan)$/i;

/**
 * Python `float(str)`: surrounding whitespace allowed, `_` between digits, `1e3`, `.5`, `5.`,
 * `inf`, `nan`. Returns undefined when Python would raise ValueError.
 */
export function parsePyFloat(s: string): number | undefined {
  const t = s.trim();
  if (SPECIAL_RE.test(t)) {
    const neg = t.startsWith('-');
    if (/nan$/i.test(t)) return NaN;
    return neg ? -Infinity : Infinity;
  }
  if (!NUMBER_RE.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

/** Microseconds per unit (Python converts non-second units through datetime.timedelta). */
const UNIT_US: Record<string, number> = { ms: 1e3, m: 60e6, h: 3600e6, d: 86400e6 };

/**
 * `timedelta(<unit>=value).total_seconds()` exactly as CPython computes it: whole part exact,
 * fractional part scaled in double precision, the remainder rounded to a microsecond
 * (half to even). So `1.1m` is 66.0 s, not the 66.00000000000001 of `1.1 * 60`.
 */
function timedeltaSeconds(value: number, factorUs: number): number {
  const intpart = Math.trunc(value);
  const frac = value - intpart;
  let us = BigInt(intpart) * BigInt(factorUs);
  const scaled = frac * factorUs;
  const ip2 = Math.trunc(scaled);
  us += BigInt(ip2);
  const leftover = scaled - ip2;
  if (leftover !== 0) {
    let whole: number;
    if (Math.abs(leftover) % 1 === 0.5) {
      const odd = us % 2n !== 0n ? 1 : 0;
      whole = 2.0 * Math.round((leftover + odd) * 0.5) - odd;
    } else {
      // C round(): half away from zero (Math.round rounds -2.5 to -2)
      whole = Math.sign(leftover) * Math.round(Math.abs(leftover));
    }
    us += BigInt(whole);
  }
  return Number(us) / 1e6;
}

/**
 * Parse an FSD string into seconds. Throws FsdError (naming the input and the reason) for
 * garbage, negative or NaN values. `inf`/`infinity` (any case) give Infinity; a unit on an
 * infinite value (`infs`) is rejected.
 */
export function parseFsd(input: string): number {
  if (typeof input !== 'string') throw new FsdError(`invalid Flux standard duration: not a string`);
  const bad = (why: string) => new FsdError(`invalid Flux standard duration '${input}': ${why}`);
  const s = input.trim();
  if (s === '') throw bad('empty string');
  if (/^\+?(?:inf|infinity)$/i.test(s)) return Infinity;
  const m = /^(.*?)(ms|s|m|h|d)$/.exec(s);
  const numPart = m ? m[1]! : s;
  const unit = m ? m[2]! : 's';
  if (numPart.trim() === '') throw bad('missing number');
  const value = parsePyFloat(numPart);
  if (value === undefined) throw bad('not a number with an optional ms/s/m/h/d suffix');
  if (Number.isNaN(value)) throw bad('NaN is not a duration');
  if (!Number.isFinite(value)) throw bad('value is not finite');
  if (value < 0) throw bad('negative durations are not allowed');
  const seconds = unit === 's' ? value : timedeltaSeconds(value, UNIT_US[unit]!);
  return seconds === 0 ? 0 : seconds;
}

/**
 * Seconds for display, as Flux prints a duration (Python flux.util.fsd, used by `flux jobs`
 * `!F`): `0s` below 1 ms (negative values too), `1.500s`, `30s`, `2.5m`, `1h`, `2d`, `inf`.
 */
export function fsd(secs: number): string {
  if (secs === Infinity) return 'inf';
  if (!(secs >= 1.0e-3)) return '0s';
  if (secs < 10.0) return formatFixed(secs, 3) + 's';
  if (secs < 60.0) return formatG(secs, 4) + 's';
  if (secs < 3600.0) return formatG(secs / 60.0, 4) + 'm';
  if (secs < 86400.0) return formatG(secs / 3600.0, 4) + 'h';
  return formatG(secs / 86400.0, 4) + 'd';
}
