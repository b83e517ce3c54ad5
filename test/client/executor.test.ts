/**
 * FluxExecutor end to end against real tsflux instances (issue 5): results and exceptions as in
 * flux-core's executor (test/vectors/eventlogs/summary.json `_flux_executor`), cancel, attach,
 * event callbacks, shutdown, and the instance going away. No timing asserts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endStdin, withInstance } from '../helpers/instance.js';
import { HANG_TIMEOUT } from '../helpers/wait.js';
import { Instance } from '../../src/broker/instance.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { JobException, type EventlogEvent } from '../../src/job/eventlog.js';
import { FluxError } from '../../src/protocol/errno.js';
import {
  FluxExecutor,
  FluxExecutorFuture,
  asCompleted,
  waitFutures,
  CancelledError,
  InvalidJobIdError,
  ExecutorError,
  BrokenExecutorError,
  EVENTS,
} from '../../src/client/executor/index.js';
import type { Flux } from '../../src/client/handle.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const spec = (cmd: string[], o: Record<string, unknown> = {}) => JobspecV1.fromCommand(cmd, { environment: env, ...o });

async function eventNames(h: Flux, id: bigint): Promise<string[]> {
  const names: string[] = [];
  for await (const ev of job.eventWatch(h, id)) names.push(ev.name);
  return names;
}

/** Resolves when `fut` has seen event `name`. */
function eventSeen(fut: FluxExecutorFuture, name: string): Promise<EventlogEvent> {
  return new Promise((resolve) => fut.addEventCallback(name, (_f, ev) => resolve(ev)));
}

test('200 jobs through the executor: every future fulfils in the background with 0', async () => {
  await withInstance(async (inst) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const futs = Array.from({ length: 200 }, () => executor.submit(spec(['true'])));
    let doneCallbacks = 0;
    for (const f of futs) f.addDoneCallback(() => doneCallbacks++);
    const seen = new Set<FluxExecutorFuture>();
    let prev = -1;
    for await (const { future, index } of asCompleted(futs)) {
      assert.ok(future instanceof FluxExecutorFuture && future.done());
      assert.equal(futs[index], future);
      assert.equal(await future, 0);
      seen.add(future);
      prev = index;
    }
    assert.ok(prev >= 0);
    assert.equal(seen.size, 200);
    assert.equal(doneCallbacks, 200);
    const ids = new Set<bigint>();
    for (const f of futs) ids.add((await f.jobid()).value);
    assert.equal(ids.size, 200, 'distinct job ids');
    assert.ok(futs.every((f) => f.done() && !f.cancelled() && !f.running()));
    assert.equal(executor.eventsMode, 'journal');
  });
});

test('results as in flux-core: exit 1 → 1, no such command → JobException, kill -9 → 137, rejected submit → FluxError', async () => {
  await withInstance(async (inst) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const exit1 = executor.submit(spec(['false']));
    const nosuch = executor.submit(spec(['nosuchcmd-tsflux']));
    const killed = executor.submit(spec(['sh', '-c', 'kill -9 $$']));
    const rejected = executor.submit(spec(['true']), { urgency: 40 });

    assert.equal(await exit1.result(), 1);
    assert.equal(await exit1.exception(), undefined);

    const e = await nosuch.exception();
    assert.ok(e instanceof JobException, `got ${e}`);
    assert.equal(e.type, 'exec');
    assert.match(
      e.message,
      /^job\.exception: type=exec: task 0 \(host .+\): start failed: nosuchcmd-tsflux: No such file or directory$/,
    );
    await assert.rejects(nosuch.result(), JobException);
    await assert.rejects(async () => await nosuch, JobException);

    assert.equal(await killed, 137);

    const r = await rejected.exception();
    assert.ok(r instanceof FluxError && r.errno === 22, `got ${r}`);
    assert.equal(r.message, 'urgency range is [0:31]');
    await assert.rejects(
      rejected.jobid(),
      (err: unknown) => err instanceof ExecutorError && /could not be submitted due to urgency range/.test(err.message),
    );
  });
});

