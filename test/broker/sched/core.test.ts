import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FcfsPolicy, type PendingJob } from '../../../src/broker/sched/core.js';
import type { ResourceRequest } from '../../../src/broker/contract.js';

function req(over: Partial<ResourceRequest> = {}): ResourceRequest {
  return { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0, ...over };
}

function job(id: number, over: Partial<ResourceRequest> = {}, priority = 16, t_submit = id): PendingJob {
  return { id: BigInt(id), priority, t_submit, request: req(over) };
}

/** ranks 0..n-1 with `cores` cores and `gpus` GPUs each. */
function ranks(n: number, cores: number, gpus = 0) {
  return Array.from({ length: n }, (_, rank) => ({
    rank,
    cores: Array.from({ length: cores }, (_, i) => i),
    gpus: Array.from({ length: gpus }, (_, i) => i),
  }));
}

const ids = (allocs: { id: bigint }[]) => allocs.map((a) => Number(a.id));

describe('FcfsPolicy order', () => {
  test('higher priority first, then earlier submit time', () => {
    const p = new FcfsPolicy(ranks(1, 1));
    p.enqueue(job(1, {}, 16, 10));
    p.enqueue(job(2, {}, 20, 30));
    p.enqueue(job(3, {}, 16, 5));
    p.enqueue(job(4, {}, 20, 20));
    const order: number[] = [];
    let a = p.schedule();
    while (a.length > 0) {
      assert.equal(a.length, 1);
      order.push(Number(a[0]!.id));
      p.free(a[0]!.id);
      a = p.schedule();
    }
    assert.deepEqual(order, [4, 2, 3, 1]);
    assert.equal(p.npending, 0);
    assert.equal(p.nallocated, 0);
  });

  test('equal priority and submit time: smaller (older) id first', () => {
    const p = new FcfsPolicy(ranks(1, 1));
    p.enqueue(job(9, {}, 16, 1));
    p.enqueue(job(7, {}, 16, 1));
    assert.deepEqual(ids(p.schedule()), [7]);
  });

  test('reprioritize moves a job in the queue', () => {
    const p = new FcfsPolicy(ranks(1, 1));
    p.enqueue(job(1));
    assert.deepEqual(ids(p.schedule()), [1]);
    p.enqueue(job(2));
    p.enqueue(job(3));
    assert.equal(p.reprioritize(3n, 31), true);
    assert.equal(p.reprioritize(99n, 31), false);
    p.free(1n);
    assert.deepEqual(ids(p.schedule()), [3]);
  });

  test('lowest free core ids are allocated', () => {
    const p = new FcfsPolicy([{ rank: 0, cores: [0, 1, 2, 3], gpus: [] }]);
    p.enqueue(job(1));
    p.enqueue(job(2, { coresPerSlot: 2 }));
    p.enqueue(job(3));
    const a = p.schedule();
    assert.deepEqual(
      a.map((x) => x.ranks),
      [
        [{ rank: 0, cores: [0], gpus: [] }],
        [{ rank: 0, cores: [1, 2], gpus: [] }],
        [{ rank: 0, cores: [3], gpus: [] }],
      ],
    );
    p.free(2n);
    p.enqueue(job(4));
    assert.deepEqual(p.schedule()[0]!.ranks, [{ rank: 0, cores: [1], gpus: [] }]);
  });

  test('non-contiguous core ids (affinity mask) are respected', () => {
    const p = new FcfsPolicy([{ rank: 0, cores: [6, 2, 4], gpus: [] }]);
    p.enqueue(job(1, { nslots: 2 }));
    assert.deepEqual(p.schedule()[0]!.ranks, [{ rank: 0, cores: [2, 4], gpus: [] }]);
  });
});

describe('FcfsPolicy head-of-line blocking', () => {
  test('a head that does not fit blocks smaller jobs behind it', () => {
    const p = new FcfsPolicy(ranks(1, 2));
    p.enqueue(job(1)); // takes 1 core
    assert.deepEqual(ids(p.schedule()), [1]);
    p.enqueue(job(2, { nslots: 2 })); // needs both cores: blocked
    p.enqueue(job(3)); // would fit, but strict FCFS holds it
    assert.deepEqual(p.schedule(), []);
    assert.equal(p.state(3n), 'pending');
    p.free(1n);
    assert.deepEqual(ids(p.schedule()), [2]);
    p.free(2n);
    assert.deepEqual(ids(p.schedule()), [3]);
  });

  test('canceling the blocked head lets the next job run', () => {
    const p = new FcfsPolicy(ranks(1, 2));
    p.enqueue(job(1));
    p.schedule();
    p.enqueue(job(2, { nslots: 2 }));
    p.enqueue(job(3));
    assert.deepEqual(p.schedule(), []);
    assert.equal(p.remove(2n), true);
    assert.equal(p.remove(2n), false);
    assert.deepEqual(ids(p.schedule()), [3]);
  });

  test('a higher-priority job that fits jumps ahead of a blocked head', () => {
    const p = new FcfsPolicy(ranks(1, 2));
    p.enqueue(job(1));
    p.schedule();
    p.enqueue(job(2, { nslots: 2 }));
    assert.deepEqual(p.schedule(), []);
    p.enqueue(job(3, {}, 30));
    assert.deepEqual(ids(p.schedule()), [3]);
  });

  test('a blocked head is not retried until something is freed', () => {
    const p = new FcfsPolicy(ranks(1, 2));
    p.enqueue(job(1, { nslots: 2 }));
    p.schedule();
    p.enqueue(job(2));
    p.schedule();
    const before = p.counters.attempts;
    for (let i = 0; i < 100; i++) assert.deepEqual(p.schedule(), []);
    assert.equal(p.counters.attempts, before);
    p.free(1n);
    assert.deepEqual(ids(p.schedule()), [2]);
  });
});

