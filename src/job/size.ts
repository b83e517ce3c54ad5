/**
 * Sizes as flux writes and reads them (flux-core libutil parse_size.c / encode_size): a byte
 * count with an optional 1024-based suffix k/K, M, G, T, P, E (`64k`, `1.5M`), and back (`1G`).
 */

const SCALE: Readonly<Record<string, number>> = {
  '': 1,
  k: 1024,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
  P: 1024 ** 5,
  E: 1024 ** 6,
};

const SIZE_RE = /^\s*(\d+(?:\.\d*)?|\.\d+)([a-zA-Z]*)$/;

/** A size as flux's parse_size reads it (`64k`, `1.5M`, `100`), in bytes. Throws Error. */
export function parseSize(s: string): number {
  const m = SIZE_RE.exec(s);
  const scale = m ? SCALE[m[2]!] : undefined;
  if (!m || scale === undefined) throw new Error(`invalid size ${JSON.stringify(s)} (a number with k, M, G, ...)`);
  return Math.floor(Number(m[1]) * scale);
}

/** A size as flux's encode_size writes it: `1G`, `64K`, `1.5M`. */
export function encodeSize(n: number): string {
  const suffix = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < suffix.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(8))}${suffix[i]}`;
}
