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
