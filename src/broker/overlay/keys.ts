/**
 * The keys of the overlay's links (docs/protocol.md §F.3). Each broker makes a fresh X25519
 * key pair at start and publishes only its public key, in its business card. A link between a
 * parent and a child uses the pre-shared key
 *
 *   HKDF-SHA256(X25519(own private key, peer's public key), salt = kvsname,
 *               info = "tsflux tbon v1 <parent rank>/<child rank>")
 *
 * which only those two brokers can compute: CURVE's trust model (flux-core authorizes exactly
 * its children's public keys), with no secret passing through the process manager.
 */
import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { Errno, FluxError } from '../../protocol/errno.js';

export interface LinkKeys {
  /** The raw 32-byte public key, base64url (43 characters). */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

export function generateLinkKeys(): LinkKeys {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { publicKey: jwk.x!, privateKey };
}

/** A peer's public key from its card; throws EPROTO when it is not an X25519 key. */
export function peerPublicKey(s: unknown, whose: string): KeyObject {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(s)) {
    throw new FluxError(Errno.EPROTO, `${whose}: pubkey is not a base64url X25519 public key`);
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: s }, format: 'jwk' });
  } catch (e) {
    throw new FluxError(Errno.EPROTO, `${whose}: pubkey: ${(e as Error).message}`);
  }
}

/** The pre-shared key of the link between `parent` and `child`, as either side derives it. */
export function linkPsk(own: KeyObject, peer: KeyObject, kvsname: string, parent: number, child: number): Buffer {
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  return Buffer.from(hkdfSync('sha256', shared, kvsname, `tsflux tbon v1 ${parent}/${child}`, 32));
}
