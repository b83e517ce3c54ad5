/**
 * job-list against the captures: a fake `job-manager.events-journal` replays eventlogs rebuilt
 * from the job records of cli-jobs-a.json, cli-jobs-stats.json and py-job-list-attrs.json (and
 * the seven scenarios of eventlogs/), and the answers must equal what flux-core sent.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { SqliteStore } from '../../../src/broker/store/sqlite.js';
import { JobList } from '../../../src/broker/job-list/list.js';
import type { Method, Request, Service } from '../../../src/broker/service.js';
import { Role } from '../../../src/protocol/types.js';
import type { JournalEntry } from '../../../src/broker/contract.js';
import type { EventEntry } from '../../../src/broker/store/store.js';
import { parseJson } from '../../../src/protocol/json.js';
import { TestRequest, eventlogVector, vector } from '../job-info/harness.js';

const ENODATA = 61;

/** A job-manager that only serves the events journal: a given backlog, the sentinel, then live. */
class FakeJournal implements Service {
  readonly name = 'job-manager';
  consumer: Request | undefined;
  readonly methods: Record<string, Method>;
  constructor(private readonly backlog: JournalEntry[]) {
    this.methods = {
      'events-journal': {
        roles: Role.OWNER,
        handler: (r) => {
          for (const e of this.backlog) r.respond(e);
          r.respond({ id: -1, events: [] });
          this.consumer = r;
        },
      },
    };
  }
  publish(e: JournalEntry): void {
    this.consumer!.respond(e);
  }
}

async function setup(backlog: JournalEntry[]) {
  const store = SqliteStore.open(':memory:', { durable: false });
  const broker = new Broker({ hostname: 'vm', store, owner: 0 });
  const journal = new FakeJournal(backlog);
  broker.register(journal);
  const list = new JobList();
  broker.register(list);
  await broker.start();
  return { broker, store, journal, list };
}

function jobspec(name: string, cwd = '/tmp/fluxcap/cwd') {
  return {
    resources: [{ type: 'slot', count: 1, with: [{ type: 'core', count: 1 }], label: 'task' }],
    tasks: [{ command: [name], slot: 'task', count: { per_slot: 1 } }],
    attributes: { system: { duration: 0, cwd } },
    version: 1,
  };
}

function R(core: string, starttime: number): any {
  return {
    version: 1,
    execution: { R_lite: [{ rank: '0', children: { core } }], starttime, expiration: 0, nodelist: ['vm'] },
  };
}

/** Rebuild a job's journal entry (all events, jobspec, R) from a job-list record. */
function fromRecord(rec: any, base: number): JournalEntry {
  const ev: EventEntry[] = [];
  const e = (timestamp: number, name: string, context?: Record<string, unknown>) =>
    ev.push(context === undefined ? { timestamp, name } : { timestamp, name, context });
  const t_submit = rec.t_submit ?? base;
  e(t_submit, 'submit', { userid: rec.userid ?? 0, urgency: rec.urgency ?? 16, flags: 0, version: 1 });
  e(rec.t_depend ?? t_submit + 0.01, 'validate');
  e(rec.t_priority ?? t_submit + 0.02, 'depend');
  e(rec.t_sched ?? t_submit + 0.02, 'priority', { priority: rec.priority ?? 16 });
  let r: any;
  if (rec.t_run !== undefined) {
    const annotations = rec.annotations ?? { sched: { resource_summary: 'rank0/core0' } };
    e(rec.t_run, 'alloc', { annotations });
    e(rec.t_run + 0.001, 'start');
    const core = /core(\d+)/.exec(annotations.sched.resource_summary)?.[1] ?? '0';
    r = R(core, rec.t_run - 0.005);
  }
  if (rec.state === 64) {
    const t_cleanup = rec.t_cleanup;
    if (rec.result === 2 && rec.exception_type !== undefined) {
      e(t_cleanup, 'exception', {
        type: rec.exception_type,
        severity: rec.exception_severity,
        note: rec.exception_note,
        userid: 0,
      });
      e(t_cleanup + 0.0001, 'finish', { status: rec.waitstatus });
    } else {
      e(t_cleanup, 'finish', { status: rec.waitstatus ?? (rec.result === 1 ? 0 : 256) });
    }
    e(t_cleanup + 0.001, 'release', { ranks: 'all', final: true });
    e(t_cleanup + 0.0011, 'free');
    e(rec.t_inactive ?? t_cleanup + 0.0012, 'clean');
  }
  const entry: JournalEntry = { id: BigInt(rec.id), events: ev, jobspec: jobspec(rec.name) };
  if (r) entry.R = r;
  return entry;
}

