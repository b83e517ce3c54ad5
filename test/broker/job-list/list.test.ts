/**
 * job-list with the real JobManager: fake `sched` and `job-exec` services (registered in this
 * test) grant resources and report start / finish when the test says so.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { SqliteStore } from '../../../src/broker/store/sqlite.js';
import { JobManager } from '../../../src/broker/job-manager/manager.js';
import { JobList } from '../../../src/broker/job-list/list.js';
import { JobInfoService } from '../../../src/broker/job-info/info.js';
import type { Method, Request, Service } from '../../../src/broker/service.js';
import type { Rv1 } from '../../../src/job/rv1.js';
import type { SubmitJob } from '../../../src/broker/contract.js';
import { Errno } from '../../../src/protocol/errno.js';
import { encodeEvent } from '../../../src/job/eventlog.js';
import { TestRequest, turn, vector, type ReqOpts } from '../job-info/harness.js';

const { ENOENT, EPROTO, EINVAL, ENODATA, ECANCELED } = Errno;

/** A method table of internal methods (the in-process protocols these fakes stand in for). */
function internal(handlers: Record<string, (r: Request) => void>): Record<string, Method> {
  return Object.fromEntries(Object.entries(handlers).map(([k, handler]) => [k, { roles: 'internal', handler }]));
}

class FakeSched implements Service {
  readonly name = 'sched';
  readonly waiting = new Map<bigint, Request>();
  private core = 0;
  readonly methods: Record<string, Method> = internal({
    alloc: (r) => void this.waiting.set(r.payload.id, r),
    cancel: (r) => {
      this.waiting.get(r.payload.id)?.error(ECANCELED);
      this.waiting.delete(r.payload.id);
      r.respond({});
    },
    free: (r) => r.respond({}),
    priority: (r) => r.respond({}),
  });
  grant(id: bigint, host = 'vm'): void {
    const r = this.waiting.get(id);
    assert.ok(r, `no alloc pending for ${id}`);
    this.waiting.delete(id);
    const R: Rv1 = {
      version: 1,
      execution: {
        R_lite: [{ rank: '0', children: { core: String(this.core++ % 2) } }],
        nodelist: [host],
        starttime: Date.now() / 1000,
        expiration: 0,
      },
    };
    r.respond({ R });
  }
}

class FakeExec implements Service {
  readonly name = 'job-exec';
  readonly running = new Map<bigint, Request>();
  readonly methods: Record<string, Method> = internal({
    start: (r) => {
      this.running.set(r.payload.id, r);
      r.respond({ type: 'start' });
    },
    kill: (r) => {
      r.respond({});
      if (this.running.has(r.payload.id)) this.finish(r.payload.id, r.payload.signum);
    },
  });
  finish(id: bigint, status: number): void {
    const r = this.running.get(id)!;
    this.running.delete(id);
    r.respond({ type: 'finish', status });
    r.respond({ type: 'release', ranks: 'all', final: true });
    r.error(ENODATA);
  }
}

function jobspec(cmd: string[], sys: Record<string, unknown> = {}) {
  return {
    resources: [{ type: 'slot', count: 1, with: [{ type: 'core', count: 1 }], label: 'task' }],
    tasks: [{ command: cmd, slot: 'task', count: { per_slot: 1 } }],
    attributes: { system: { duration: 0, cwd: '/home/u', environment: { HOME: '/home/u' }, ...sys } },
    version: 1,
  };
}