describe('FcfsPolicy cores and GPUs', () => {
  test('GPUs are accounted per slot', () => {
    const p = new FcfsPolicy(ranks(1, 4, 2));
    p.enqueue(job(1, { gpusPerSlot: 1 }));
    p.enqueue(job(2, { gpusPerSlot: 1 }));
    p.enqueue(job(3, { gpusPerSlot: 1 })); // cores left, GPUs not
    const a = p.schedule();
    assert.deepEqual(
      a.map((x) => x.ranks),
      [[{ rank: 0, cores: [0], gpus: [0] }], [{ rank: 0, cores: [1], gpus: [1] }]],
    );
    p.free(1n);
    assert.deepEqual(p.schedule()[0]!.ranks, [{ rank: 0, cores: [0], gpus: [0] }]);
  });

  test('status reports all and allocated', () => {
    const p = new FcfsPolicy(ranks(2, 2, 1));
    p.enqueue(job(1, { nslots: 3 }));
    p.schedule();
    const s = p.status();
    assert.deepEqual(s.all, [
      { rank: 0, cores: [0, 1], gpus: [0] },
      { rank: 1, cores: [0, 1], gpus: [0] },
    ]);
    assert.deepEqual(s.allocated, [
      { rank: 0, cores: [0, 1], gpus: [] },
      { rank: 1, cores: [0], gpus: [] },
    ]);
    p.free(1n);
    assert.deepEqual(p.status().allocated, []);
  });

  test('free of an unknown or already freed job is refused and changes nothing', () => {
    const p = new FcfsPolicy(ranks(1, 1));
    p.enqueue(job(1));
    p.schedule();
    assert.equal(p.free(1n), true);
    assert.equal(p.free(1n), false);
    assert.equal(p.free(42n), false);
    p.enqueue(job(2));
    p.enqueue(job(3));
    assert.deepEqual(ids(p.schedule()), [2]); // only one core: a double free did not make two
  });

  test('enqueue of a known id throws', () => {
    const p = new FcfsPolicy(ranks(1, 1));
    p.enqueue(job(1));
    assert.throws(() => p.enqueue(job(1)), /already pending/);
    p.schedule();
    assert.throws(() => p.enqueue(job(1)), /already allocated/);
  });
});

describe('FcfsPolicy nodes and exclusive', () => {
  test('nnodes spreads slots over that many ranks', () => {
    const p = new FcfsPolicy(ranks(3, 4));
    p.enqueue(job(1, { nnodes: 2, nslots: 4 }));
    assert.deepEqual(p.schedule()[0]!.ranks, [
      { rank: 0, cores: [0, 1], gpus: [] },
      { rank: 1, cores: [0, 1], gpus: [] },
    ]);
  });

  test('nnodes skips ranks without room and waits for enough ranks', () => {
    const p = new FcfsPolicy(ranks(3, 2));
    p.enqueue(job(1, { nslots: 2 })); // fills rank 0
    p.enqueue(job(2, { nnodes: 2, nslots: 4 })); // ranks 1 and 2
    p.enqueue(job(3, { nnodes: 1, nslots: 1 }));
    const a = p.schedule();
    assert.deepEqual(ids(a), [1, 2]);
    assert.deepEqual(
      a[1]!.ranks.map((r) => r.rank),
      [1, 2],
    );
    p.free(1n);
    assert.deepEqual(p.schedule()[0]!.ranks, [{ rank: 0, cores: [0], gpus: [] }]);
  });

  test('exclusive takes whole free ranks only', () => {
    const p = new FcfsPolicy(ranks(2, 4, 1));
    p.enqueue(job(1)); // 1 core on rank 0
    p.enqueue(job(2, { nnodes: 1, nslots: 1, exclusive: true }));
    const a = p.schedule();
    assert.deepEqual(ids(a), [1, 2]);
    assert.deepEqual(a[1]!.ranks, [{ rank: 1, cores: [0, 1, 2, 3], gpus: [0] }]);
    p.enqueue(job(3, { nnodes: 1, nslots: 1, exclusive: true })); // rank 0 is partly used
    assert.deepEqual(p.schedule(), []);
    p.free(1n);
    assert.deepEqual(p.schedule()[0]!.ranks, [{ rank: 0, cores: [0, 1, 2, 3], gpus: [0] }]);
  });

  test('a job can not share a rank with an exclusive job', () => {
    const p = new FcfsPolicy(ranks(1, 4));
    p.enqueue(job(1, { nnodes: 1, nslots: 1, exclusive: true }));
    p.enqueue(job(2));
    assert.deepEqual(ids(p.schedule()), [1]);
  });
});

