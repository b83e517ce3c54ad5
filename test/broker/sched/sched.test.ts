/** The `sched` service driven through a real Broker, as the job manager and ingest use it. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { Scheduler } from '../../../src/broker/sched/sched.js';
import type { ResourceRequest } from '../../../src/broker/contract.js';
import type { InstanceResources, Rv1 } from '../../../src/job/rv1.js';
import { FluxError } from '../../../src/protocol/errno.js';

const ENOSPC = 28;
const ECANCELED = 125;
const ENOSYS = 38;
const EPERM = 1;
const EEXIST = 17;

function req(over: Partial<ResourceRequest> = {}): ResourceRequest {
  return { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0, ...over };
}

async function setup(res: InstanceResources = { ranks: [{ rank: 0, hostname: 'vm', cores: [0, 1], gpus: [] }] }) {
  const broker = new Broker({ hostname: 'vm' });
  const logs: string[] = [];
  broker.logger = (level, text) => logs.push(`${level}: ${text}`);
  const sched = new Scheduler(res, { now: () => 1000 });
  broker.register(sched);
  await broker.start();
  return { broker, sched, logs };
}

function alloc(broker: Broker, id: number, over: Partial<ResourceRequest> = {}, priority = 16) {
  return broker.rpc<{ R: Rv1; annotations: any }>('sched.alloc', {
    id: BigInt(id),
    priority,
    userid: 1000,
    t_submit: id,
    request: req(over),
  });
}

/** Settle state of a promise without waiting for it. */
function watch<T>(p: Promise<T>) {
  const s: { done: boolean; value?: T; error?: FluxError } = { done: false };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e) => Object.assign(s, { done: true, error: e }),
  );
  return s;
}

const turn = () => new Promise((r) => setImmediate(r));

