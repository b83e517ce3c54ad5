/**
 * Jobs through a real instance with the low-level API: submit → wait, every wait error of
 * docs/protocol.md §B, cancel / kill / urgency, and bad jobspecs (each one a clear error;
 * the broker keeps serving).
 */
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { withInstance } from '../helpers/instance.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { wrapNone } from '../../src/job/sign-none.js';
import { encodeJobId } from '../../src/job/jobid.js';
import { FluxError } from '../../src/protocol/errno.js';
import { JobException, type EventlogEvent } from '../../src/job/eventlog.js';
import type { Flux } from '../../src/client/handle.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const spec = (cmd: string[], o: Record<string, unknown> = {}) => JobspecV1.fromCommand(cmd, { environment: env, ...o });

function errno(n: number, text?: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof FluxError, `expected FluxError, got ${e}`);
    assert.equal(e.errno, n, `errno ${e.errno} (${e.message})`);
    if (typeof text === 'string') assert.equal(e.message, text);
    else if (text) assert.match(e.message, text);
    return true;
  };
}

async function events(h: Flux, id: bigint): Promise<string[]> {
  const names: string[] = [];
  for await (const ev of job.eventWatch(h, id)) names.push(ev.name);
  return names;
}

test('submit → wait: true succeeds, false fails with the flux errstr', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['true']), { waitable: true });
    const b = await job.submit(h, spec(['false']), { waitable: true });
    assert.equal(typeof a, 'bigint');
    assert.ok(b > a, 'FLUIDs increase');
    assert.deepEqual(await job.wait(h, b), { jobid: b, success: false, errstr: 'task(s) exited with exit code 1' });
    assert.deepEqual(await job.wait(h, a), { jobid: a, success: true, errstr: '' });
  });
});

test('the eventlog of a successful job is the flux sequence', async () => {
  await withInstance(async (_i, h) => {
    const id = await job.submit(h, spec(['true']));
    assert.deepEqual(await events(h, id), [
      'submit',
      'validate',
      'depend',
      'priority',
      'alloc',
      'start',
      'finish',
      'release',
      'free',
      'clean',
    ]);
  });
});

test("a task slot that names another label than the resources' slot is accepted and runs (as flux-core)", async () => {
  await withInstance(async (_i, h) => {
    const js = JSON.parse(spec(['true'], { numTasks: 2 }).dumps());
    js.tasks[0].slot = 'foo';
    assert.equal(js.resources[0].label, 'task');
    const id = await job.submit(h, JSON.stringify(js), { waitable: true });
    assert.deepEqual(await job.wait(h, id), { jobid: id, success: true, errstr: '' });
  });
});

test('a command that does not exist fails that job with an exec exception; the broker goes on', async () => {
  await withInstance(async (_i, h) => {
    const id = await job.submit(h, spec(['nosuchcmd-tsflux']), { waitable: true });
    const r = await job.wait(h, id);
    assert.equal(r.success, false);
    assert.match(
      r.errstr,
      /^Fatal exception type=exec task 0 \(host .+\): start failed: nosuchcmd-tsflux: No such file or directory$/,
    );
    assert.deepEqual(await events(h, id), [
      'submit',
      'validate',
      'depend',
      'priority',
      'alloc',
      'start',
      'exception',
      'finish',
      'release',
      'free',
      'clean',
    ]);
    assert.equal((await job.wait(h, await job.submit(h, spec(['true']), { waitable: true }))).success, true);
  });
});

