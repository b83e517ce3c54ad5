/**
 * JSON string literals written from UTF-8 bytes, straight into a wire buffer (docs/protocol.md
 * §A.5 payloads): what `JSON.stringify(text)` gives for the text those bytes encode, without
 * decoding them into a string first. A replay of a job's output (§B eventlog-watch of
 * `guest.output`) sends each stored line as such a literal, and a gigabyte of lines would
 * otherwise go through a gigabyte of short-lived strings.
 *
 * The bytes must be valid UTF-8 (they are copied as they are: only `"`, `\` and the control
 * characters below U+0020 are escaped, as JSON.stringify and jansson do; \b \t \n \f \r in
 * their short form, the others as \u00XX with lowercase hex, like JSON.stringify).
 */

/** Escaped length of byte c (0..255): 1, 2 (`\"` `\\` `\n`…) or 6 (`\u00XX`). */
const WIDTH = new Uint8Array(256).fill(1);
/** The letter after `\` of a two-byte escape, 0 for a \u00XX one. */
const SHORT = new Uint8Array(32 + 128);
for (let c = 0; c < 32; c++) WIDTH[c] = 6;
for (const [c, e] of [
  [8, 'b'],
  [9, 't'],
  [10, 'n'],
  [12, 'f'],
  [13, 'r'],
  [34, '"'],
  [92, '\\'],
] as const) {
  WIDTH[c] = 2;
  SHORT[c] = e.charCodeAt(0);
}
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** Bytes of the literal (quotes included) for src[start, end). */
export function jsonStringLength(src: Uint8Array, start: number, end: number): number {
  let n = end - start + 2;
  for (let i = start; i < end; i++) n += WIDTH[src[i]!]! - 1;
  return n;
}

/** Write the literal (quotes included) for src[start, end) at dst[off]; returns the offset after it. */
export function writeJsonString(src: Uint8Array, start: number, end: number, dst: Uint8Array, off: number): number {
  dst[off++] = 0x22;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (WIDTH[c] === 1) {
      dst[off++] = c;
      continue;
    }
    dst[off++] = 0x5c;
    const s = SHORT[c]!;
    if (s !== 0) {
      dst[off++] = s;
      continue;
    }
    dst[off++] = 0x75; // u00XX
    dst[off++] = 0x30;
    dst[off++] = 0x30;
    dst[off++] = HEX[c >> 4]!;
    dst[off++] = HEX[c & 15]!;
  }
  dst[off++] = 0x22;
  return off;
}