async function setup() {
  const store = SqliteStore.open(':memory:', { durable: false });
  const broker = new Broker({ hostname: 'vm', store, owner: 0 });
  const sched = new FakeSched();
  const exec = new FakeExec();
  const manager = new JobManager({ queues: ['batch'] });
  const list = new JobList();
  broker.register(sched);
  broker.register(exec);
  broker.register(manager);
  broker.register(new JobInfoService());
  broker.register(list);
  await broker.start();
  let next = 1000n;
  /** Submit as ingest does: store the job, then hand it to the manager. */
  async function submit(
    cmd: string[],
    o: { urgency?: number; userid?: number; sys?: Record<string, unknown> } = {},
  ): Promise<bigint> {
    const id = next++;
    const userid = o.userid ?? 0;
    const urgency = o.urgency ?? 16;
    const js = jobspec(cmd, o.sys);
    const t_submit = Date.now() / 1000;
    await store.createJobs([
      {
        id,
        userid,
        jobspec: JSON.stringify(js),
        eventlog: encodeEvent({
          timestamp: t_submit,
          name: 'submit',
          context: { userid, urgency, flags: 0, version: 1 },
        }),
      },
    ]);
    const sj: SubmitJob = {
      id,
      userid,
      urgency,
      flags: 0,
      t_submit,
      jobspec: js,
      request: { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 },
    };
    await broker.rpc('job-manager.submit', { jobs: [sj] });
    return id;
  }
  async function run(id: bigint): Promise<void> {
    sched.grant(id);
    for (let i = 0; i < 3; i++) await turn();
  }
  async function finish(id: bigint, status: number): Promise<void> {
    exec.finish(id, status);
    for (let i = 0; i < 3; i++) await turn();
  }
  return { broker, store, sched, exec, manager, list, submit, run, finish };
}

function rpc(broker: Broker, topic: string, payload: object, opts: ReqOpts = {}): TestRequest {
  const r = new TestRequest(topic, payload, opts);
  broker.dispatch(r);
  return r;
}

function jobs(r: TestRequest): any[] {
  if (r.streaming) return r.answers.filter((a) => 'payload' in a).map((a: any) => a.payload.jobs[0]);
  return (r.answers[0] as any).payload.jobs;
}

function list(broker: Broker, payload: object, streaming = false): TestRequest {
  return rpc(broker, 'job-list.list', { max_entries: 0, attrs: [], ...payload }, { streaming });
}

/** A fixture with jobs in every kind of state. */
async function population() {
  const s = await setup();
  const A = await s.submit(['true']);
  await s.run(A);
  await s.finish(A, 0); // COMPLETED
  const B = await s.submit(['/bin/false']);
  await s.run(B);
  await s.finish(B, 256); // FAILED
  const C = await s.submit(['sleep', '100']);
  await s.broker.rpc('job-manager.raise', { id: C, type: 'cancel', severity: 0, note: '' });
  for (let i = 0; i < 3; i++) await turn(); // CANCELED while pending
  const D = await s.submit(['sleep', '1'], { sys: { job: { name: 'dee' } } });
  await s.run(D);
  const D2 = await s.submit(['sleep', '2'], { userid: 1000 });
  await s.run(D2);
  const E = await s.submit(['e'], { userid: 1000, sys: { queue: 'batch' } });
  const F = await s.submit(['f'], { urgency: 0 });
  const G = await s.submit(['g'], { urgency: 31 });
  return { ...s, A, B, C, D, D2, E, F, G };
}