test('wait errors: not waitable, unknown, twice, a second waiter, wait-any with nothing', async () => {
  await withInstance(async (_i, h) => {
    await assert.rejects(job.wait(h), errno(10, 'there are no more waitable jobs'));
    await assert.rejects(job.wait(h, 123456789n), errno(10, 'invalid job id, or job may be inactive and not waitable'));
    const nw = await job.submit(h, spec(['true']));
    await assert.rejects(job.wait(h, nw), errno(10, 'job was not submitted with FLUX_JOB_WAITABLE'));
    const held = await job.submit(h, spec(['true']), { waitable: true, urgency: 0 });
    const first = job.wait(h, held);
    await assert.rejects(job.wait(h, held), errno(10, 'job id already has a waiter'));
    await job.urgency(h, held, 16);
    assert.equal((await first).success, true);
    await assert.rejects(job.wait(h, held), errno(10, 'invalid job id, or job may be inactive and not waitable'));
  });
});

test('wait-any reaps every waitable job once, in any order', async () => {
  await withInstance(async (_i, h) => {
    const ids = new Set<bigint>();
    for (let i = 0; i < 20; i++) ids.add(await job.submit(h, spec(['true']), { waitable: true }));
    const seen = new Set<bigint>();
    for (let i = 0; i < 20; i++) seen.add((await job.wait(h)).jobid);
    assert.deepEqual(seen, ids);
    await assert.rejects(job.wait(h), errno(10, 'there are no more waitable jobs'));
  });
});

test('one jobspec submitted many times pipelined: one job each, each with that jobspec', async () => {
  await withInstance(async (_i, h) => {
    const text = spec(['true']).dumps();
    const ids = await Promise.all(Array.from({ length: 200 }, () => job.submitAsync(h, text, { waitable: true })));
    assert.equal(new Set(ids).size, 200);
    const other = await job.submitAsync(h, spec(['false']).dumps(), { waitable: true });
    for (const id of [ids[0]!, ids[199]!]) {
      const r = await job.lookup(h, id, ['jobspec']);
      assert.deepEqual(JSON.parse(r.jobspec!).tasks[0].command, ['true']);
    }
    const results = new Map<bigint, boolean>();
    for (let i = 0; i < 201; i++) {
      const w = await job.wait(h);
      results.set(w.jobid, w.success);
    }
    assert.equal(results.get(other), false);
    assert.ok(ids.every((id) => results.get(id) === true));
  });
});

test('cancel pending, cancel running, kill running; errors for inactive and unknown', async () => {
  await withInstance(async (_i, h) => {
    const pending = await job.submit(h, spec(['true']), { urgency: 0, waitable: true });
    await job.cancel(h, pending, 'not today');
    const rp = await job.wait(h, pending);
    assert.deepEqual(rp, { jobid: pending, success: false, errstr: 'Fatal exception type=cancel not today' });
    assert.deepEqual(await events(h, pending), ['submit', 'validate', 'depend', 'priority', 'exception', 'clean']);
    await assert.rejects(job.cancel(h, pending), errno(2, 'job is inactive'));
    await assert.rejects(job.cancel(h, 42n), errno(2, 'unknown job id'));
    await assert.rejects(job.kill(h, pending), errno(22, 'job is inactive'));

    const running = await job.submit(h, spec(['sleep', '100']), { waitable: true });
    await job.eventWait(h, running, 'start');
    await job.kill(h, running, 9);
    const rk = await job.wait(h, running);
    assert.deepEqual(rk, { jobid: running, success: false, errstr: 'task(s) Killed' });

    const r2 = await job.submit(h, spec(['sleep', '100']), { waitable: true });
    await job.eventWait(h, r2, 'start');
    await job.cancel(h, r2);
    assert.equal((await job.wait(h, r2)).errstr, 'Fatal exception type=cancel ');

    const p2 = await job.submit(h, spec(['true']), { urgency: 0 });
    await assert.rejects(job.kill(h, p2), errno(22, 'job is not running'));
    await assert.rejects(job.kill(h, p2, 99), errno(22, 'Invalid signal number'));
    await job.cancel(h, p2);
  });
});

