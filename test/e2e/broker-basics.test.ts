/** The instance over its real socket: handshake, attr, ping, ENOSYS, bad bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { withInstance } from '../helpers/instance.js';
import { Flux } from '../../src/client/handle.js';
import { FluxError } from '../../src/protocol/errno.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import { encodeMessage, request } from '../../src/protocol/codec.js';
import { uriToPath } from '../../src/client/handle.js';

test('attr.get answers rank, size, security.owner, local-uri, broker.pid, version', async () => {
  await withInstance(async (inst, h) => {
    assert.deepEqual(await h.rpc('attr.get', { name: 'size' }), { value: '1', flags: 1 });
    assert.equal(await h.attrGet('rank'), '0');
    assert.equal(await h.attrGet('security.owner'), String(process.getuid!()));
    assert.equal(await h.attrGet('local-uri'), inst.uri);
    assert.equal(await h.attrGet('broker.pid'), String(process.pid));
    assert.match(await h.attrGet('version'), /^\d+\.\d+\.\d+/);
    await assert.rejects(h.rpc('attr.get', { name: 'nosuch' }), (e: FluxError) => e.errno === 2);
  });
});

test('ping echoes the request with route, userid, rolemask and rank', async () => {
  await withInstance(async (_inst, h) => {
    const r = await h.rpc('broker.ping', { seq: 7, pad: 'x' });
    assert.equal(r.seq, 7);
    assert.equal(r.pad, 'x');
    assert.equal(r.userid, process.getuid!());
    assert.equal(r.rolemask, 5);
    assert.equal(r.rank, 0);
    assert.match(r.route, /^[0-9a-f]{8}![0-9a-f]{8}$/);
    const r2 = await h.rpc('job-manager.ping', {});
    assert.equal(r2.rank, 0);
  });
});

test('long request payloads, repeated or not, are each answered from their own bytes', async () => {
  await withInstance(async (_inst, h) => {
    // Long payloads repeated byte for byte are decoded once per connection (server.ts): a
    // repeat, a one-byte change, a return to the first, the same bytes on another topic.
    const a = 'a'.repeat(4000);
    const b = 'a'.repeat(3999) + 'b';
    const sent = [a, a, b, a, a];
    const replies = await Promise.all(
      sent.map((pad, i) => h.rpc(i === 4 ? 'job-manager.ping' : 'broker.ping', { pad })),
    );
    assert.deepEqual(
      replies.map((r) => r.pad),
      sent,
    );
    assert.equal(replies[4].rank, 0);
    const x = await h.rpc('broker.ping', { pad: b, seq: 1 });
    const y = await h.rpc('broker.ping', { pad: b, seq: 2 });
    assert.deepEqual([x.seq, y.seq], [1, 2]);
  });
});

test('a request for a rank the instance does not have gets EHOSTUNREACH (RFC 3 routing)', async () => {
  await withInstance(async (_inst, h) => {
    assert.equal((await h.rpc('broker.ping', {}, { nodeid: 0 })).rank, 0);
    await assert.rejects(h.rpc('broker.ping', {}, { nodeid: 1 }), (e: FluxError) => e.errno === 113);
    await assert.rejects(h.rpc('broker.ping', {}, { nodeid: 0xfffffffe }), (e: FluxError) => {
      assert.equal(e.errno, 113);
      assert.match(e.message, /rank 0 has no upstream/);
      return true;
    });
  });
});

test('unknown topic gives ENOSYS with flux-core text', async () => {
  await withInstance(async (_inst, h) => {
    await assert.rejects(h.rpc('nosuch.topic', {}), (e: FluxError) => {
      assert.equal(e.errno, 38);
      assert.equal(e.message, 'No service matching nosuch.topic is registered');
      return true;
    });
  });
});

function rawConnect(uri: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(uriToPath(uri));
    s.once('error', reject);
    s.once('data', (b) => {
      assert.equal(b[0], 0, 'handshake byte is 0');
      resolve(s);
    });
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.on('close', () => resolve());
    s.resume();
  });
}

for (const [name, bytes] of [
  ['garbage bytes', Buffer.from('this is not a flux message at all')],
  ['a 4 GiB length', Buffer.from([0x12, 0x00, 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00])],
  ['a PROTO frame of the wrong size', Buffer.from([0x12, 0x00, 0xee, 0xff, 0, 0, 0, 3, 2, 0x8e, 1])],
] as const) {
  test(`${name} close that connection only; others carry on`, async () => {
    await withInstance(async (inst, h) => {
      const bad = await rawConnect(inst.uri);
      bad.write(bytes);
      await closed(bad);
      assert.equal((await h.rpc('attr.get', { name: 'rank' })).value, '0');
      const h2 = await Flux.open(inst.uri);
      assert.equal((await h2.rpc('broker.ping', {})).rank, 0);
      h2.close();
    });
  });
}

test('a truncated frame then disconnect leaves the broker serving', async () => {
  await withInstance(async (inst, h) => {
    const s = await rawConnect(inst.uri);
    const full = encodeMessage(request('attr.get', { name: 'size' }, { matchtag: 1 }));
    s.write(full.subarray(0, full.length - 5));
    s.destroy();
    assert.equal(await h.attrGet('size'), '1');
  });
});

test('raw client gets a byte-exact flux response', async () => {
  await withInstance(async (inst) => {
    const s = await rawConnect(inst.uri);
    const dec = new StreamDecoder();
    const got = new Promise<any>((resolve) =>
      s.on('data', (c) => {
        const m = dec.push(c);
        if (m.length) resolve(m[0]);
      }),
    );
    s.write(encodeMessage(request('attr.get', { name: 'size' }, { matchtag: 9 })));
    const m = await got;
    assert.equal(m.type, 2);
    assert.equal(m.aux2, 9);
    assert.equal(m.aux1, 0);
    assert.equal(m.payload.toString(), '{"value":"1","flags":1}');
    assert.deepEqual(m.route, []);
    s.destroy();
  });
});

test('connecting to a missing socket names the URI', async () => {
  await assert.rejects(Flux.open('local:///nonexistent/tsflux/local-0'), (e: FluxError) => {
    assert.match(e.message, /Unable to connect to Flux: local:\/\/\/nonexistent\/tsflux\/local-0/);
    return true;
  });
});
