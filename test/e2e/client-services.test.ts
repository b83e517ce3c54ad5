/**
 * Services that clients register over the socket (`service.add`, flux_service_register): who may
 * register which name, and requests forwarded with the caller's credentials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withInstance } from '../helpers/instance.js';
import { Provider } from '../helpers/provider.js';
import { Flux } from '../../src/client/handle.js';
import { FluxError } from '../../src/protocol/errno.js';
import { Role } from '../../src/protocol/types.js';

const EPERM = 1;
const uid = process.getuid!();

test('a guest may only register services named <userid>-… (flux-core service_allow)', async () => {
  await withInstance(async (inst) => {
    const p = await Provider.connect(inst.uri);
    try {
      const guest = { userid: uid + 1, rolemask: Role.USER };
      await assert.rejects(p.add('svc', guest), (e: { errno: number }) => e.errno === EPERM);
      await assert.rejects(p.add(`${uid}-svc`, guest), (e: { errno: number }) => e.errno === EPERM);
      await p.add(`${uid + 1}-svc`, guest);
      await p.add('svc'); // the owner may register any name
    } finally {
      await p.close();
    }
  });
});

test("every request reaches the serving client, with the caller's credentials", async () => {
  await withInstance(async (inst, h) => {
    const p = await Provider.connect(inst.uri);
    const guest = await Flux.open(inst.uri, { userid: uid + 1, rolemask: Role.USER });
    try {
      await p.add('svc');
      const a = h.rpc('svc.hello', { n: 1 });
      const b = guest.rpc('svc.anything', { n: 2 });
      const [ra, rb] = await p.received(2);
      assert.deepEqual([ra!.topic, ra!.userid, ra!.rolemask], ['svc.hello', uid, Role.OWNER | Role.LOCAL]);
      assert.deepEqual([rb!.topic, rb!.userid, rb!.rolemask], ['svc.anything', uid + 1, Role.USER]);
      p.respond(ra!, { to: Provider.payload(ra!).n });
      p.fail(rb!, EPERM, 'not for guests');
      assert.deepEqual(await a, { to: 1 });
      await assert.rejects(b, (e: FluxError) => e.errno === EPERM && e.message === 'not for guests');
    } finally {
      guest.close();
      await p.close();
    }
  });
});

const ENOSYS = 38;
const EHOSTUNREACH = 113;
const ENODATA = 61;

test('service.remove stops new requests only: one already delivered is still answered', async () => {
  await withInstance(async (inst, h) => {
    const p = await Provider.connect(inst.uri);
    try {
      await p.add('svc');
      const answer = h.rpc('svc.get', { n: 1 });
      const [req] = await p.received(1);
      await p.remove('svc');
      // a new request finds no service
      await assert.rejects(h.rpc('svc.get', { n: 2 }), (e: FluxError) => e.errno === ENOSYS);
      // the one delivered before the removal is still the client's to answer
      p.respond(req!, { n: 1, late: true });
      assert.deepEqual(await answer, { n: 1, late: true });
    } finally {
      await p.close();
    }
  });
});

test('a streaming request keeps streaming after service.remove until the server ends it', async () => {
  await withInstance(async (inst, h) => {
    const p = await Provider.connect(inst.uri);
    try {
      await p.add('svc');
      const stream = h.rpcStream('svc.watch', {});
      const seen: unknown[] = [];
      stream.onResponse = (v) => seen.push(v);
      const [req] = await p.received(1);
      p.respond(req!, { i: 1 });
      assert.deepEqual((await stream.next()).value, { i: 1 });
      await p.remove('svc');
      p.respond(req!, { i: 2 });
      p.respond(req!, { i: 3 });
      p.fail(req!, ENODATA);
      const rest: unknown[] = [];
      for await (const v of stream) rest.push(v);
      assert.deepEqual(rest, [{ i: 2 }, { i: 3 }]);
      assert.deepEqual(seen, [{ i: 1 }, { i: 2 }, { i: 3 }]);
      // nothing more for that matchtag: the handle has no request left
      assert.equal(h.outstanding, 0);
    } finally {
      await p.close();
    }
  });
});

test('the serving client disconnecting fails what it had not answered, with EHOSTUNREACH', async () => {
  await withInstance(async (inst, h) => {
    const p = await Provider.connect(inst.uri);
    await p.add('svc');
    const plain = h.rpc('svc.get', {});
    const stream = h.rpcStream('svc.watch', {});
    const [, s] = await p.received(2);
    p.respond(s!, { i: 1 });
    assert.deepEqual((await stream.next()).value, { i: 1 });
    await p.remove('svc'); // removed first: the requests stay its own until it goes
    await p.close();
    await assert.rejects(plain, (e: FluxError) => e.errno === EHOSTUNREACH);
    await assert.rejects(stream.next(), (e: FluxError) => e.errno === EHOSTUNREACH);
    // a client that disconnects without removing its service
    const q = await Provider.connect(inst.uri);
    await q.add('svc2');
    const pending = h.rpc('svc2.get', {});
    await q.received(1);
    await q.close();
    await assert.rejects(pending, (e: FluxError) => e.errno === EHOSTUNREACH && /svc2/.test(e.message));
    await assert.rejects(h.rpc('svc2.get', {}), (e: FluxError) => e.errno === ENOSYS);
  });
});