test('raiseAll / cancelAll: by state and user, dry run, and errors for malformed requests', async () => {
  await withInstance(async (_i, h) => {
    const held = await job.submit(h, spec(['true']), { urgency: 0 });
    assert.deepEqual(await job.raiseAll(h, 'test', { severity: 3, states: 14, dryRun: true }), { count: 1, errors: 0 });
    assert.deepEqual(await job.raiseAll(h, 'test', { severity: 3, note: 'just a note' }), { count: 1, errors: 0 });
    assert.deepEqual(await job.cancelAll(h, { states: 16 }), { count: 0, errors: 0 }, 'nothing is running');
    assert.deepEqual(
      await job.cancelAll(h, { userid: process.getuid!() + 1 }),
      { count: 0, errors: 0 },
      'nobody else has jobs',
    );
    assert.deepEqual(await job.cancelAll(h, { userid: 'all' }), { count: 1, errors: 0 });
    const names = await events(h, held);
    assert.deepEqual(names.filter((n) => n === 'exception').length, 2);
    assert.equal(names.at(-1), 'clean');
    const bad: [object, number, string | RegExp][] = [
      [{}, 71, /^malformed request/],
      [{ dry_run: 1, userid: 0, states: 14, severity: 0, type: 'cancel' }, 71, /^malformed request/],
      [{ dry_run: false, userid: 0, states: 14, severity: 8, type: 'cancel' }, 71, 'invalid exception severity'],
      [{ dry_run: false, userid: 0, states: 14, severity: 0, type: 'a b' }, 71, 'invalid exception type'],
      [{ dry_run: false, userid: 0, states: 14, severity: 0, type: 'x=y' }, 71, 'invalid exception type'],
    ];
    for (const [p, n, text] of bad)
      await assert.rejects(h.rpc('job-manager.raiseall', p), errno(n, text), JSON.stringify(p));
  });
});

test("a job's shell service takes its stdin while it runs; a client that used it does not keep its name", async () => {
  await withInstance(async (inst, h) => {
    const conn = String((await h.rpc('broker.ping', {})).route).split('!')[0]!;
    for (let i = 0; i < 3; i++) {
      const id = await job.submit(h, spec(['cat']), { waitable: true });
      await job.eventWait(h, id, 'start');
      const svc = `${process.getuid!()}-shell-${encodeJobId(id, 'f58plain')}`;
      await h.rpc(`${svc}.stdin`, { stream: 'stdin', rank: 'all', data: `in ${i}\n`, eof: true });
      assert.equal((await job.wait(h, id)).success, true);
      const out = (await job.lookup(h, id, ['guest.output']))['guest.output']!;
      assert.match(out, new RegExp(`"data":"in ${i}\\\\n"`));
      assert.equal(inst.broker.hasService(svc), false);
      assert.equal(inst.broker.servicesUsedBy(conn).has(svc), false);
    }
  });
});

test('urgency: old value returned, hold/release, errors', async () => {
  await withInstance(async (_i, h) => {
    const id = await job.submit(h, spec(['true']), { urgency: 0, waitable: true });
    assert.equal(await job.urgency(h, id, 31), 0);
    assert.equal((await job.wait(h, id)).success, true);
    const names = await events(h, id);
    assert.deepEqual(names.slice(0, 6), ['submit', 'validate', 'depend', 'priority', 'urgency', 'priority']);
    const run = await job.submit(h, spec(['sleep', '100']));
    await job.eventWait(h, run, 'start');
    await assert.rejects(job.urgency(h, run, 3), errno(22, 'urgency cannot be changed once resources are allocated'));
    await assert.rejects(job.urgency(h, run, 32), errno(22, 'urgency range is [0:31]'));
    await job.cancel(h, run);
  });
});

test('time limit: a timeout exception, then the job ends', async () => {
  await withInstance(async (_i, h) => {
    const id = await job.submit(h, spec(['sleep', '100'], { duration: 0.5 }), { waitable: true });
    const r = await job.wait(h, id);
    assert.deepEqual(r, {
      jobid: id,
      success: false,
      errstr: 'Fatal exception type=timeout resource allocation expired',
    });
    const finish = await job.eventWait(h, id, 'finish', { raiseJobException: false });
    assert.equal(finish.context.status, 36352, 'SIGALRM: the shell exits 142, as flux');
  });
});