test('cancel before start: the future is cancelled and the job is CANCELED in the instance; not once running', async () => {
  await withInstance(async (inst, h) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const held = executor.submit(spec(['true']), { urgency: 0 });
    const id = (await held.jobid()).value;
    let doneCb = 0;
    held.addDoneCallback(() => doneCb++);
    assert.equal(held.running(), false);
    assert.equal(held.cancel(), true);
    assert.equal(held.cancel(), true, 'cancel() again is still true');
    assert.ok(held.cancelled() && held.done());
    assert.equal(doneCb, 1);
    await assert.rejects(held.result(), CancelledError);
    await assert.rejects(held.exception(), CancelledError);
    assert.equal((await job.result(h, id)).result, 'CANCELED');
    assert.deepEqual(await eventNames(h, id), ['submit', 'validate', 'depend', 'priority', 'exception', 'clean']);

    // canceled in the same tick as submit: dropped before or canceled after the submit
    const early = executor.submit(spec(['true']), { urgency: 0 });
    assert.equal(early.cancel(), true);
    await assert.rejects(async () => await early, CancelledError);

    // a job that runs until the test ends it (cat, until eof on its stdin)
    const running = executor.submit(spec(['cat']));
    await eventSeen(running, 'start');
    assert.equal(running.running(), true);
    assert.equal(running.cancel(), false, 'cannot cancel a running job');
    await endStdin(h, (await running.jobid()).value);
    assert.equal(await running, 0);
  });
});

test('AbortSignal: before start cancels the future; while running cancels the job (JobException)', async () => {
  await withInstance(async (inst) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const pre = AbortSignal.abort();
    const f0 = executor.submit(spec(['true']), { signal: pre });
    assert.ok(f0.cancelled());
    await assert.rejects(f0.jobid(), CancelledError);

    const ac = new AbortController();
    const held = executor.submit(spec(['true']), { urgency: 0, signal: ac.signal });
    await held.jobid();
    const ac2 = new AbortController();
    const running = executor.submit(spec(['sleep', '30']), { signal: ac2.signal });
    await eventSeen(running, 'start');
    ac.abort();
    ac2.abort();
    assert.ok(held.cancelled());
    const e = await running.exception();
    assert.ok(e instanceof JobException && e.type === 'cancel', `got ${e}`);
  });
});

test('time limit: duration 1s on sleep 100 → JobException type timeout', async () => {
  await withInstance(async (inst) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const js = spec(['sleep', '100']);
    js.duration = 1;
    const e = await executor.submit(js).exception();
    assert.ok(e instanceof JobException, `got ${e}`);
    assert.equal(e.type, 'timeout');
  });
});

test('attach: a job submitted by the client API (history replayed), and an unknown id (clear error)', async () => {
  await withInstance(async (inst, h) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const done = await job.submit(h, spec(['true']), { waitable: true });
    await job.wait(h, done);
    const a = executor.attach(done);
    assert.equal(await a, 0);
    assert.equal((await a.jobid()).value, done);
    const live = await job.submit(h, spec(['sh', '-c', 'exit 3']));
    assert.equal(await executor.attach(live), 3);

    const u = executor.attach(123456789n);
    const err = await u.exception();
    assert.ok(err instanceof InvalidJobIdError, `got ${err}`);
    assert.match(err.message, /^job ID does not match any job: /);
    assert.equal(err.errno, 2);
    assert.equal((await u.jobid()).value, 123456789n, 'attach knows the id it was given');
  });
});

