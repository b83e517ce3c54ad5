/**
 * RFC 22 idsets for resource sets: `0-2,5`, optionally in brackets (`[0-2,5]`), `""` is the
 * empty set. Used for R_lite `rank` / `core` / `gpu` strings (RFC 20), `Cpus_allowed_list`
 * and the `--cores` / `--gpus` options.
 *
 * Decoding accepts ranges and single ids in any order, with duplicates, and returns the ids
 * ascending without duplicates; encoding writes the shortest range form, ascending.
 * Garbage is rejected with an IdsetError (errno EINVAL) naming the string and the problem.
 */
import { Errno, FluxError } from '../protocol/errno.js';

export class IdsetError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'IdsetError';
  }
}

/** Largest id accepted (flux idsets hold unsigned ints; UINT_MAX is reserved). */
export const IDSET_MAX = 0xfffffffe;

/** Most ids one decoded idset may expand to (guards against `0-4294967294`). */
export const IDSET_MAX_SIZE = 1 << 20;

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 61)}...` : s);
}

function parseId(tok: string, whole: string): number {
  if (!/^\d+$/.test(tok)) {
    throw new IdsetError(`invalid idset ${quote(whole)}: ${quote(tok)} is not a non-negative integer`);
  }
  const n = Number(tok);
  if (!Number.isSafeInteger(n) || n > IDSET_MAX) {
    throw new IdsetError(`invalid idset ${quote(whole)}: id ${tok} is too large (max ${IDSET_MAX})`);
  }
  return n;
}

/** Decode an idset string into ascending, distinct ids. Throws IdsetError on garbage. */
export function decodeIdset(s: string): number[] {
  if (typeof s !== 'string') throw new IdsetError(`invalid idset: expected a string, got ${typeof s}`);
  let body = s;
  if (body.startsWith('[') || body.endsWith(']')) {
    if (!(body.startsWith('[') && body.endsWith(']') && body.length >= 2)) {
      throw new IdsetError(`invalid idset ${quote(s)}: unbalanced brackets`);
    }
    body = body.slice(1, -1);
  }
  if (body === '') return [];
  const seen = new Set<number>();
  let total = 0;
  for (const part of body.split(',')) {
    if (part === '') throw new IdsetError(`invalid idset ${quote(s)}: empty element`);
    const dash = part.indexOf('-');
    let lo: number;
    let hi: number;
    if (dash < 0) {
      lo = hi = parseId(part, s);
    } else {
      const a = part.slice(0, dash);
      const b = part.slice(dash + 1);
      if (a === '' || b === '')
        throw new IdsetError(`invalid idset ${quote(s)}: range ${quote(part)} is missing an end`);
      lo = parseId(a, s);
      hi = parseId(b, s);
      if (hi < lo) throw new IdsetError(`invalid idset ${quote(s)}: range ${part} is reversed`);
    }
    total += hi - lo + 1;
    if (total > IDSET_MAX_SIZE) {
      throw new IdsetError(`invalid idset ${quote(s)}: more than ${IDSET_MAX_SIZE} ids`);
    }
    for (let i = lo; i <= hi; i++) seen.add(i);
  }
  return [...seen].sort((x, y) => x - y);
}

/** True if `s` decodes as an idset. */
export function isIdset(s: string): boolean {
  try {
    decodeIdset(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Encode ids as `0-2,5` (sorted and deduplicated first). With `brackets`, a set of more than
 * one id is wrapped as `[0-2,5]` (the hostlist / resource-summary style). Throws IdsetError
 * on ids that are not integers in [0, IDSET_MAX].
 */
export function encodeIdset(ids: Iterable<number>, brackets = false): string {
  const arr = [...ids];
  for (const id of arr) {
    if (!Number.isInteger(id) || id < 0 || id > IDSET_MAX) {
      throw new IdsetError(`cannot encode idset: ${String(id)} is not an id in [0, ${IDSET_MAX}]`);
    }
  }
  let sorted = arr;
  for (let i = 1; i < arr.length; i++) {
    if (arr[i]! <= arr[i - 1]!) {
      sorted = [...new Set(arr)].sort((x, y) => x - y);
      break;
    }
  }
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  const out = parts.join(',');
  return brackets && sorted.length > 1 ? `[${out}]` : out;
}

/** Alias of decodeIdset (the name the CLI uses). */
export const parseIdset = decodeIdset;