test('bad jobspecs and submit requests get flux errors and change nothing', async () => {
  await withInstance(async (_i, h) => {
    const uid = process.getuid!();
    const raw = (text: string, extra: Record<string, unknown> = {}) =>
      h.rpc('job-ingest.submit', { J: wrapNone(text, uid), urgency: 16, flags: 0, ...extra });
    const good = JSON.parse(spec(['true']).dumps());
    await assert.rejects(raw('this is not json'), errno(22, /^jobspec: invalid JSON/));
    await assert.rejects(raw('[1,2]'), errno(1));
    await assert.rejects(raw('{}'), errno(1, 'Missing key (version)'));
    await assert.rejects(raw(JSON.stringify({ ...good, version: 2 })), errno(1, 'version must be 1'));
    await assert.rejects(raw(JSON.stringify({ ...good, tasks: [] })), errno(1));
    for (const count of [0, -1]) {
      const bad = structuredClone(good);
      bad.resources[0].count = count;
      await assert.rejects(raw(JSON.stringify(bad)), errno(1, /count/));
    }
    const badCmd = structuredClone(good);
    badCmd.tasks[0].command = ['ls', 7];
    await assert.rejects(raw(JSON.stringify(badCmd)), errno(1, /command/));
    const big = structuredClone(good);
    big.attributes.user = { blob: 'x'.repeat(16 * 1024 * 1024) };
    await assert.rejects(
      raw(JSON.stringify(big)),
      errno(7, /^jobspec is too large: about \d+ bytes, the limit is 8388608$/),
    );
    await assert.rejects(raw(JSON.stringify(good), { urgency: 40 }), errno(22, 'urgency range is [0:31]'));
    await assert.rejects(h.rpc('job-ingest.submit', { J: 'garbage' }), errno(22, /invalid J/));
    await assert.rejects(
      h.rpc('job-ingest.submit', { J: wrapNone('{}', uid + 1) }),
      errno(1, `signer=${uid + 1} != requestor=${uid}`),
    );
    await assert.rejects(h.rpc('job-ingest.submit', {}), errno(71));
    const list = await job.list(h, { userid: 0xffffffff });
    assert.equal(list.length, 0, 'nothing was created');
    assert.equal((await job.wait(h, await job.submit(h, spec(['true']), { waitable: true }))).success, true);
  });
});

test("a job that asks for more than the instance has gets an id, then the scheduler's alloc exception (as flux-core)", async () => {
  await withInstance(async (_i, h) => {
    const uid = process.getuid!();
    const big = JSON.parse(spec(['true']).dumps());
    big.resources[0].with[0].count = 1073741824;
    const gpus = spec(['true'], { gpusPerTask: 1 });
    const a = await job.submit(h, JSON.stringify(big), { waitable: true });
    const b = await job.submit(h, gpus, { waitable: true });
    const entries: EventlogEvent[] = [];
    for await (const ev of job.eventWatch(h, a)) entries.push(ev);
    assert.deepEqual(
      entries.map((e) => e.name),
      ['submit', 'validate', 'depend', 'priority', 'exception', 'clean'],
    );
    const note = 'unsatisfiable request: 1073741824 cores per slot, but a node has at most 2 cores';
    assert.deepEqual(entries[4]!.context, { type: 'alloc', severity: 0, note, userid: uid });
    assert.deepEqual(await job.wait(h, a), { jobid: a, success: false, errstr: `Fatal exception type=alloc ${note}` });
    // what a Flux program sees waiting for the job to start
    await assert.rejects(job.eventWait(h, b, 'start'), (e: unknown) => {
      assert.ok(e instanceof JobException, String(e));
      assert.deepEqual(
        [e.type, e.severity, e.note],
        ['alloc', 0, 'unsatisfiable request: 1 GPU requested, instance has 0'],
      );
      return true;
    });
    assert.equal((await job.wait(h, b)).success, false);
    // the instance carries on
    assert.equal((await job.wait(h, await job.submit(h, spec(['true']), { waitable: true }))).success, true);
  });
});

