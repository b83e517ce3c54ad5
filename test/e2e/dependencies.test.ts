/**
 * RFC 26 `after*` dependencies through a real instance with the client API: a dependent job
 * waits in DEPEND until its antecedent starts or ends (checked by the order of events in the
 * two eventlogs, never by time), a dependency that can never be met ends the dependent with a
 * `dependency` exception, and what cannot be honoured is refused at submit with flux-core's
 * texts. Antecedents are held with urgency 0 so that they stay pending until the test lets
 * them go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withInstance } from '../helpers/instance.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { encodeJobId, type JobIdEncoding } from '../../src/job/jobid.js';
import type { EventlogEntry as EventEntry } from '../../src/job/eventlog.js';
import { FluxError } from '../../src/protocol/errno.js';
import type { Flux } from '../../src/client/handle.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const HOLD = 0;

function spec(cmd: string[], deps: string[] = []): JobspecV1 {
  const s = JobspecV1.fromCommand(cmd, { environment: env });
  if (deps.length > 0) {
    s.setattr(
      'system.dependencies',
      deps.map((d) => ({ scheme: d.slice(0, d.indexOf(':')), value: d.slice(d.indexOf(':') + 1) })),
    );
  }
  return s;
}

/** The whole eventlog of a job, once it is inactive (the watch ends with the log). */
async function eventlog(h: Flux, id: bigint): Promise<EventEntry[]> {
  const out: EventEntry[] = [];
  for await (const ev of job.eventWatch(h, id))
    out.push({ timestamp: ev.timestamp, name: ev.name, context: ev.context });
  return out;
}

/** The eventlog as it is now (the job may still be active). */
async function eventsNow(h: Flux, id: bigint): Promise<string[]> {
  const r = await job.lookup(h, id, ['eventlog']);
  return r['eventlog']!.trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as EventEntry).name);
}

function at(log: EventEntry[], name: string): EventEntry {
  const e = log.find((x) => x.name === name);
  assert.ok(e, `no ${name} event in ${log.map((x) => x.name).join(',')}`);
  return e;
}

const f58 = (id: bigint) => encodeJobId(id, 'f58');

function einval(text: string) {
  return (e: unknown) => {
    assert.ok(e instanceof FluxError, `expected FluxError, got ${e}`);
    assert.equal(e.errno, 22, e.message);
    assert.equal(e.message, text);
    return true;
  };
}

test('afterok: the dependent waits in DEPEND and starts only after the antecedent finished', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['true']), { urgency: HOLD });
    const b = await job.submit(h, spec(['true'], [`afterok:${f58(a)}`]), { waitable: true });
    assert.deepEqual(await eventsNow(h, b), ['submit', 'dependency-add', 'validate'], 'held in DEPEND');
    const rec = await job.listId(h, b, ['state', 'dependencies']);
    assert.equal(rec.state, 2, 'DEPEND');
    assert.deepEqual(rec.dependencies, [`after-success=${f58(a)}`]);
    await job.urgency(h, a, 16);
    assert.deepEqual(await job.wait(h, b), { jobid: b, success: true, errstr: '' });
    const la = await eventlog(h, a);
    const lb = await eventlog(h, b);
    assert.deepEqual(
      lb.map((e) => e.name),
      [
        'submit',
        'dependency-add',
        'validate',
        'dependency-remove',
        'depend',
        'priority',
        'alloc',
        'start',
        'finish',
        'release',
        'free',
        'clean',
      ],
    );
    assert.deepEqual(at(lb, 'dependency-add').context, { description: `after-success=${f58(a)}` });
    assert.deepEqual(at(lb, 'dependency-remove').context, { description: `after-success=${f58(a)}` });
    assert.ok(at(lb, 'dependency-remove').timestamp >= at(la, 'clean').timestamp, 'released when A is inactive');
    assert.ok(at(lb, 'start').timestamp >= at(la, 'finish').timestamp, 'B starts after A finished');
    assert.deepEqual((await job.listId(h, b, ['dependencies'])).dependencies, []);
  });
});

test('after: released by the antecedent start; afterany: by its end, whatever it was', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['false']), { urgency: HOLD });
    const b = await job.submit(h, spec(['true'], [`after:${f58(a)}`]), { waitable: true });
    const c = await job.submit(h, spec(['true'], [`afterany:${f58(a)}`]), { waitable: true });
    await job.urgency(h, a, 16);
    assert.equal((await job.wait(h, b)).success, true);
    assert.equal((await job.wait(h, c)).success, true);
    const la = await eventlog(h, a);
    const lb = await eventlog(h, b);
    const lc = await eventlog(h, c);
    assert.deepEqual(at(lb, 'dependency-remove').context, { description: `after-start=${f58(a)}` });
    assert.ok(at(lb, 'dependency-remove').timestamp >= at(la, 'start').timestamp);
    assert.deepEqual(at(lc, 'dependency-remove').context, { description: `after-finish=${f58(a)}` });
    assert.ok(at(lc, 'dependency-remove').timestamp >= at(la, 'clean').timestamp);
  });
});