/** The b2c payloads of one connection of a capture, and its first request. */
function capture(file: string, conn: number) {
  const cap = vector(file);
  const msgs = cap.messages.filter((m: any) => m.conn === conn);
  const req = msgs.find((m: any) => m.dir === 'c2b').decoded;
  const resps = msgs.filter((m: any) => m.dir === 'b2c').map((m: any) => m.decoded);
  return { req, resps };
}

/** Our answers in the capture's terms: payloads re-parsed from their wire JSON text. */
function wire(r: TestRequest): any[] {
  return r.answers.map((a) =>
    'errnum' in a
      ? { errnum: a.errnum }
      : parseJson(JSON.stringify(a.payload, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))),
  );
}

function expected(resps: any[]): any[] {
  return resps.map((d) => (d.errnum ? { errnum: d.errnum } : JSON.parse(d.payload)));
}

function shuffle<T>(a: T[]): T[] {
  return a
    .map((x, i) => [x, (i * 7919) % 13] as const)
    .sort((p, q) => p[1] - q[1])
    .map((p) => p[0]);
}

describe('job-list vs captures', () => {
  test('py-job-list-attrs.json: list-attrs, and list attrs=["all"] record for record', async () => {
    const { req, resps } = capture('py-job-list-attrs.json', 1);
    const records = resps.slice(1, -1).map((d: any) => JSON.parse(d.payload).jobs[0]);
    const { broker } = await setup(records.map((r: any, i: number) => fromRecord(r, 1000 + i)));
    const la = new TestRequest('job-list.list-attrs', {});
    broker.dispatch(la);
    assert.deepEqual(wire(la), [JSON.parse(resps[0].payload)]);
    assert.equal((la.answers[0] as any).payload.attrs.length, 33);

    const cap = vector('py-job-list-attrs.json');
    const listReq = cap.messages.filter((m: any) => m.dir === 'c2b')[1].decoded;
    const r = new TestRequest('job-list.list', parseJson(listReq.payload), { streaming: true });
    broker.dispatch(r);
    assert.deepEqual(wire(r), expected(resps.slice(1)));
    // key order too (id first, then list-attrs order)
    const ours = (r.answers[0] as any).payload.jobs[0];
    assert.deepEqual(Object.keys(ours), Object.keys(JSON.parse(resps[1].payload).jobs[0]));
    assert.ok(req);
  });

  test('cli-jobs-a.json: `flux jobs -a` stream, same jobs, attrs, key order and end', async () => {
    const { req, resps } = capture('cli-jobs-a.json', 1);
    const records = resps.slice(0, -1).map((d: any) => JSON.parse(d.payload).jobs[0]);
    const backlog = records.map((r: any, i: number) => fromRecord({ ...r, t_inactive: r.t_cleanup + 0.002 }, 1000 + i));
    const { broker } = await setup(shuffle(backlog));
    const r = new TestRequest('job-list.list', parseJson(req.payload), { streaming: true });
    broker.dispatch(r);
    assert.deepEqual(wire(r), expected(resps));
    assert.deepEqual(Object.keys((r.answers[0] as any).payload), ['jobs', 'version']);
    assert.deepEqual(
      Object.keys((r.answers[0] as any).payload.jobs[0]),
      Object.keys(JSON.parse(resps[0].payload).jobs[0]),
    );
    assert.equal(r.lastError?.errnum, ENODATA);
  });

  test('cli-jobs-stats.json: held + running + inactive jobs, and job-stats', async () => {
    const s = capture('cli-jobs-stats.json', 1);
    const l = capture('cli-jobs-stats.json', 3);
    const records = l.resps.slice(0, -1).map((d: any) => JSON.parse(d.payload).jobs[0]);
    const backlog = records.map((r: any, i: number) => {
      const rec = { ...r };
      if (rec.state === 64) {
        rec.t_inactive = rec.t_cleanup + 0.002;
        if (rec.result === 2)
          Object.assign(rec, {
            exception_type: 'exec',
            exception_severity: 0,
            exception_note: 'start failed',
            waitstatus: 32512,
          });
      }
      return fromRecord(rec, 1795624700 + i);
    });
    const { broker } = await setup(shuffle(backlog));
    const r = new TestRequest('job-list.list', parseJson(l.req.payload), { streaming: true });
    broker.dispatch(r);
    assert.deepEqual(wire(r), expected(l.resps));
    const st = new TestRequest('job-list.job-stats', parseJson(s.req.payload));
    broker.dispatch(st);
    assert.deepEqual(wire(st), expected(s.resps));
  });

  test('the seven eventlog scenarios: result, waitstatus, exception, stats and order', async () => {
    const summary = vector('eventlogs/summary.json');
    const names = ['success', 'exit1', 'nosuchcmd', 'cancel-pending', 'cancel-running', 'timelimit', 'signal-kill9'];
    const backlog: JournalEntry[] = names.map((n, i) => {
      const events = eventlogVector(`${n}.eventlog`)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const alloc = events.find((e: any) => e.name === 'alloc');
      const cmd = summary[n].command.split(' ').pop();
      const e: JournalEntry = { id: BigInt(100 + i), events, jobspec: jobspec(cmd) };
      if (alloc) e.R = R('0', alloc.timestamp);
      return e;
    });
    const { broker } = await setup(shuffle(backlog));
    const r = new TestRequest('job-list.list', { max_entries: 0, attrs: ['all'] });
    broker.dispatch(r);
    const jobs: any[] = (r.answers[0] as any).payload.jobs;
    const byId = new Map(jobs.map((j) => [Number(j.id) - 100, j]));
    const resultName: Record<number, string> = { 1: 'COMPLETED', 2: 'FAILED', 4: 'CANCELED', 8: 'TIMEOUT' };
    for (const [i, n] of names.entries()) {
      const j = byId.get(i)!;
      const [, result] = summary[n].flux_jobs_line.split(' ');
      assert.equal(resultName[j.result], result, n);
      assert.equal(j.state, 64);
      const finish = eventlogVector(`${n}.eventlog`)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((e: any) => e.name === 'finish');
      assert.equal(j.waitstatus, finish?.context.status, n);
      assert.equal(j.success, n === 'success', n);
    }
    assert.deepEqual(
      [byId.get(5)!.exception_type, byId.get(5)!.exception_severity, byId.get(5)!.exception_note],
      ['timeout', 0, 'resource allocation expired'],
    );
    const pend = byId.get(3)!;
    assert.equal(pend.t_run, undefined);
    assert.equal(pend.nodelist, undefined);
    assert.equal(pend.priority, 0);
    assert.equal(pend.exception_type, 'cancel');
    // inactive newest first
    const t = jobs.map((j) => j.t_inactive);
    assert.deepEqual(
      t,
      [...t].sort((a, b) => b - a),
    );
    const st = new TestRequest('job-list.job-stats', {});
    broker.dispatch(st);
    const p = (st.answers[0] as any).payload;
    assert.deepEqual(p.job_states, { depend: 0, priority: 0, sched: 0, run: 0, cleanup: 0, inactive: 7, total: 7 });
    assert.deepEqual([p.successful, p.failed, p.canceled, p.timeout], [1, 3, 2, 1]);
  });

  test('live events after the backlog; list-id waits for a state', async () => {
    const { broker, journal, store } = await setup([]);
    await store.createJobs([{ id: 5n, userid: 0, jobspec: '{}', eventlog: '' }]);
    const w = new TestRequest('job-list.list-id', { id: 5, attrs: ['state', 'name'], state: 16 });
    broker.dispatch(w);
    assert.equal(w.answers.length, 0, 'known to the store, not yet to job-list: waits');
    const t = 1000;
    journal.publish({
      id: 5n,
      events: [{ timestamp: t, name: 'submit', context: { userid: 0, urgency: 16, flags: 0, version: 1 } }],
      jobspec: jobspec('hostname'),
    });
    journal.publish({ id: 5n, events: [{ timestamp: t + 1, name: 'validate' }] });
    journal.publish({ id: 5n, events: [{ timestamp: t + 2, name: 'depend' }] });
    journal.publish({ id: 5n, events: [{ timestamp: t + 3, name: 'priority', context: { priority: 16 } }] });
    assert.equal(w.answers.length, 0);
    journal.publish({ id: 5n, events: [{ timestamp: t + 4, name: 'alloc' }], R: R('0', t + 4) });
    assert.deepEqual(w.answers, [{ payload: { job: { id: 5n, state: 16, name: 'hostname' } } }]);
  });
});
