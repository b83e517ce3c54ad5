/**
 * Property tests of the FCFS policy core: random resource sets and random sequences of
 * enqueue / schedule / free / double free / cancel / reprioritize. After every step:
 * no core or GPU is held twice, allocations are inside the instance and have the shape asked
 * for, status() agrees with the allocations, and every allocation was the queue head (strict
 * FCFS). At the end everything drains once all is freed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FcfsPolicy, type Allocation } from '../../../src/broker/sched/core.js';
import type { RankAlloc } from '../../../src/job/rv1.js';
import type { ResourceRequest } from '../../../src/broker/contract.js';

interface Model {
  pending: Map<bigint, { priority: number; t_submit: number; request: ResourceRequest }>;
  allocated: Map<bigint, { request: ResourceRequest; ranks: RankAlloc[] }>;
}

const rankArb = fc.record({
  cores: fc.integer({ min: 1, max: 4 }),
  gpus: fc.integer({ min: 0, max: 2 }),
  stride: fc.integer({ min: 1, max: 2 }),
});

const requestArb = fc
  .record({
    nnodes: fc.integer({ min: 0, max: 2 }),
    k: fc.integer({ min: 1, max: 3 }),
    coresPerSlot: fc.integer({ min: 0, max: 3 }),
    gpusPerSlot: fc.integer({ min: 0, max: 2 }),
    exclusive: fc.boolean(),
    duration: fc.constantFrom(0, 60),
  })
  .map(({ nnodes, k, coresPerSlot, gpusPerSlot, exclusive, duration }) => ({
    nnodes,
    nslots: nnodes > 0 ? nnodes * k : k,
    coresPerSlot: coresPerSlot === 0 && gpusPerSlot === 0 ? 1 : coresPerSlot,
    gpusPerSlot,
    exclusive,
    duration,
  }));

const opArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('enqueue' as const),
      request: requestArb,
      priority: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('schedule' as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('doublefree' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('priority' as const),
      pick: fc.nat(),
      priority: fc.integer({ min: 0, max: 3 }),
    }),
  },
);

function before(
  a: { priority: number; t_submit: number; id: bigint },
  b: { priority: number; t_submit: number; id: bigint },
) {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.t_submit !== b.t_submit) return a.t_submit < b.t_submit;
  return a.id < b.id;
}

function nth<K>(keys: Iterable<K>, i: number): K | undefined {
  const arr = [...keys];
  return arr.length === 0 ? undefined : arr[i % arr.length];
}

function checkInvariants(p: FcfsPolicy, all: RankAlloc[], m: Model): void {
  const byRank = new Map(all.map((r) => [r.rank, r]));
  const heldCores = new Map<string, bigint>();
  const heldGpus = new Map<string, bigint>();
  for (const [id, a] of m.allocated) {
    const r = a.request;
    let ncores = 0;
    let ngpus = 0;
    const seenRanks = new Set<number>();
    for (const ra of a.ranks) {
      const rank = byRank.get(ra.rank);
      assert.ok(rank, `job ${id}: unknown rank ${ra.rank}`);
      assert.ok(!seenRanks.has(ra.rank), `job ${id}: rank ${ra.rank} twice`);
      seenRanks.add(ra.rank);
      for (const c of ra.cores) {
        assert.ok(rank.cores.includes(c), `job ${id}: core ${c} not on rank ${ra.rank}`);
        const k = `${ra.rank}/${c}`;
        assert.ok(!heldCores.has(k), `core ${k} held by ${heldCores.get(k)} and ${id}`);
        heldCores.set(k, id);
      }
      for (const g of ra.gpus) {
        assert.ok(rank.gpus.includes(g), `job ${id}: gpu ${g} not on rank ${ra.rank}`);
        const k = `${ra.rank}/${g}`;
        assert.ok(!heldGpus.has(k), `gpu ${k} held by ${heldGpus.get(k)} and ${id}`);
        heldGpus.set(k, id);
      }
      ncores += ra.cores.length;
      ngpus += ra.gpus.length;
      if (r.exclusive) {
        assert.equal(ra.cores.length, rank.cores.length, `job ${id}: exclusive but not the whole rank`);
        assert.equal(ra.gpus.length, rank.gpus.length, `job ${id}: exclusive but not every GPU`);
      } else {
        // whole slots on each rank
        const k = r.coresPerSlot > 0 ? ra.cores.length / r.coresPerSlot : ra.gpus.length / r.gpusPerSlot;
        assert.ok(Number.isInteger(k) && k >= 1, `job ${id}: not whole slots on rank ${ra.rank}`);
        assert.equal(ra.cores.length, k * r.coresPerSlot);
        assert.equal(ra.gpus.length, k * r.gpusPerSlot);
      }
    }
    if (r.nnodes > 0) assert.equal(a.ranks.length, r.nnodes, `job ${id}: wrong node count`);
    if (!r.exclusive) {
      assert.equal(ncores, r.nslots * r.coresPerSlot, `job ${id}: core count`);
      assert.equal(ngpus, r.nslots * r.gpusPerSlot, `job ${id}: gpu count`);
    } else {
      assert.ok(ncores >= r.nslots * r.coresPerSlot && ngpus >= r.nslots * r.gpusPerSlot);
    }
  }
  // status() agrees with the allocations
  const st = p.status();
  assert.deepEqual(st.all, all);
  let statusCores = 0;
  for (const ra of st.allocated) {
    for (const c of ra.cores)
      assert.ok(heldCores.has(`${ra.rank}/${c}`), `status lists core ${ra.rank}/${c} nobody holds`);
    for (const g of ra.gpus)
      assert.ok(heldGpus.has(`${ra.rank}/${g}`), `status lists gpu ${ra.rank}/${g} nobody holds`);
    statusCores += ra.cores.length + ra.gpus.length;
  }
  assert.equal(statusCores, heldCores.size + heldGpus.size);
  assert.equal(p.npending, m.pending.size);
  assert.equal(p.nallocated, m.allocated.size);
}

function applyAllocs(allocs: Allocation[], m: Model): void {
  for (const a of allocs) {
    const pj = m.pending.get(a.id);
    assert.ok(pj, `allocated job ${a.id} was not pending`);
    m.pending.delete(a.id);
    const me = { ...pj, id: a.id };
    for (const [oid, o] of m.pending) {
      assert.ok(!before({ ...o, id: oid }, me), `job ${a.id} allocated while ${oid} is ahead of it`);
    }
    m.allocated.set(a.id, { request: pj.request, ranks: a.ranks });
  }
}

test('FCFS policy invariants under random operations', () => {
  fc.assert(
    fc.property(fc.array(rankArb, { minLength: 1, maxLength: 3 }), fc.array(opArb, { maxLength: 80 }), (rspec, ops) => {
      const all: RankAlloc[] = rspec.map((r, rank) => ({
        rank,
        cores: Array.from({ length: r.cores }, (_, i) => i * r.stride),
        gpus: Array.from({ length: r.gpus }, (_, i) => i),
      }));
      const p = new FcfsPolicy(all);
      const m: Model = { pending: new Map(), allocated: new Map() };
      let nextId = 1n;
      let clock = 0;
      for (const o of ops) {
        switch (o.op) {
          case 'enqueue': {
            const why = p.feasible(o.request);
            // feasible ⇔ it runs at once on an empty instance of the same shape
            const fresh = new FcfsPolicy(all);
            fresh.enqueue({ id: 1n, priority: 1, t_submit: 0, request: o.request });
            assert.equal(
              why === undefined,
              fresh.schedule().length === 1,
              `feasible() disagrees with placement: ${why}`,
            );
            if (why) {
              assert.match(why, /^unsatisfiable request: /);
              break;
            }
            const id = nextId++;
            const pj = { priority: o.priority, t_submit: clock++, request: o.request };
            p.enqueue({ id, ...pj });
            m.pending.set(id, pj);
            break;
          }
          case 'schedule':
            applyAllocs(p.schedule(), m);
            break;
          case 'free': {
            const id = nth(m.allocated.keys(), o.pick);
            if (id === undefined) break;
            assert.equal(p.free(id), true);
            m.allocated.delete(id);
            break;
          }
          case 'doublefree': {
            const id = nextId + BigInt(o.pick % 3) - 2n; // recent ids: freed, pending or unknown
            const isAllocated = m.allocated.has(id);
            assert.equal(p.free(id), isAllocated);
            if (isAllocated) {
              m.allocated.delete(id);
              assert.equal(p.free(id), false, 'second free accepted');
            }
            break;
          }
          case 'cancel': {
            const id = nth(m.pending.keys(), o.pick);
            if (id === undefined) {
              assert.equal(p.remove(nextId + 5n), false);
              break;
            }
            assert.equal(p.remove(id), true);
            m.pending.delete(id);
            break;
          }
          case 'priority': {
            const id = nth(m.pending.keys(), o.pick);
            if (id === undefined) break;
            assert.equal(p.reprioritize(id, o.priority), true);
            m.pending.get(id)!.priority = o.priority;
            break;
          }
        }
        checkInvariants(p, all, m);
      }
      // Drain: free everything, schedule; every pending job must get to run.
      for (let guard = 0; m.pending.size > 0 || m.allocated.size > 0; guard++) {
        assert.ok(guard < 1000, 'queue does not drain');
        applyAllocs(p.schedule(), m);
        checkInvariants(p, all, m);
        if (m.pending.size > 0 && m.allocated.size === 0) assert.fail('nothing allocated, yet jobs are pending');
        for (const id of [...m.allocated.keys()]) {
          assert.equal(p.free(id), true);
          m.allocated.delete(id);
        }
      }
      assert.deepEqual(p.status().allocated, []);
    }),
    { numRuns: 300 },
  );
});
