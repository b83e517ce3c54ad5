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

/** Where a broker takes its children's connections: a unix socket, or a TCP address. */
export type Endpoint = { kind: 'ipc'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `ipc://PATH` or `tcp://HOST:PORT` (`tcp://[V6]:PORT`) as an Endpoint; undefined if neither. */
export function parseEndpoint(uri: string): Endpoint | undefined {
  if (uri.startsWith('ipc://')) {
    const p = uri.slice('ipc://'.length);
    return p === '' ? undefined : { kind: 'ipc', path: p };
  }
  const m = /^tcp:\/\/(?:\[([0-9A-Fa-f:.]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(uri);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { kind: 'tcp', host: m[1] ?? m[2]!, port };
}

export function formatEndpoint(e: Endpoint): string {
  if (e.kind === 'ipc') return `ipc://${e.path}`;
  return e.host.includes(':') ? `tcp://[${e.host}]:${e.port}` : `tcp://${e.host}:${e.port}`;
}

/**
 * The endpoint of a parent's card a child connects to (flux-core boot_pmi.c): its unix socket
 * when the parent is on the child's node, else its TCP address.
 */
export function chooseEndpoint(c: Card, sameNode: boolean): Endpoint | undefined {
  const eps = c.uri.map(parseEndpoint).filter((e): e is Endpoint => e !== undefined);
  return (sameNode ? eps.find((e) => e.kind === 'ipc') : undefined) ?? eps.find((e) => e.kind === 'tcp');
}