describe('job-list with the job manager', () => {
  test('order: pending by priority, running newest first, inactive newest first', async () => {
    const p = await population();
    const r = list(p.broker, { attrs: ['state', 'priority', 'name'] });
    assert.deepEqual(
      jobs(r).map((j) => j.id),
      [p.G, p.E, p.F, p.D2, p.D, p.C, p.B, p.A],
    );
    const byId = new Map(jobs(r).map((j) => [j.id, j]));
    assert.deepEqual(byId.get(p.G), { id: p.G, state: 8, priority: 4294967295, name: 'g' });
    assert.deepEqual(byId.get(p.F), { id: p.F, state: 8, priority: 0, name: 'f' });
    assert.equal(byId.get(p.B).name, 'false');
    assert.equal(byId.get(p.D).name, 'dee');
  });

  test('streaming: one job per response, version 1 on the first, then ENODATA', async () => {
    const p = await population();
    const r = list(p.broker, { attrs: ['state'] }, true);
    assert.equal(r.answers.length, 9);
    assert.deepEqual((r.answers[0] as any).payload, { jobs: [{ id: p.G, state: 8 }], version: 1 });
    assert.deepEqual((r.answers[1] as any).payload, { jobs: [{ id: p.E, state: 8 }] });
    assert.equal(r.lastError?.errnum, ENODATA);
    const none = list(p.broker, { constraint: { name: ['nosuch'] } }, true);
    assert.deepEqual(none.summary(), [`E${ENODATA}`]);
  });

  test('attrs: only the requested ones that are set, in request order; all; unknown → EINVAL', async () => {
    const p = await population();
    const r = list(p.broker, { attrs: ['t_run', 'result', 'userid', 'state'] });
    const byId = new Map(jobs(r).map((j) => [j.id, j]));
    assert.deepEqual(Object.keys(byId.get(p.E)), ['id', 'userid', 'state']);
    assert.deepEqual(Object.keys(byId.get(p.D)), ['id', 't_run', 'userid', 'state']);
    assert.deepEqual(Object.keys(byId.get(p.A)), ['id', 't_run', 'result', 'userid', 'state']);
    assert.deepEqual(Object.keys(byId.get(p.C)), ['id', 'result', 'userid', 'state']);

    const all = new Map(jobs(list(p.broker, { attrs: ['all'] })).map((j) => [j.id, j]));
    const a = all.get(p.A);
    const attrs = vector('py-job-list-attrs.json').stdout.split('\n')[0];
    const order: string[] = JSON.parse(attrs).attrs;
    const keys = Object.keys(a);
    assert.deepEqual(keys, ['id', ...order.filter((k) => k in a)]);
    assert.deepEqual(keys, [
      'id',
      'userid',
      'urgency',
      'priority',
      't_submit',
      't_depend',
      't_priority',
      't_sched',
      't_run',
      't_cleanup',
      't_inactive',
      'state',
      'name',
      'cwd',
      'ntasks',
      'ncores',
      'duration',
      'nnodes',
      'ranks',
      'nodelist',
      'success',
      'exception_occurred',
      'result',
      'expiration',
      'waitstatus',
    ]);
    assert.deepEqual(
      [a.success, a.result, a.waitstatus, a.nodelist, a.ranks, a.ncores, a.ntasks, a.nnodes, a.cwd, a.duration],
      [true, 1, 0, 'vm', '0', 1, 1, 1, '/home/u', 0],
    );
    const c = all.get(p.C);
    assert.deepEqual(
      [c.result, c.exception_type, c.exception_severity, c.exception_note, c.success],
      [4, 'cancel', 0, '', false],
    );
    assert.equal(all.get(p.E).queue, 'batch');
    assert.equal(all.get(p.B).result, 2);
    assert.equal(all.get(p.B).waitstatus, 256);

    const bad = list(p.broker, { attrs: ['state', 'bogus'] });
    assert.deepEqual(bad.lastError, { errnum: EINVAL, text: 'bogus is not a valid attribute' });
    assert.equal(list(p.broker, { attrs: [1] }).lastError?.errnum, EINVAL);
  });

  test('constraints: states, results, userid, name, queue, and/or/not, timestamps, hostlist', async () => {
    const p = await population();
    const ids = (c: object, more: object = {}) => jobs(list(p.broker, { constraint: c, ...more })).map((j) => j.id);
    assert.deepEqual(ids({ states: [14] }), [p.G, p.E, p.F]);
    assert.deepEqual(ids({ states: ['running'] }), [p.D2, p.D]);
    assert.deepEqual(ids({ states: ['inactive'] }), [p.C, p.B, p.A]);
    assert.deepEqual(ids({ results: ['CD', 'canceled'] }), [p.C, p.A]);
    assert.deepEqual(ids({ results: [2] }), [p.B]);
    assert.deepEqual(ids({ userid: [1000] }), [p.E, p.D2]);
    assert.equal(ids({ userid: [0xffffffff] }).length, 8);
    assert.equal(ids({ userid: [-1] }).length, 8);
    assert.deepEqual(ids({ and: [{ userid: [0] }, { states: [126] }] }), [p.G, p.F, p.D, p.C, p.B, p.A]);
    assert.deepEqual(ids({ or: [{ name: ['g'] }, { queue: ['batch'] }] }), [p.G, p.E]);
    assert.deepEqual(ids({ not: [{ states: ['pending', 'running'] }] }), [p.C, p.B, p.A]);
    assert.deepEqual(ids({ and: [] }).length, 8);
    assert.deepEqual(ids({ or: [] }).length, 8);
    assert.deepEqual(ids({}).length, 8);
    assert.deepEqual(ids({ hostlist: ['vm'] }), [p.D2, p.D, p.B, p.A]);
    assert.deepEqual(ids({ hostlist: ['other[1-3]'] }), []);
    assert.deepEqual(ids({ ranks: ['0'] }), [p.D2, p.D, p.B, p.A]);
    const all = new Map(jobs(list(p.broker, { attrs: ['t_inactive', 't_submit'] })).map((j) => [j.id, j]));
    const tB = all.get(p.B).t_inactive;
    assert.deepEqual(ids({ t_inactive: [`>=${tB}`] }), [p.C, p.B]);
    assert.deepEqual(ids({ t_inactive: [`<${tB}`] }), [p.A]);
    assert.deepEqual(ids({ states: ['inactive'] }, { since: tB }), [p.C]);
    assert.deepEqual(ids({}, { max_entries: 3 }), [p.G, p.E, p.F]);
    assert.deepEqual(ids({ t_submit: ['>0'] }, { max_entries: 2 }).length, 2);
    // the C flux_job_list form
    assert.deepEqual(ids({ and: [{ userid: [1000] }, { states: [8] }] }), [p.E]);
    // legacy (pre-constraint) request form
    assert.deepEqual(
      jobs(rpc(p.broker, 'job-list.list', { max_entries: 0, attrs: [], userid: 1000, states: 16, results: 0 })).map(
        (j) => j.id,
      ),
      [p.D2],
    );
  });

  test('malformed requests: EPROTO "invalid payload: …"', async () => {
    const p = await population();
    const err = (payload: object) => rpc(p.broker, 'job-list.list', payload).lastError;
    const cases: [object, string][] = [
      [{ attrs: [] }, 'invalid payload: max_entries must be an integer'],
      [{ max_entries: -1, attrs: [] }, 'invalid payload: max_entries < 0 not allowed'],
      [{ max_entries: 0 }, 'invalid payload: attrs must be an array'],
      [{ max_entries: 0, attrs: [], since: -1 }, 'invalid payload: since < 0.0 not allowed'],
      [
        { max_entries: 0, attrs: [], constraint: [] },
        'invalid payload: constraint object invalid: constraint must be JSON object',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { states: [1], name: ['x'] } },
        'invalid payload: constraint object invalid: constraint must only contain 1 element',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { foo: [] } },
        'invalid payload: constraint object invalid: unknown constraint operator: foo',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { states: 'run' } },
        'invalid payload: constraint object invalid: operator states values not an array',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { states: ['bogus'] } },
        "invalid payload: constraint object invalid: invalid states value 'bogus' specified",
      ],
      [
        { max_entries: 0, attrs: [], constraint: { states: [128] } },
        "invalid payload: constraint object invalid: invalid states value '80h' specified",
      ],
      [
        { max_entries: 0, attrs: [], constraint: { results: [{}] } },
        'invalid payload: constraint object invalid: results value invalid type',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { userid: ['root'] } },
        'invalid payload: constraint object invalid: userid value must be an integer',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { name: [1] } },
        'invalid payload: constraint object invalid: name value must be a string',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { t_run: ['5'] } },
        'invalid payload: constraint object invalid: timestamp comparison operator not specified',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { t_run: ['>x'] } },
        'invalid payload: constraint object invalid: Invalid timestamp value specified',
      ],
      [
        { max_entries: 0, attrs: [], constraint: { and: [{ or: [{ hostlist: ['a[1-'] }] }] } },
        'invalid payload: constraint object invalid: host value not in valid Hostlist format',
      ],
    ];
    for (const [payload, text] of cases)
      assert.deepEqual(err(payload), { errnum: EPROTO, text }, JSON.stringify(payload));
  });

  test('list-attrs: the 32 names of py-job-list-attrs.json then "all"', async () => {
    const { broker } = await setup();
    const r = rpc(broker, 'job-list.list-attrs', {});
    const want = JSON.parse(vector('py-job-list-attrs.json').messages[1].decoded.payload);
    assert.deepEqual((r.answers[0] as any).payload, want);
  });

  test('job-stats counts states and results (a held job is sched)', async () => {
    const p = await population();
    const r = rpc(p.broker, 'job-list.job-stats', {});
    assert.deepEqual((r.answers[0] as any).payload, {
      job_states: { depend: 0, priority: 0, sched: 3, run: 2, cleanup: 0, inactive: 3, total: 8 },
      successful: 1,
      failed: 1,
      canceled: 1,
      timeout: 0,
      inactive_purged: 0,
      queues: [
        {
          job_states: { depend: 0, priority: 0, sched: 1, run: 0, cleanup: 0, inactive: 0, total: 1 },
          successful: 0,
          failed: 0,
          canceled: 0,
          timeout: 0,
          inactive_purged: 0,
          name: 'batch',
        },
      ],
    });
    // a timeout and a canceled running job
    await p.broker.rpc('job-manager.raise', {
      id: p.D,
      type: 'timeout',
      severity: 0,
      note: 'resource allocation expired',
    });
    await p.broker.rpc('job-manager.raise', { id: p.D2, type: 'cancel', severity: 0, note: '' });
    for (let i = 0; i < 5; i++) await turn();
    const r2 = rpc(p.broker, 'job-list.job-stats', {});
    const s = (r2.answers[0] as any).payload;
    assert.deepEqual(s.job_states, { depend: 0, priority: 0, sched: 3, run: 0, cleanup: 0, inactive: 5, total: 8 });
    assert.deepEqual([s.successful, s.failed, s.canceled, s.timeout], [1, 1, 2, 1]);
    const d = jobs(
      list(p.broker, { attrs: ['result', 'waitstatus', 'exception_type'], constraint: { results: ['timeout'] } }),
    );
    assert.deepEqual(d, [{ id: p.D, result: 8, waitstatus: 15, exception_type: 'timeout' }]);
  });

  test('list-id: known job, unknown id, waiting for a state, inactive answers any state, disconnect', async () => {
    const p = await population();
    const r = rpc(p.broker, 'job-list.list-id', { id: Number(p.A), attrs: ['queue'] });
    assert.deepEqual(r.answers, [{ payload: { job: { id: p.A } } }]);
    const u = rpc(p.broker, 'job-list.list-id', { id: 123456789, attrs: [] });
    assert.equal(u.lastError?.errnum, ENOENT);
    assert.equal(rpc(p.broker, 'job-list.list-id', { id: p.A, attrs: ['nope'] }).lastError?.errnum, EINVAL);
    assert.equal(rpc(p.broker, 'job-list.list-id', { id: p.A, attrs: [], state: 128 }).lastError?.errnum, EPROTO);
    assert.equal(rpc(p.broker, 'job-list.list-id', { attrs: [] }).lastError?.errnum, EPROTO);

    // E is pending: wait for RUN
    const w = rpc(p.broker, 'job-list.list-id', { id: p.E, attrs: ['state'], state: 16 });
    const gone = rpc(p.broker, 'job-list.list-id', { id: p.E, attrs: ['state'], state: 16 }, { conn: 'c9' });
    assert.equal(w.answers.length, 0);
    p.broker.disconnect('c9'); // c9 never used job-list through dispatch routing... drop directly too
    p.list.disconnect('c9');
    await p.run(p.E);
    assert.deepEqual(w.answers, [{ payload: { job: { id: p.E, state: 16 } } }]);
    assert.equal(gone.answers.length, 0);

    // F is held: wait for RUN, but it is canceled → answered once inactive
    const wf = rpc(p.broker, 'job-list.list-id', { id: p.F, attrs: ['state', 'result'], state: 16 });
    await p.broker.rpc('job-manager.raise', { id: p.F, type: 'cancel', severity: 0 });
    for (let i = 0; i < 3; i++) await turn();
    assert.deepEqual(wf.answers, [{ payload: { job: { id: p.F, state: 64, result: 4 } } }]);

    // an id the store knows but the journal has not delivered yet waits for it
    await p.store.createJobs([{ id: 9999n, userid: 0, jobspec: '{}', eventlog: '' }]);
    const early = rpc(p.broker, 'job-list.list-id', { id: 9999, attrs: ['state'] });
    assert.equal(early.answers.length, 0);
  });

  test('a second JobList built from the backlog sees the same jobs', async () => {
    const p = await population();
    const second = new JobList();
    second.start(p.broker);
    const want = list(p.broker, { attrs: ['all'] });
    const r = new TestRequest('job-list.list', { max_entries: 0, attrs: ['all'] });
    second.methods.list!.handler(r);
    assert.deepEqual(r.answers, want.answers);
    const s1 = rpc(p.broker, 'job-list.job-stats', {});
    const s2 = new TestRequest('job-list.job-stats', {});
    second.methods['job-stats']!.handler(s2);
    assert.deepEqual(s2.answers, s1.answers);
  });

  test('eventlog-watch and list together: `flux run` style', async () => {
    const s = await setup();
    const id = await s.submit(['hostname']);
    const w = rpc(s.broker, 'job-info.eventlog-watch', { id, path: 'eventlog', flags: 0 }, { streaming: true });
    const q = rpc(s.broker, 'job-list.list-id', { id, attrs: ['queue'] });
    assert.deepEqual(q.answers, [{ payload: { job: { id } } }]);
    await s.run(id);
    await s.finish(id, 0);
    assert.deepEqual(w.summary(), [
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
      `E${ENODATA}`,
    ]);
  });

  test('scale: 20,000 jobs, half of them inactive: whole lists and bounded ones are right', async () => {
    const s = await setup();
    const N = 20000;
    const js = jobspec(['true']);
    const jsText = JSON.stringify(js);
    const batch: SubmitJob[] = [];
    const recs = [];
    for (let i = 0; i < N; i++) {
      const id = BigInt(100000 + i);
      const t_submit = 1000 + i / 1000;
      recs.push({
        id,
        userid: 0,
        jobspec: jsText,
        eventlog: encodeEvent({
          timestamp: t_submit,
          name: 'submit',
          context: { userid: 0, urgency: 16, flags: 0, version: 1 },
        }),
      });
      batch.push({
        id,
        userid: 0,
        urgency: 16,
        flags: 0,
        t_submit,
        jobspec: js,
        request: { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 },
      });
    }
    await s.store.createJobs(recs);
    await s.broker.rpc('job-manager.submit', { jobs: batch });
    // run and finish half of them
    for (let i = 0; i < N / 2; i++) s.sched.grant(BigInt(100000 + i));
    for (let i = 0; i < 5; i++) await turn();
    for (let i = 0; i < N / 2; i++) s.exec.finish(BigInt(100000 + i), 0);
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(s.list.size, N);
    const r = list(s.broker, {
      attrs: ['state', 'name', 't_inactive'],
      constraint: { states: ['pending', 'inactive'] },
    });
    const r2 = list(s.broker, { max_entries: 100, attrs: ['state'], constraint: { states: ['inactive'] } });
    assert.equal(jobs(r).length, N);
    assert.equal(jobs(r).filter((j) => j.state === 64).length, N / 2);
    assert.equal(jobs(r2).length, 100);
    assert.ok(jobs(r2).every((j) => j.state === 64));
  });
});
