/**
 * A broker's business card (docs/protocol.md §F.2), put in the process manager's key-value
 * store under its decimal rank: compact JSON `{"host", "uri": [...], "pubkey"}`, where `uri`
 * lists where it takes its children's connections (empty for a broker without children) and
 * `pubkey` is its X25519 public key (keys.ts), as flux-core's bizcard.c with CURVE keys.
 */
import { Errno, FluxError } from '../../protocol/errno.js';

export interface Card {
  host: string;
  uri: string[];
  pubkey: string;
}

export function encodeCard(c: Card): string {
  return JSON.stringify({ host: c.host, uri: c.uri, pubkey: c.pubkey });
}

export function decodeCard(text: string, rank: number): Card {
  let v: any;
  try {
    v = JSON.parse(text);
  } catch {
    throw new FluxError(Errno.EPROTO, `rank ${rank}'s business card is not JSON`);
  }
  if (
    v === null ||
    typeof v !== 'object' ||
    typeof v.host !== 'string' ||
    v.host === '' ||
    !Array.isArray(v.uri) ||
    !v.uri.every((u: unknown) => typeof u === 'string') ||
    typeof v.pubkey !== 'string'
  ) {
    throw new FluxError(Errno.EPROTO, `rank ${rank}'s business card lacks host, uri or pubkey`);
  }
  return { host: v.host, uri: v.uri, pubkey: v.pubkey };
}

/** The path of a card's `ipc://` endpoint, if it has one. */
export function ipcPath(c: Card): string | undefined {
  const u = c.uri.find((s) => s.startsWith('ipc://'));
  return u === undefined ? undefined : u.slice('ipc://'.length);
}