describe('FcfsPolicy feasibility', () => {
  const p = new FcfsPolicy([{ rank: 0, cores: [0, 1], gpus: [] }]);

  test('fits', () => {
    assert.equal(p.feasible(req()), undefined);
    assert.equal(p.feasible(req({ nslots: 2 })), undefined);
    assert.equal(p.feasible(req({ nnodes: 1, nslots: 1, exclusive: true })), undefined);
  });

  test('too many cores per slot', () => {
    assert.equal(
      p.feasible(req({ coresPerSlot: 3 })),
      'unsatisfiable request: 3 cores per slot, but a node has at most 2 cores',
    );
  });

  test('too many cores in all', () => {
    assert.equal(p.feasible(req({ nslots: 3 })), 'unsatisfiable request: 3 cores requested, instance has 2');
  });

  test('GPUs on an instance without any', () => {
    assert.equal(p.feasible(req({ gpusPerSlot: 4 })), 'unsatisfiable request: 4 GPUs requested, instance has 0');
  });

  test('too many nodes', () => {
    assert.equal(p.feasible(req({ nnodes: 2, nslots: 2 })), 'unsatisfiable request: 2 nodes requested, instance has 1');
  });

  test('slots that can not pack onto nodes', () => {
    const q = new FcfsPolicy(ranks(2, 3));
    // 2 slots of 2 cores: 4 cores <= 6, but one slot per node fits only
    assert.equal(q.feasible(req({ nslots: 2, coresPerSlot: 2 })), undefined);
    assert.equal(
      q.feasible(req({ nslots: 3, coresPerSlot: 2 })),
      'unsatisfiable request: 3 slots of 2 cores, but the instance holds at most 2 (a slot cannot span nodes)',
    );
    assert.equal(
      q.feasible(req({ nnodes: 1, nslots: 2, coresPerSlot: 2 })),
      'unsatisfiable request: 2 slots of 2 cores per node on 1 node, but a node holds at most 1 slot (it has at most 3 cores)',
    );
  });

  test('GPU per slot beyond a node', () => {
    const q = new FcfsPolicy(ranks(2, 2, 1));
    assert.equal(
      q.feasible(req({ gpusPerSlot: 2 })),
      'unsatisfiable request: 2 GPUs per slot, but a node has at most 1 GPU',
    );
  });

  test('malformed requests', () => {
    assert.match(p.feasible(req({ nslots: 0 }))!, /nslots must be an integer >= 1/);
    assert.match(p.feasible(req({ coresPerSlot: 0 }))!, /at least one core or GPU/);
    assert.match(p.feasible(req({ nnodes: 3, nslots: 2 }))!, /fewer slots/);
    assert.match(p.feasible({ ...req(), exclusive: 'yes' } as any)!, /exclusive/);
  });
});

describe('FcfsPolicy with offline ranks', () => {
  test('an offline rank takes nothing new; what it held is still given back; feasibility counts it', () => {
    const p = new FcfsPolicy(ranks(3, 2));
    p.enqueue(job(1, { nnodes: 3, nslots: 3 }));
    assert.deepEqual(
      p.schedule().map((a) => a.ranks.map((r) => r.rank)),
      [[0, 1, 2]],
    );
    p.setDown([2]);
    assert.deepEqual(
      p.status().down.map((r) => r.rank),
      [2],
    );
    assert.equal(p.free(1n), true);
    assert.deepEqual(p.status().allocated, []);
    p.enqueue(job(2, { nslots: 6 }));
    assert.deepEqual(p.schedule(), [], 'six cores need rank 2');
    assert.equal(p.feasible(req({ nslots: 6 })), undefined);
    assert.equal(p.remove(2n), true);
    p.enqueue(job(3, { nslots: 4 }));
    assert.deepEqual(
      p.schedule().map((a) => a.ranks.map((r) => r.rank)),
      [[0, 1]],
    );
  });
});
