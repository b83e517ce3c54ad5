/**
 * Business-card endpoints (docs/protocol.md §F.2, §F.3): `ipc://` and `tcp://` URIs, which one a
 * child uses, and the address a TCP listener binds for tbon.interface-hint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns/promises';
import os from 'node:os';
import { chooseEndpoint, formatEndpoint, parseEndpoint } from '../../../src/broker/overlay/card.js';
import { bindAddress, checkInterfaceHint } from '../../../src/broker/overlay/interface.js';

test('endpoint URIs: ipc and tcp (v4, v6) parse and print back; others do not parse', () => {
  for (const uri of ['ipc:///tmp/tsflux-x/tbon-0', 'tcp://127.0.0.11:41234', 'tcp://[::1]:80', 'tcp://n1:7']) {
    const e = parseEndpoint(uri);
    assert.ok(e, uri);
    assert.equal(formatEndpoint(e), uri);
  }
  assert.deepEqual(parseEndpoint('tcp://10.0.0.1:6000'), { kind: 'tcp', host: '10.0.0.1', port: 6000 });
  for (const bad of [
    'ipc://',
    'tcp://10.0.0.1',
    'tcp://10.0.0.1:0',
    'tcp://10.0.0.1:70000',
    'udp://x:1',
    'tcp://::1:80',
  ])
    assert.equal(parseEndpoint(bad), undefined, bad);
});

test('a child uses its parent unix socket on its own node, else its TCP address', () => {
  const both = { host: 'n1', uri: ['ipc:///r/tbon-0', 'tcp://127.0.0.11:5000'], pubkey: 'k' };
  assert.deepEqual(chooseEndpoint(both, true), { kind: 'ipc', path: '/r/tbon-0' });
  assert.deepEqual(chooseEndpoint(both, false), { kind: 'tcp', host: '127.0.0.11', port: 5000 });
  const ipcOnly = { host: 'n1', uri: ['ipc:///r/tbon-0'], pubkey: 'k' };
  assert.equal(chooseEndpoint(ipcOnly, false), undefined);
  const tcpOnly = { host: 'n1', uri: ['tcp://127.0.0.11:5000'], pubkey: 'k' };
  assert.deepEqual(chooseEndpoint(tcpOnly, true), { kind: 'tcp', host: '127.0.0.11', port: 5000 });
});

test('tbon.interface-hint: hostname resolves the host name; an interface, a CIDR; bad hints are refused', async () => {
  assert.equal(await bindAddress('hostname', 'localhost'), (await dns.lookup('localhost', { family: 4 })).address);
  assert.equal(await bindAddress('hostname', os.hostname()), (await dns.lookup(os.hostname(), { family: 4 })).address);
  await assert.rejects(
    bindAddress('hostname', 'no-such-host.invalid'),
    /tbon.interface-hint=hostname: this host's name no-such-host.invalid does not resolve/,
  );
  const lo = Object.entries(os.networkInterfaces()).find(([, a]) => a?.some((x) => x.family === 'IPv4' && x.internal));
  if (lo) {
    const addr = lo[1]!.find((x) => x.family === 'IPv4')!.address;
    assert.equal(await bindAddress(lo[0], 'x'), addr);
    assert.equal(await bindAddress(`${addr}/32`, 'x'), addr);
  }
  // a documentation network (RFC 5737) that no interface of this host is in
  const taken = Object.values(os.networkInterfaces())
    .flatMap((a) => a ?? [])
    .map((a) => a.address);
  const free = ['192.0.2', '198.51.100', '203.0.113'].find((n) => !taken.some((a) => a.startsWith(`${n}.`)))!;
  await assert.rejects(
    bindAddress(`${free}.0/24`, 'x'),
    new RegExp(`tbon.interface-hint=${free}.0/24: no interface has an address in that network`),
  );
  assert.throws(() => checkInterfaceHint('nosuch0'), /tbon.interface-hint=nosuch0: not 'hostname'/);
  assert.throws(() => checkInterfaceHint('10.0.0.0/40'), /tbon.interface-hint=10.0.0.0\/40/);
  checkInterfaceHint('default-route');
});