test('event callbacks: every main-eventlog event, in eventlog order, replayed when added late', async () => {
  await withInstance(async (inst, h) => {
    const errors: unknown[] = [];
    await using executor = new FluxExecutor({ uri: inst.uri, onCallbackError: (e) => errors.push(e) });
    const seen: string[] = [];
    const onEvent: string[] = [];
    executor.on('job:event', (_f, ev) => onEvent.push(ev.name));
    let submitEvents = 0;
    executor.on('job:submit', () => submitEvents++);
    const fut = executor.submit(spec(['true']));
    for (const name of EVENTS) fut.addEventCallback(name, (_f, ev) => seen.push(ev.name));
    fut.addEventCallback('start', () => {
      throw new Error('callback failure is logged and ignored');
    });
    assert.throws(() => fut.addEventCallback('validate', () => {}), TypeError);
    assert.throws(() => fut.addEventCallback('nosuch', () => {}), TypeError);
    let jobidCb = 0;
    fut.addJobidCallback((f) => {
      jobidCb++;
      assert.ok(f.id);
    });
    await eventSeen(fut, 'clean');
    const id = (await fut.jobid()).value;
    const log = (await eventNames(h, id)).filter((n) => EVENTS.has(n));
    assert.deepEqual(seen, log);
    assert.deepEqual(onEvent, log);
    assert.deepEqual(log, ['submit', 'depend', 'priority', 'alloc', 'start', 'finish', 'release', 'free', 'clean']);
    assert.equal(errors.length, 1);
    assert.equal(jobidCb, 1);
    assert.equal(submitEvents, 1);
    const late: string[] = [];
    fut.addEventCallback('finish', (_f, ev) => late.push(`${ev.name}:${ev.context.status}`));
    fut.addJobidCallback(() => late.push('jobid'));
    fut.addDoneCallback(() => late.push('done'));
    assert.deepEqual(late, ['finish:0', 'jobid', 'done']);
  });
});

test('waitFutures FIRST_COMPLETED / ALL_COMPLETED and timeouts; asCompleted timeout', async () => {
  await withInstance(async (inst) => {
    await using executor = new FluxExecutor({ uri: inst.uri });
    const quick = executor.submit(spec(['true']));
    const held = executor.submit(spec(['true']), { urgency: 0 });
    const first = await waitFutures([quick, held], { returnWhen: 'FIRST_COMPLETED' });
    assert.ok(first.done.has(quick) && first.notDone.has(held));
    const timed = await waitFutures([quick, held], { returnWhen: 'ALL_COMPLETED', timeoutMs: 50 });
    assert.ok(timed.done.has(quick) && timed.notDone.has(held));
    await assert.rejects(held.result(20), (e: Error) => e.name === 'TimeoutError');
    await assert.rejects(held.result(-1), RangeError);
    await assert.rejects(
      (async () => {
        for await (const _ of asCompleted([quick, held], { timeoutMs: 50 })) {
          // quick comes out, held times out
        }
      })(),
      (e: Error) => e.name === 'TimeoutError',
    );
    held.cancel();
    const all = await waitFutures([quick, held]);
    assert.equal(all.done.size, 2);
  });
});

test('shutdown waits for pending futures; with cancelFutures the unstarted ones are cancelled', async () => {
  await withInstance(async (inst, h) => {
    const ex1 = new FluxExecutor({ uri: inst.uri });
    const a = ex1.submit(spec(['sleep', '0.2']));
    const b = ex1.submit(spec(['true']));
    await ex1.shutdown(); // wait=true, cancelFutures=false
    assert.ok(a.done() && b.done());
    assert.equal(a.resultValue, 0);
    assert.equal(b.resultValue, 0);
    assert.throws(() => ex1.submit(spec(['true'])), ExecutorError);
    await ex1.shutdown(); // again: fine

    const ex2 = new FluxExecutor({ uri: inst.uri });
    const run = ex2.submit(spec(['sleep', '0.3']));
    const held = [ex2.submit(spec(['true']), { urgency: 0 }), ex2.submit(spec(['true']), { urgency: 0 })];
    await eventSeen(run, 'start');
    const heldIds = await Promise.all(held.map((f) => f.jobid()));
    await ex2.shutdown({ cancelFutures: true });
    assert.ok(held.every((f) => f.cancelled()));
    assert.equal(run.resultValue, 0, 'a running job is not cancelled');
    for (const id of heldIds) assert.equal((await job.result(h, id.value)).result, 'CANCELED');

    // wait=false returns at once; the futures still fulfil
    const ex3 = new FluxExecutor({ uri: inst.uri });
    const c = ex3.submit(spec(['true']));
    await ex3.shutdown({ wait: false });
    assert.equal(await c, 0);
  });
});

