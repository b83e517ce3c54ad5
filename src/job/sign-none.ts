/**
 * J with signing mechanism "none" (flux-core libjob/sign_none.c, docs/protocol.md §B):
 * `base64(header) "." base64(payload) ".none"`, header = NUL-separated key/typed-value pairs
 * (`version\0i1\0userid\0i<uid>\0mechanism\0snone\0`).
 */
import { Errno, FluxError } from '../protocol/errno.js';

export interface Unwrapped {
  userid: number;
  payload: Buffer;
}

export function wrapNone(payload: string | Buffer, userid: number): string {
  const header = Buffer.from(`version\0i1\0userid\0i${userid}\0mechanism\0snone\0`, 'latin1');
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return `${header.toString('base64')}.${body.toString('base64')}.none`;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function unwrapNone(J: string): Unwrapped {
  const parts = J.split('.');
  if (parts.length !== 3) throw new FluxError(Errno.EINVAL, 'invalid J: expected HEADER.PAYLOAD.SIGNATURE');
  const [h, p, sig] = parts as [string, string, string];
  if (!B64.test(h) || !B64.test(p)) throw new FluxError(Errno.EINVAL, 'invalid J: bad base64 encoding');
  const fields = Buffer.from(h, 'base64').toString('latin1').split('\0');
  const kv = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) kv.set(fields[i]!, fields[i + 1]!);
  const mech = kv.get('mechanism');
  if (mech !== 'snone' || sig !== 'none') {
    throw new FluxError(Errno.EINVAL, `invalid J: unsupported signing mechanism ${mech?.slice(1) ?? sig}`);
  }
  if (kv.get('version') !== 'i1') throw new FluxError(Errno.EINVAL, 'invalid J: unsupported header version');
  const u = kv.get('userid');
  if (!u || !/^i\d+$/.test(u)) throw new FluxError(Errno.EINVAL, 'invalid J: missing userid');
  return { userid: Number(u.slice(1)), payload: Buffer.from(p, 'base64') };
}
