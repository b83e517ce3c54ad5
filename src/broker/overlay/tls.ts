/**
 * The overlay's transport security (docs/protocol.md §F.3): TLS 1.2 with a pre-shared key per
 * link and an ephemeral ECDH exchange (`ECDHE-PSK-CHACHA20-POLY1305`: forward secrecy, no
 * certificates). The child names itself by its rank as the PSK identity; the parent answers only
 * the identities of its own children, each with that child's key. Anything else fails the
 * handshake: a wrong key, a rank that is not a child, bytes that are not TLS.
 */
import tls from 'node:tls';
import type { Endpoint } from './card.js';

export const LINK_CIPHER = 'ECDHE-PSK-CHACHA20-POLY1305';

const COMMON = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
  ciphers: LINK_CIPHER,
} as const;

export interface LinkServerHandlers {
  /** The PSK of the child that names itself `identity`, or undefined to refuse it. */
  pskFor(identity: string): Buffer | undefined;
  /** A child completed the handshake with the key of `identity`. */
  onLink(sock: tls.TLSSocket, identity: string): void;
  /** A connection failed the handshake (refused): why, and the identity it claimed if any. */
  onRefused(why: string, identity: string | undefined): void;
}

export function createLinkServer(h: LinkServerHandlers): tls.Server {
  const claimed = new WeakMap<tls.TLSSocket, string>();
  const srv = tls.createServer(
    {
      ...COMMON,
      pskCallback: (sock: tls.TLSSocket, identity: string) => {
        claimed.set(sock, identity);
        return h.pskFor(identity) ?? null;
      },
    },
    (sock) => h.onLink(sock, claimed.get(sock) ?? ''),
  );
  srv.on('tlsClientError', (err, sock) => {
    const identity = claimed.get(sock);
    h.onRefused(err.message.split('\n')[0]!.trim(), identity);
    sock.destroy();
  });
  return srv;
}

/**
 * Connect to a parent's endpoint (a unix socket path, or an Endpoint) as `identity` with
 * `psk`; resolves once the handshake is done, rejects if it is not done within `timeout`
 * seconds (tbon.connect_timeout; default none).
 */
export function connectLink(
  to: string | Endpoint,
  identity: string,
  psk: Buffer,
  timeout = Infinity,
): Promise<tls.TLSSocket> {
  const where =
    typeof to === 'string' ? { path: to } : to.kind === 'ipc' ? { path: to.path } : { host: to.host, port: to.port };
  return new Promise((resolve, reject) => {
    const sock = tls.connect({
      ...COMMON,
      ...where,
      pskCallback: () => ({ identity, psk }),
      checkServerIdentity: () => undefined,
    });
    const timer = Number.isFinite(timeout)
      ? setTimeout(() => fail(new Error(`no TLS handshake within ${timeout} s (tbon.connect_timeout)`)), timeout * 1000)
      : undefined;
    const fail = (e: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    const closed = (): void => fail(new Error('the connection closed during the TLS handshake'));
    sock.once('error', fail);
    sock.once('close', closed);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.off('error', fail);
      sock.off('close', closed);
      resolve(sock);
    });
  });
}