test('afternotok on a job that then succeeds: a fatal dependency exception on the dependent', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['true']), { urgency: HOLD });
    const b = await job.submit(h, spec(['true'], [`afternotok:${f58(a)}`]), { waitable: true });
    const c = await job.submit(h, spec(['true'], [`afternotok:${a}`]), { waitable: true });
    await job.urgency(h, a, 16);
    const note = `dependency after-failure=${f58(a)} can never be satisfied`;
    assert.deepEqual(await job.wait(h, b), {
      jobid: b,
      success: false,
      errstr: `Fatal exception type=dependency ${note}`,
    });
    const lb = await eventlog(h, b);
    assert.deepEqual(
      lb.map((e) => e.name),
      ['submit', 'dependency-add', 'validate', 'exception', 'clean'],
    );
    assert.deepEqual(at(lb, 'exception').context, { type: 'dependency', severity: 0, note, userid: process.getuid!() });
    assert.equal(
      (await job.wait(h, c)).errstr,
      `Fatal exception type=dependency dependency after-failure=${a} can never be satisfied`,
    );
  });
});

test('afternotok on a job that fails runs the dependent; afterok on it raises', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['false']), { urgency: HOLD });
    const b = await job.submit(h, spec(['true'], [`afternotok:${f58(a)}`]), { waitable: true });
    const c = await job.submit(h, spec(['true'], [`afterok:${f58(a)}`]), { waitable: true });
    await job.urgency(h, a, 16);
    assert.equal((await job.wait(h, b)).success, true);
    assert.equal(
      (await job.wait(h, c)).errstr,
      `Fatal exception type=dependency dependency after-success=${f58(a)} can never be satisfied`,
    );
  });
});

test('afterexcept: met by a job ended by an exception after it ran, not by one that failed', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['sleep', '300']));
    const failing = await job.submit(h, spec(['false']), { urgency: HOLD });
    const b = await job.submit(h, spec(['true'], [`afterexcept:${f58(a)}`]), { waitable: true });
    const c = await job.submit(h, spec(['true'], [`afterexcept:${f58(failing)}`]), { waitable: true });
    await job.eventWait(h, a, 'start');
    await job.cancel(h, a);
    assert.equal((await job.wait(h, b)).success, true);
    await job.urgency(h, failing, 16);
    assert.equal(
      (await job.wait(h, c)).errstr,
      `Fatal exception type=dependency dependency after-except=${f58(failing)} can never be satisfied`,
    );
    // left pending at shutdown: the instance stops with a held job and its dependent
    const held = await job.submit(h, spec(['true']), { urgency: HOLD });
    await job.submit(h, spec(['true'], [`afterok:${f58(held)}`]));
  });
});

test('an antecedent canceled before it ran: afterany is met, the others never can be', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['true']), { urgency: HOLD });
    const any = await job.submit(h, spec(['true'], [`afterany:${f58(a)}`]), { waitable: true });
    const notok = await job.submit(h, spec(['true'], [`afternotok:${f58(a)}`]), { waitable: true });
    await job.cancel(h, a);
    assert.equal((await job.wait(h, any)).success, true);
    assert.equal(
      (await job.wait(h, notok)).errstr,
      `Fatal exception type=dependency dependency after-failure=${f58(a)} job never started`,
    );
  });
});

test('several dependencies: the job leaves DEPEND after the last one is removed', async () => {
  await withInstance(async (_i, h) => {
    const a1 = await job.submit(h, spec(['true']), { urgency: HOLD });
    const a2 = await job.submit(h, spec(['true']), { urgency: HOLD });
    const b = await job.submit(h, spec(['true'], [`afterok:${f58(a1)}`, `afterok:${a2}`]), { waitable: true });
    await job.urgency(h, a1, 16);
    await job.eventWait(h, a1, 'clean');
    await job.eventWait(h, b, 'dependency-remove');
    assert.deepEqual(await eventsNow(h, b), [
      'submit',
      'dependency-add',
      'dependency-add',
      'validate',
      'dependency-remove',
    ]);
    assert.deepEqual((await job.listId(h, b, ['dependencies'])).dependencies, [`after-success=${a2}`]);
    await job.urgency(h, a2, 16);
    assert.equal((await job.wait(h, b)).success, true);
  });
});

