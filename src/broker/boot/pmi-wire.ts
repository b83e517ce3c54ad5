/**
 * The lines of the PMI-1 simple wire protocol (RFC 13; docs/protocol.md §F.1): one request or
 * response per line, `key=value` tokens separated by spaces, in any order. A `value=` (and an
 * abort's `error_msg=`) runs to the end of the line, spaces included. Shared by the client
 * (pmi-client.ts) and the in-process server of `tsflux start --test-size` (pmi-server.ts).
 */

/** A line's tokens by key. */
export type PmiFields = Record<string, string>;

/** Keys whose value is the rest of the line. */
const TO_END = new Set(['value', 'error_msg']);

/** Longest line either side accepts (Flux's SIMPLE_MAX_PROTO_LINE is 1024 + overhead). */
export const MAX_LINE = 4096;

export class PmiProtocolError extends Error {}

/** Parse one line (without its newline). Throws PmiProtocolError on a token without `=`. */
export function parseLine(line: string): PmiFields {
  const out: PmiFields = {};
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line[i] === ' ') i++;
    if (i >= n) break;
    const eq = line.indexOf('=', i);
    const sp = line.indexOf(' ', i);
    if (eq < 0 || (sp >= 0 && sp < eq)) {
      throw new PmiProtocolError(`PMI: malformed token '${line.slice(i, sp < 0 ? n : sp)}' in '${line}'`);
    }
    const key = line.slice(i, eq);
    if (key === '') throw new PmiProtocolError(`PMI: empty key in '${line}'`);
    if (TO_END.has(key)) {
      out[key] = line.slice(eq + 1);
      break;
    }
    const end = line.indexOf(' ', eq + 1);
    out[key] = line.slice(eq + 1, end < 0 ? n : end);
    i = end < 0 ? n : end;
  }
  return out;
}

/**
 * Format a line from its tokens in order (with the newline). A token that may hold spaces
 * (`value`, `error_msg`) must come last; no value may hold a newline.
 */
export function formatLine(tokens: ReadonlyArray<readonly [string, string | number]>): string {
  const parts: string[] = [];
  tokens.forEach(([k, v], i) => {
    const s = String(v);
    if (s.includes('\n')) throw new PmiProtocolError(`PMI: ${k} may not contain a newline`);
    if (TO_END.has(k) ? i !== tokens.length - 1 : s.includes(' ')) {
      throw new PmiProtocolError(`PMI: ${k}=${s}: only the last token may contain spaces`);
    }
    parts.push(`${k}=${s}`);
  });
  return parts.join(' ') + '\n';
}

/**
 * Splits a byte stream into lines. push() returns the complete lines of the chunk; a line
 * longer than MAX_LINE is a protocol error.
 */
export class LineReader {
  private buf = '';

  push(chunk: Buffer | string): string[] {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines = this.buf.split('\n');
    this.buf = lines.pop()!;
    if (this.buf.length > MAX_LINE) throw new PmiProtocolError(`PMI: line longer than ${MAX_LINE} bytes`);
    return lines;
  }
}

/** A word (key, kvsname): printable, no space and no `=` (RFC 13). */
export function isWord(s: string): boolean {
  return /^[\x21-\x3c\x3e-\x7e]+$/.test(s);
}
