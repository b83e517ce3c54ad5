/**
 * 20,000 queued jobs: the work per job must stay O(log n) (queue comparisons) and O(1)
 * placement attempts per allocation. We count operations, never time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FcfsPolicy } from '../../../src/broker/sched/core.js';
import { JobQueue } from '../../../src/broker/sched/queue.js';
import type { ResourceRequest } from '../../../src/broker/contract.js';

const N = 20_000;
const LOG2N = Math.ceil(Math.log2(N));
const one: ResourceRequest = { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 };

test(`${N} jobs on 4 cores: enqueue, then free and allocate them all`, () => {
  const p = new FcfsPolicy([{ rank: 0, cores: [0, 1, 2, 3], gpus: [] }]);
  for (let i = 1; i <= N; i++) {
    // mixed priorities so the heap really works
    p.enqueue({ id: BigInt(i), priority: 16 + (i % 5), t_submit: i, request: one });
  }
  assert.equal(p.npending, N);
  const afterEnqueue = p.counters.compares;
  assert.ok(afterEnqueue <= N * LOG2N, `enqueue: ${afterEnqueue} comparisons`);

  let allocated = 0;
  let rounds = 0;
  let lastPriority = Infinity;
  let running = p.schedule().map((a) => a.id);
  allocated += running.length;
  while (running.length > 0) {
    rounds++;
    for (const id of running) assert.equal(p.free(id), true);
    // a batch of frees is scheduled once
    const got = p.schedule();
    // FCFS by priority: priorities never go up
    for (const a of got) {
      const prio = 16 + Number(a.id % 5n);
      assert.ok(prio <= lastPriority);
      lastPriority = prio;
    }
    allocated += got.length;
    running = got.map((a) => a.id);
    // extra schedule() calls with nothing freed cost nothing
    assert.deepEqual(p.schedule(), []);
  }
  assert.equal(allocated, N);
  assert.equal(p.npending, 0);
  const c = p.counters;
  // pops: about 2·log2(n) comparisons each
  assert.ok(c.compares - afterEnqueue <= 2 * N * LOG2N, `pops: ${c.compares - afterEnqueue} comparisons`);
  // every placement attempt either allocates or blocks a pass: at most one failure per pass
  assert.ok(c.attempts <= N + c.passes, `attempts ${c.attempts}, passes ${c.passes}`);
  assert.ok(c.passes <= rounds + 1);
  console.log(
    `# ${N} jobs: ${c.compares} comparisons (${(c.compares / N).toFixed(1)}/job), ${c.attempts} placement attempts, ${c.passes} passes`,
  );
});

test(`${N} jobs behind a blocked head: nothing is rescanned`, () => {
  const p = new FcfsPolicy([{ rank: 0, cores: [0, 1], gpus: [] }]);
  p.enqueue({ id: 1n, priority: 16, t_submit: 0, request: { ...one, nslots: 2 } });
  assert.equal(p.schedule().length, 1);
  p.enqueue({ id: 2n, priority: 16, t_submit: 1, request: { ...one, nslots: 2 } });
  p.schedule();
  const attempts0 = p.counters.attempts;
  for (let i = 3; i < N + 3; i++) {
    p.enqueue({ id: BigInt(i), priority: 16, t_submit: i, request: one });
    p.schedule(); // e.g. one pass per arriving alloc
  }
  // the head stays blocked and is not even re-tried: no placement work per enqueue
  assert.equal(p.counters.attempts, attempts0);
  // and cancel from the middle of the queue is O(log n)
  const c0 = p.counters.compares;
  for (let i = 3; i < N + 3; i += 2) assert.equal(p.remove(BigInt(i)), true);
  assert.ok(p.counters.compares - c0 <= (N / 2) * 2 * LOG2N, `removes: ${p.counters.compares - c0}`);
  assert.equal(p.npending, N / 2 + 1);
});

test('JobQueue.ordered walks the queue in order without changing it', () => {
  const q = new JobQueue();
  const prios = [5, 1, 9, 5, 3, 9, 0, 7];
  prios.forEach((priority, i) => q.push({ id: BigInt(i + 1), priority, t_submit: i, request: one, pos: -1 }));
  const walked = [...q.ordered()].map((j) => [j.priority, Number(j.id)]);
  assert.deepEqual(walked, [
    [9, 3],
    [9, 6],
    [7, 8],
    [5, 1],
    [5, 4],
    [3, 5],
    [1, 2],
    [0, 7],
  ]);
  // the first k cost O(k log k), not O(n)
  const big = new JobQueue();
  for (let i = 0; i < N; i++) big.push({ id: BigInt(i + 1), priority: i % 7, t_submit: i, request: one, pos: -1 });
  const c0 = big.compares;
  let k = 0;
  for (const _ of big.ordered()) if (++k === 10) break;
  assert.ok(big.compares - c0 < 200, `${big.compares - c0} comparisons for 10`);
  // the heap is intact
  const popped: number[] = [];
  for (let i = 0; i < 5; i++) popped.push(big.pop()!.priority);
  assert.deepEqual(popped, [6, 6, 6, 6, 6]);
});