describe('sched service', () => {
  test('alloc responds with R (RFC 20 Rv1) and a resource_summary', async () => {
    const { broker } = await setup();
    const r = await alloc(broker, 1, { duration: 60 });
    assert.deepEqual(r.R, {
      version: 1,
      execution: {
        R_lite: [{ rank: '0', children: { core: '0' } }],
        starttime: 1000,
        expiration: 1060,
        nodelist: ['vm'],
      },
    });
    assert.deepEqual(r.annotations, { sched: { resource_summary: 'rank0/core0' } });
    const r2 = await alloc(broker, 2);
    assert.equal(r2.R.execution.R_lite[0]!.children.core, '1');
    assert.equal(r2.R.execution.expiration, 0);
  });

  test('alloc pends until a free makes room', async () => {
    const { broker } = await setup();
    const a = await alloc(broker, 1, { nslots: 2 });
    assert.equal(a.R.execution.R_lite[0]!.children.core, '0-1');
    const b = watch(alloc(broker, 2));
    await turn();
    await turn();
    assert.equal(b.done, false);
    await broker.rpc('sched.free', { id: 1n, R: a.R });
    await turn();
    await turn();
    assert.equal(b.done, true);
    assert.equal(b.value!.R.execution.R_lite[0]!.children.core, '0');
  });

  test('cancel fails the pending alloc with ECANCELED', async () => {
    const { broker } = await setup();
    await alloc(broker, 1, { nslots: 2 });
    const b = alloc(broker, 2);
    assert.deepEqual(await broker.rpc('sched.cancel', { id: 2n }), {});
    await assert.rejects(b, (e: FluxError) => e.errno === ECANCELED && e.message === 'alloc canceled');
    // cancel of something not pending is fine
    assert.deepEqual(await broker.rpc('sched.cancel', { id: 99n }), {});
  });

  test('canceling a blocked head lets the job behind it run', async () => {
    const { broker } = await setup();
    await alloc(broker, 1);
    const big = alloc(broker, 2, { nslots: 2 });
    const small = watch(alloc(broker, 3));
    await turn();
    await turn();
    assert.equal(small.done, false);
    await broker.rpc('sched.cancel', { id: 2n });
    await assert.rejects(big, (e: FluxError) => e.errno === ECANCELED);
    await turn();
    assert.equal(small.done, true);
    assert.equal(small.value!.R.execution.R_lite[0]!.children.core, '1');
  });

  test('priority change reorders the pending allocs', async () => {
    const { broker } = await setup({ ranks: [{ rank: 0, hostname: 'vm', cores: [0], gpus: [] }] });
    await alloc(broker, 1);
    const b = watch(alloc(broker, 2));
    const c = watch(alloc(broker, 3));
    await broker.rpc('sched.priority', { id: 3n, priority: 31 });
    await assert.rejects(broker.rpc('sched.priority', { id: 77n, priority: 31 }), (e: FluxError) => e.errno === 2);
    await broker.rpc('sched.free', { id: 1n });
    await turn();
    assert.equal(c.done, true);
    assert.equal(b.done, false);
  });

  test('feasible: {} or ENOSPC naming the numbers', async () => {
    const { broker } = await setup();
    assert.deepEqual(await broker.rpc('sched.feasible', { request: req({ nslots: 2 }) }), {});
    await assert.rejects(
      broker.rpc('sched.feasible', { request: req({ coresPerSlot: 3 }) }),
      (e: FluxError) =>
        e.errno === ENOSPC && e.message === 'unsatisfiable request: 3 cores per slot, but a node has at most 2 cores',
    );
    await assert.rejects(
      broker.rpc('sched.feasible', { request: req({ gpusPerSlot: 4 }) }),
      (e: FluxError) => e.errno === ENOSPC && e.message === 'unsatisfiable request: 4 GPUs requested, instance has 0',
    );
    await assert.rejects(broker.rpc('sched.feasible', { request: { nslots: 'x' } }), (e: FluxError) => e.errno === 71);
    // an infeasible alloc fails at once too
    await assert.rejects(
      alloc(broker, 5, { nslots: 3 }),
      (e: FluxError) => e.errno === ENOSPC && /3 cores requested, instance has 2/.test(e.message),
    );
  });

  test('a second free is ignored with a log line', async () => {
    const { broker, logs } = await setup({ ranks: [{ rank: 0, hostname: 'vm', cores: [0], gpus: [] }] });
    const a = await alloc(broker, 1);
    await broker.rpc('sched.free', { id: 1n, R: a.R });
    await broker.rpc('sched.free', { id: 1n, R: a.R });
    assert.ok(
      logs.some((l) => /^warning: sched: free of job 1, which holds no resources/.test(l)),
      logs.join('\n'),
    );
    // still one core: two allocs, one pends
    await alloc(broker, 2);
    const c = watch(alloc(broker, 3));
    await turn();
    await turn();
    assert.equal(c.done, false);
  });

  test('duplicate alloc is refused; sched.alloc is for in-process callers', async () => {
    const { broker } = await setup();
    await alloc(broker, 1);
    await assert.rejects(alloc(broker, 1), (e: FluxError) => e.errno === EEXIST);
    const errors: number[] = [];
    broker.dispatch({
      topic: 'sched.alloc',
      payload: { id: 5, request: req() },
      conn: 'c1',
      userid: 0,
      rolemask: 1,
      matchtag: 1,
      streaming: false,
      noresponse: false,
      finished: false,
      respond() {},
      error(n: number) {
        errors.push(n);
      },
    });
    assert.deepEqual(errors, [EPERM]);
  });

  test('many frees in one turn are scheduled in one pass', async () => {
    const { broker, sched } = await setup({ ranks: [{ rank: 0, hostname: 'vm', cores: [0, 1, 2, 3], gpus: [] }] });
    const first = await Promise.all([1, 2, 3, 4].map((i) => alloc(broker, i)));
    assert.equal(first.length, 4);
    const next = [5, 6, 7, 8, 9].map((i) => watch(alloc(broker, i)));
    await turn();
    const passes = sched.passes;
    for (const i of [1, 2, 3, 4]) void broker.rpc('sched.free', { id: BigInt(i) });
    await turn();
    await turn();
    assert.equal(sched.passes, passes + 1);
    assert.deepEqual(
      next.map((s) => s.done),
      [true, true, true, true, false],
    );
  });

  test('status gives all / down / allocated as Rv1', async () => {
    const { broker } = await setup({ ranks: [{ rank: 0, hostname: 'vm', cores: [0, 1], gpus: [0] }] });
    const empty = { version: 1, execution: { R_lite: [], starttime: 0, expiration: 0, nodelist: [''] } };
    let s = await broker.rpc('sched.status');
    assert.deepEqual(s, {
      all: {
        version: 1,
        execution: {
          R_lite: [{ rank: '0', children: { core: '0-1', gpu: '0' } }],
          starttime: 0,
          expiration: 0,
          nodelist: ['vm'],
        },
      },
      down: empty,
      allocated: empty,
    });
    await alloc(broker, 1, { gpusPerSlot: 1 });
    s = await broker.rpc('sched.resource-status');
    assert.deepEqual(s.allocated.execution.R_lite, [{ rank: '0', children: { core: '0', gpu: '0' } }]);
    assert.deepEqual(s.allocated.execution.nodelist, ['vm']);
  });

  test('stop fails pending allocs with ENOSYS', async () => {
    const { broker } = await setup();
    await alloc(broker, 1, { nslots: 2 });
    const b = alloc(broker, 2);
    await broker.stop();
    await assert.rejects(b, (e: FluxError) => e.errno === ENOSYS);
    await assert.rejects(alloc(broker, 3), (e: FluxError) => e.errno === ENOSYS);
  });

  test('20,000 allocs through the broker, each freed when it arrives: batched passes', async () => {
    const N = 20_000;
    const { broker, sched } = await setup({ ranks: [{ rank: 0, hostname: 'vm', cores: [0, 1, 2, 3], gpus: [] }] });
    let done = 0;
    const all: Promise<void>[] = [];
    for (let i = 1; i <= N; i++) {
      all.push(
        alloc(broker, i).then(() => {
          done++;
          void broker.rpc('sched.free', { id: BigInt(i) });
        }),
      );
    }
    await Promise.all(all);
    assert.equal(done, N);
    assert.equal(sched.npending, 0);
    assert.equal(sched.policy.nallocated, 0);
    // 4 at a time; one pass per turn, not one per alloc or per free
    assert.ok(sched.passes <= N / 4 + 2, `${sched.passes} passes`);
  });

  test('ids past 2^53 survive', async () => {
    const { broker } = await setup();
    const id = (1n << 60n) + 1n;
    await broker.rpc('sched.alloc', { id, priority: 16, t_submit: 1, request: req({ nslots: 2 }) });
    const p = watch(broker.rpc('sched.alloc', { id: id + 1n, priority: 16, t_submit: 2, request: req() }));
    await broker.rpc('sched.free', { id });
    await turn();
    assert.equal(p.done, true);
  });
});
