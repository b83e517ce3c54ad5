import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topology } from '../../../src/broker/overlay/topology.js';
import { nextHop } from '../../../src/broker/overlay/route.js';
import { Errno } from '../../../src/protocol/errno.js';
import { NODEID_ANY, NODEID_UPSTREAM } from '../../../src/protocol/types.js';

test('kary:32 at size 3 and 100 (flux-multinode §3.1 examples)', () => {
  const t3 = Topology.fromAttrs(3, undefined, undefined);
  assert.equal(t3.name, 'kary:32');
  assert.deepEqual(t3.children(0), [1, 2]);
  assert.equal(t3.parent(2), 0);
  assert.equal(t3.parent(0), undefined);
  assert.equal(t3.maxlevel, 1);
  assert.deepEqual([t3.level(0), t3.level(1)], [0, 1]);
  assert.deepEqual([t3.descendants(0), t3.descendants(1)], [2, 0]);
  assert.deepEqual(t3.criticalRanks(), [0]);
  const t100 = new Topology(100, 32);
  assert.deepEqual(
    [t100.parent(1), t100.parent(32), t100.parent(33), t100.parent(64), t100.parent(65)],
    [0, 0, 1, 1, 2],
  );
  assert.deepEqual(t100.children(3), [97, 98, 99]);
  assert.equal(t100.maxlevel, 2);
  assert.equal(t100.descendants(0), 99);
  assert.equal(t100.descendants(1), 32);
  assert.deepEqual(t100.criticalRanks(), [0, 1, 2, 3]);
});

test('kary:2, kary:1 (a chain) and kary:0 (flat)', () => {
  const t = new Topology(7, 2);
  assert.deepEqual(t.children(1), [3, 4]);
  assert.equal(t.childToward(0, 6), 2);
  assert.equal(t.childToward(2, 6), 6);
  assert.equal(t.childToward(1, 6), undefined);
  assert.equal(t.childToward(3, 1), undefined);
  const chain = Topology.fromAttrs(4, undefined, '1');
  assert.equal(chain.name, 'kary:1');
  assert.equal(chain.maxlevel, 3);
  assert.equal(chain.childToward(0, 3), 1);
  assert.equal(chain.childToward(1, 3), 2);
  const flat = Topology.fromAttrs(4, 'kary:0', undefined);
  assert.deepEqual(flat.children(0), [1, 2, 3]);
  assert.deepEqual(flat.children(1), []);
  assert.equal(flat.maxlevel, 1);
  assert.equal(flat.childToward(0, 3), 3);
  assert.equal(flat.childToward(1, 3), undefined);
});

test('tbon.topo other than kary:K, or disagreeing with tbon.fanout, is refused naming it', () => {
  assert.throws(() => Topology.fromAttrs(3, 'binomial', undefined), /tbon.topo=binomial: tsflux knows only kary:K/);
  assert.throws(() => Topology.fromAttrs(3, 'kary:2', '3'), /disagree/);
  assert.throws(() => Topology.fromAttrs(3, undefined, 'x'), /tbon.fanout=x/);
  assert.equal(Topology.fromAttrs(3, 'kary:2', '2').k, 2);
});

test('nextHop: RFC 3 routing of nodeid, ANY and UPSTREAM', () => {
  const t = new Topology(7, 2); // 0 → 1,2; 1 → 3,4; 2 → 5,6
  const hop = (rank: number, nodeid: number, has = true, up = false) => nextHop(t, rank, 'svc.m', nodeid, up, has);
  assert.deepEqual(hop(0, 0), { to: 'local' });
  assert.deepEqual(hop(0, 6), { to: 'child', rank: 2 });
  assert.deepEqual(hop(2, 6), { to: 'child', rank: 6 });
  assert.deepEqual(hop(3, 6), { to: 'parent' });
  assert.deepEqual(hop(5, 5, false), { to: 'local' }); // here, even without the service: ENOSYS from dispatch
  assert.deepEqual(hop(0, 7), { to: 'error', errnum: Errno.EHOSTUNREACH });
  assert.deepEqual(hop(4, 9), { to: 'error', errnum: Errno.EHOSTUNREACH });
  assert.deepEqual(hop(4, NODEID_ANY, true), { to: 'local' });
  assert.deepEqual(hop(4, NODEID_ANY, false), { to: 'parent' });
  assert.deepEqual(hop(0, NODEID_ANY, false), {
    to: 'error',
    errnum: Errno.ENOSYS,
    text: 'No service matching svc.m is registered',
  });
  // UPSTREAM: from the sender's own broker straight up; further up, a local service first
  assert.deepEqual(hop(4, 4, true, true), { to: 'parent' });
  assert.deepEqual(hop(1, 4, true, true), { to: 'local' });
  assert.deepEqual(hop(1, 4, false, true), { to: 'parent' });
  assert.deepEqual(hop(4, NODEID_UPSTREAM, true), { to: 'parent' });
  assert.equal((hop(0, 0, true, true) as { errnum: number }).errnum, Errno.EHOSTUNREACH);
  assert.equal((hop(0, 3, false, true) as { errnum: number }).errnum, Errno.ENOSYS);
});
