/**
 * The overlay's link security on this Node build: TLS 1.2 ECDHE-PSK-CHACHA20-POLY1305 with
 * keys derived from X25519 pairs. Real sockets; a wrong key, an identity that is not a child
 * and bytes that are not TLS are all refused, and the listener carries on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { generateLinkKeys, linkPsk, peerPublicKey } from '../../../src/broker/overlay/keys.js';
import { LINK_CIPHER, connectLink, createLinkServer } from '../../../src/broker/overlay/tls.js';

test('both ends of a link derive the same key; other pairs and other links do not', () => {
  const parent = generateLinkKeys();
  const child = generateLinkKeys();
  const other = generateLinkKeys();
  assert.match(parent.publicKey, /^[A-Za-z0-9_-]{43}$/);
  const p = linkPsk(parent.privateKey, peerPublicKey(child.publicKey, 'child'), '-', 0, 1);
  const c = linkPsk(child.privateKey, peerPublicKey(parent.publicKey, 'parent'), '-', 0, 1);
  assert.equal(p.length, 32);
  assert.deepEqual(p, c);
  assert.notDeepEqual(linkPsk(other.privateKey, peerPublicKey(parent.publicKey, 'p'), '-', 0, 1), p);
  assert.notDeepEqual(linkPsk(child.privateKey, peerPublicKey(parent.publicKey, 'p'), '-', 0, 2), p);
  assert.notDeepEqual(linkPsk(child.privateKey, peerPublicKey(parent.publicKey, 'p'), '12.0', 0, 1), p);
  assert.throws(() => peerPublicKey('not a key', 'rank 3'), /rank 3: pubkey is not a base64url X25519 public key/);
});

test('handshake: the right key links; a wrong key, a non-child and garbage are refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-tls-'));
  const sockPath = path.join(dir, 'tbon-0');
  const psk = Buffer.alloc(32, 7);
  const refused: [string, string | undefined][] = [];
  const linked: tls.TLSSocket[] = [];
  let onRefused: (() => void) | undefined;
  const srv = createLinkServer({
    pskFor: (identity) => (identity === '1' ? psk : undefined),
    onLink: (sock, identity) => {
      assert.equal(identity, '1');
      linked.push(sock);
      sock.on('data', (d) => sock.write(d));
    },
    onRefused: (why, identity) => {
      refused.push([why, identity]);
      onRefused?.();
    },
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  const nextRefusal = (): Promise<void> => new Promise((r) => (onRefused = r));
  try {
    const good = await connectLink(sockPath, '1', psk);
    assert.equal(good.getCipher().name, LINK_CIPHER);
    assert.equal(good.getProtocol(), 'TLSv1.2');
    good.write('ping');
    assert.equal(String(await new Promise((r) => good.once('data', r))), 'ping');

    let refusal = nextRefusal();
    await assert.rejects(connectLink(sockPath, '1', Buffer.alloc(32, 8)));
    await refusal;
    assert.equal(refused.at(-1)![1], '1');

    refusal = nextRefusal();
    await assert.rejects(connectLink(sockPath, '5', psk));
    await refusal;
    assert.equal(refused.at(-1)![1], '5');

    refusal = nextRefusal();
    const raw = net.connect(sockPath);
    raw.on('error', () => raw.destroy());
    raw.write('GET / HTTP/1.0\r\n\r\nnot tls at all');
    await refusal;
    assert.equal(refused.at(-1)![1], undefined);

    // the good link still works
    good.write('still here');
    assert.equal(String(await new Promise((r) => good.once('data', r))), 'still here');
    assert.equal(linked.length, 1);
    good.destroy();
    raw.destroy();
  } finally {
    for (const s of linked) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a parent that accepts but never completes the handshake: connectLink gives up after its timeout', async () => {
  const srv = net.createServer(() => undefined); // accepts, says nothing
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    await assert.rejects(
      connectLink({ kind: 'tcp', host: '127.0.0.1', port }, '1', Buffer.alloc(32, 7), 0.2),
      /no TLS handshake within 0\.2 s \(tbon\.connect_timeout\)/,
    );
  } finally {
    srv.close();
  }
});