test(
  'the instance going away: every pending future fails with a clear error, nothing hangs',
  { timeout: HANG_TIMEOUT },
  async () => {
    const inst = await Instance.start({ cores: '2', gpus: '0', killTimeout: 1 });
    const executor = new FluxExecutor({ uri: inst.uri });
    const broken: Error[] = [];
    executor.on('broken', (e) => broken.push(e));
    const running = [executor.submit(spec(['sleep', '100'])), executor.submit(spec(['sleep', '100']))];
    const held = executor.submit(spec(['true']), { urgency: 0 });
    await Promise.all(running.map((f) => eventSeen(f, 'start')));
    await held.jobid();
    const late = executor.submit(spec(['true']), { urgency: 0 }); // submit in flight or just answered
    await inst.stop();
    const all = [...running, held, late];
    const errs = await Promise.all(all.map((f) => f.exception()));
    for (const e of errs) {
      assert.ok(e instanceof JobException || e instanceof BrokenExecutorError, `clear error expected, got ${e}`);
      if (e instanceof JobException) assert.equal(e.message, 'job.exception: type=cancel: instance is shutting down');
      else assert.match(e.message, /executor lost its Flux instance|lost the job-manager events journal/);
    }
    assert.equal(broken.length, 1);
    assert.throws(
      () => executor.submit(spec(['true'])),
      (e: Error) => e instanceof ExecutorError && /broken/.test(e.message),
    );
    await executor.shutdown();
  },
);

test('a connection that never comes up fails the futures, it does not hang', { timeout: HANG_TIMEOUT }, async () => {
  const executor = new FluxExecutor({ uri: 'local:///nonexistent/tsflux/local-0' });
  const err = await executor.submit(spec(['true'])).exception();
  assert.ok(err instanceof BrokenExecutorError, `got ${err}`);
  assert.match(err.message, /Unable to connect to Flux/);
  await executor.shutdown();
});

test("events: 'watch' (one eventlog watch per job, flux-core's Python design) gives the same outcomes", async () => {
  await withInstance(async (inst, h) => {
    await using executor = new FluxExecutor({ uri: inst.uri, events: 'watch' });
    const futs = [
      executor.submit(spec(['true'])),
      executor.submit(spec(['false'])),
      executor.submit(spec(['nosuchcmd-tsflux'])),
    ];
    const held = executor.submit(spec(['true']), { urgency: 0 });
    assert.equal(await futs[0], 0);
    assert.equal(await futs[1], 1);
    assert.ok((await futs[2]!.exception()) instanceof JobException);
    const id = await held.jobid();
    assert.ok(held.cancel());
    await executor.shutdown();
    assert.equal((await job.result(h, id.value)).result, 'CANCELED');
    assert.equal(executor.eventsMode, 'watch');
  });
});

test('journal refused (EPERM, as flux-core answers a guest): the executor falls back to one watch per job', async () => {
  await withInstance(async (inst) => {
    // the executor connects with a guest's role (same uid, so its jobs are its own), as
    // `FLUX_HANDLE_ROLEMASK=0x2` does: the broker refuses it the owner-only journal
    const saved = process.env.FLUX_HANDLE_ROLEMASK;
    process.env.FLUX_HANDLE_ROLEMASK = '0x2';
    let executor: FluxExecutor;
    try {
      executor = new FluxExecutor({ uri: inst.uri });
    } finally {
      if (saved === undefined) delete process.env.FLUX_HANDLE_ROLEMASK;
      else process.env.FLUX_HANDLE_ROLEMASK = saved;
    }
    await using _ex = executor;
    const futs = [executor.submit(spec(['true'])), executor.submit(spec(['false']))];
    assert.equal(await futs[0], 0);
    assert.equal(await futs[1], 1);
    assert.equal(executor.eventsMode, 'watch');
    assert.ok(executor.stats.watches! >= 2);
  });
});