test('a dependent canceled while in DEPEND is forgotten by its antecedent', async () => {
  await withInstance(async (_i, h) => {
    const a = await job.submit(h, spec(['true']), { urgency: HOLD, waitable: true });
    const b = await job.submit(h, spec(['true'], [`afterok:${f58(a)}`]));
    await job.cancel(h, b);
    const lb = await eventlog(h, b);
    await job.urgency(h, a, 16);
    assert.equal((await job.wait(h, a)).success, true);
    assert.deepEqual(
      (await eventlog(h, b)).map((e) => e.name),
      lb.map((e) => e.name),
      'nothing was added to the canceled job',
    );
    assert.deepEqual(
      lb.map((e) => e.name),
      ['submit', 'dependency-add', 'validate', 'exception', 'clean'],
    );
  });
});

test('an antecedent that is already inactive settles the dependency at submit', async () => {
  await withInstance(async (_i, h) => {
    const ok = await job.submit(h, spec(['true']), { waitable: true });
    const bad = await job.submit(h, spec(['false']), { waitable: true });
    await job.wait(h, ok);
    await job.wait(h, bad);
    await job.eventWait(h, ok, 'clean');
    await job.eventWait(h, bad, 'clean');
    // any encoding of the id
    for (const enc of ['dec', 'hex', 'dothex', 'kvs', 'f58', 'f58plain', 'words'] as JobIdEncoding[]) {
      const value = encodeJobId(ok, enc);
      const b = await job.submit(h, spec(['true'], [`afterok:${value}`]), { waitable: true });
      assert.equal((await job.wait(h, b)).success, true, enc);
      const lb = await eventlog(h, b);
      assert.deepEqual(
        lb.slice(0, 6).map((e) => e.name),
        ['submit', 'dependency-add', 'dependency-remove', 'validate', 'depend', 'priority'],
      );
      assert.deepEqual(lb[1]!.context, { description: `after-success=${value}` });
    }
    await assert.rejects(
      job.submit(h, spec(['true'], [`afternotok:${f58(ok)}`])),
      einval(`dependency: afternotok: job ${f58(ok)} succeeded`),
    );
    await assert.rejects(
      job.submit(h, spec(['true'], [`afterok:${f58(bad)}`])),
      einval(`dependency: afterok: job ${f58(bad)} failed or was canceled`),
    );
    const b = await job.submit(h, spec(['true'], [`afternotok:${f58(bad)}`, `afterany:${f58(ok)}`]), {
      waitable: true,
    });
    assert.equal((await job.wait(h, b)).success, true);
    const never = await job.submit(h, spec(['true']), { urgency: HOLD });
    await job.cancel(h, never);
    await job.eventWait(h, never, 'clean', { raiseJobException: false });
    await assert.rejects(
      job.submit(h, spec(['true'], [`after:${f58(never)}`])),
      einval(`dependency: after: ${f58(never)} never started`),
    );
  });
});

test('dependencies and queues refused at submit with flux-core texts (EINVAL); nothing of the job is kept', async () => {
  await withInstance(async (_i, h) => {
    const before = (await job.list(h)).length;
    const refused: [object, string][] = [
      [[{ scheme: 'singleton', value: '' }], 'dependency scheme "singleton" not supported'],
      [[{ scheme: 'begin-time', value: '1700000000.0' }], 'dependency scheme "begin-time" not supported'],
      [[{ scheme: 'afterok', value: 'bogus' }], 'dependency: afterok: "bogus" is not a valid jobid'],
      [[{ scheme: 'afterok', value: '' }], 'dependency: afterok: "" is not a valid jobid'],
      [[{ scheme: 'afterok', value: '12345' }], 'dependency: afterok: id 12345: job not found'],
      [[{ scheme: 'afterany', value: 'ƒ2' }], 'dependency: afterany: id ƒ2: job not found'],
    ];
    for (const [deps, text] of refused) {
      const s = spec(['true']);
      s.setattr('system.dependencies', deps);
      await assert.rejects(job.submit(h, s), einval(text), text);
    }
    const q = spec(['true']);
    q.setattr('system.queue', 'batch');
    await assert.rejects(job.submit(h, q), einval("'batch' is not a valid queue"));
    assert.equal((await job.list(h)).length, before, 'no refused job is listed');
    // the broker carries on
    assert.equal((await job.wait(h, await job.submit(h, spec(['true']), { waitable: true }))).success, true);
  });
});