test('a client that disconnects with waits and watches outstanding leaves the broker serving', async () => {
  await withInstance(async (inst, h) => {
    const { Flux } = await import('../../src/client/handle.js');
    const h2 = await Flux.open(inst.uri);
    const id = await job.submit(h2, spec(['sleep', '100']), { waitable: true });
    const w = job.wait(h2, id).catch((e) => e);
    const watch = job.eventWatch(h2, id);
    await watch.next();
    h2.close();
    assert.ok((await w) instanceof FluxError, 'pending wait fails when the handle closes');
    // the job is still waitable by another client
    await job.cancel(h, id);
    assert.equal((await job.wait(h, id)).errstr, 'Fatal exception type=cancel ');
  });
});

test('FLUX_JOB_TMPDIR exists while the job runs and is removed after, emptied or not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tmpdir-test-'));
  try {
    await withInstance(async (inst, h) => {
      const out = (n: number) => path.join(dir, `out${n}`);
      const a = await job.submit(
        h,
        spec([
          'sh',
          '-c',
          `test -d "$FLUX_JOB_TMPDIR" && echo x > "$FLUX_JOB_TMPDIR/f" && echo "$FLUX_JOB_TMPDIR" > ${out(1)}`,
        ]),
        { waitable: true },
      );
      const b = await job.submit(
        h,
        spec(['sh', '-c', `test -d "$FLUX_JOB_TMPDIR" && echo "$FLUX_JOB_TMPDIR" > ${out(2)}`]),
        { waitable: true },
      );
      assert.equal((await job.wait(h, a)).success, true);
      assert.equal((await job.wait(h, b)).success, true);
      // Removal is asynchronous: job-exec asks the launcher when the tasks end, and the launcher
      // handles its commands in order. So once a later job's task has run, both are removed.
      const later = await job.submit(h, spec(['true']), { waitable: true });
      assert.equal((await job.wait(h, later)).success, true);
      for (const n of [1, 2]) {
        const tmp = fs.readFileSync(out(n), 'utf8').trim();
        assert.ok(tmp.startsWith(inst.rundir + '/jobtmp-0-'), tmp);
        assert.equal(fs.existsSync(tmp), false, `${tmp} removed`);
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('jobs canceled at every moment around their start all end canceled, and no task is left running', async () => {
  await withInstance(async (_i, h) => {
    const marker = `tsflux-cancel-race-${process.pid}`;
    const ids: bigint[] = [];
    // Cancel each job at a different point: before submit is acknowledged, right after, on alloc,
    // on start (exec is making FLUX_JOB_TMPDIR or the task is being launched), while running.
    for (let i = 0; i < 10; i++) {
      const id = await job.submit(h, spec(['sh', '-c', `sleep 300; : ${marker}`]), { waitable: true });
      ids.push(id);
      const when = i % 5;
      if (when === 1) await job.eventWait(h, id, 'alloc');
      else if (when === 2) await job.eventWait(h, id, 'start');
      else if (when === 3) {
        await job.eventWait(h, id, 'start');
        await new Promise((r) => setTimeout(r, 20));
      }
      if (when !== 4) await job.cancel(h, id, `race ${i}`);
    }
    for (const id of ids.filter((_, i) => i % 5 === 4)) await job.cancel(h, id, 'late');
    for (const id of ids) {
      const r = await job.wait(h, id);
      assert.equal(r.success, false);
      assert.match(r.errstr, /^Fatal exception type=cancel (race \d|late)$/);
    }
    const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no task left running');
  });
});
