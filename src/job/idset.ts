/**
 * RFC 22 idsets: `1-3,5`, optionally in brackets (`[1-3,5]`). Decoding yields the ids in
 * ascending order without duplicates; encoding produces the shortest range form.
 */

export class IdsetError extends Error {
  readonly errno = 22;
  readonly code = 'EINVAL';
  constructor(message: string) {
    super(message);
    this.name = 'IdsetError';
  }
}

/** Largest id accepted (flux idsets are unsigned int). */
export const IDSET_MAX = 0xfffffffe;

/** Decode an idset string. `""` (or `[]`) is the empty set. Throws IdsetError. */
export function parseIdset(s: string): number[] {
  let body = s;
  if (body.startsWith('[') && body.endsWith(']')) body = body.slice(1, -1);
  if (body === '') return [];
  const ids = new Set<number>();
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new IdsetError(`invalid idset '${s}'`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (lo > IDSET_MAX || hi > IDSET_MAX) throw new IdsetError(`invalid idset '${s}': id too large`);
    if (hi < lo) throw new IdsetError(`invalid idset '${s}': range ${part} is reversed`);
    if (hi - lo > 1e7) throw new IdsetError(`invalid idset '${s}': range ${part} is too large`);
    for (let i = lo; i <= hi; i++) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

/** True if `s` decodes as an idset. */
export function isIdset(s: string): boolean {
  try {
    parseIdset(s);
    return true;
  } catch {
    return false;
  }
}

/** Encode ids as `1-3,5` (brackets added with `brackets` when there is more than one id). */
export function encodeIdset(ids: Iterable<number>, brackets = false): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
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
