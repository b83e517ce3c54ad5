/**
 * A restart on many jobs does not stop the broker: the job manager replays the store a slice at
 * a time, the broker answers meanwhile, and requests for the job services wait until they are
 * up (as a flux-core module's requests wait for its reactor). The journal's backlog is sent a
 * page at a time too, and loses or repeats no event that happens while it is sent. Driven
 * through a real Broker, the real job manager and a real store; no assertion on time: the order
 * of answers is what the event loop's turns make it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { JobManager } from '../../../src/broker/job-manager/manager.js';
import { JobList } from '../../../src/broker/job-list/list.js';
import { SqliteStore } from '../../../src/broker/store/sqlite.js';
import type { Service } from '../../../src/broker/service.js';
import type { JournalEntry } from '../../../src/broker/contract.js';
import { JobspecV1 } from '../../../src/job/jobspec.js';
import { TestRequest } from '../job-info/harness.js';

const turn = () => new Promise((r) => setImmediate(r));

/**
 * A store holding `n` held jobs (urgency 0, in SCHED), ids 1..n, as a broker left them, and
 * `finished` jobs that ran and completed after them.
 */
async function storeOfHeldJobs(n: number, finished = 0): Promise<SqliteStore> {
  const store = SqliteStore.open(':memory:', { durable: false });
  const jobspec = JobspecV1.fromCommand(['true']).dumps();
  const eventlog =
    '{"timestamp":1.0,"name":"submit","context":{"userid":1000,"urgency":0,"flags":0,"version":1}}\n' +
    '{"timestamp":1.5,"name":"validate"}\n{"timestamp":1.5,"name":"depend"}\n' +
    '{"timestamp":1.5,"name":"priority","context":{"priority":0}}\n';
  const done =
    '{"timestamp":2.0,"name":"submit","context":{"userid":1000,"urgency":16,"flags":0,"version":1}}\n' +
    '{"timestamp":2.5,"name":"validate"}\n{"timestamp":2.5,"name":"depend"}\n' +
    '{"timestamp":2.5,"name":"priority","context":{"priority":16}}\n{"timestamp":3.0,"name":"alloc"}\n' +
    '{"timestamp":3.5,"name":"start"}\n{"timestamp":4.0,"name":"finish","context":{"status":0}}\n' +
    '{"timestamp":4.5,"name":"release","context":{"ranks":"all","final":true}}\n' +
    '{"timestamp":4.5,"name":"free"}\n{"timestamp":5.0,"name":"clean"}\n';
  const jobs = Array.from({ length: n + finished }, (_, i) => ({
    id: BigInt(i + 1),
    userid: 1000,
    jobspec,
    eventlog: i < n ? eventlog : done,
  }));
  for (let i = 0; i < jobs.length; i += 1000) await store.createJobs(jobs.slice(i, i + 1000));
  return store;
}

test('requests for a service still starting wait for it; the broker answers meanwhile', async () => {
  const broker = new Broker({ hostname: 'vm' });
  let up!: () => void;
  const slow: Service = {
    name: 'slow',
    methods: { hello: { roles: 'internal', handler: (r) => r.respond({ hello: 'world' }) } },
    start: () => new Promise<void>((resolve) => (up = resolve)),
  };
  broker.register(slow);
  broker.register({ name: 'broker', methods: {} });
  const order: string[] = [];
  const started = broker.start().then(() => order.push('started'));
  await turn();
  const hello = broker.rpc('slow.hello').then((r: { hello: string }) => order.push(`slow.hello ${r.hello}`));
  await broker.rpc('broker.ping').then(() => order.push('broker.ping'));
  await turn();
  assert.deepEqual(order, ['broker.ping']);
  up();
  await Promise.all([hello, started]);
  assert.deepEqual(order, ['broker.ping', 'slow.hello world', 'started']);
  await broker.stop();
});

test('a method that takes requests while its service starts gets them; the others wait', async () => {
  const broker = new Broker({ hostname: 'vm' });
  let up!: () => void;
  const slow: Service = {
    name: 'slow',
    methods: {
      early: {
        roles: 'internal',
        handler: (r) => r.respond({ early: r.payload.n }),
        whileStarting: (r) => r.payload.n !== 2,
      },
      late: { roles: 'internal', handler: (r) => r.respond({}) },
    },
    start: () => new Promise<void>((resolve) => (up = resolve)),
  };
  const order: string[] = [];
  const ask = (topic: string, n = 0) => broker.rpc(topic, { n }).then(() => order.push(`${topic} ${n}`));
  // a service started first asks before `slow` has begun to start: its request waits for that
  const first: Service = { name: 'first', methods: {}, start: () => void ask('slow.early', 1) };
  broker.register(first);
  broker.register(slow);
  const started = broker.start().then(() => order.push('started'));
  const asked = [ask('slow.late'), ask('slow.early', 2), ask('slow.early', 3)];
  await turn();
  assert.deepEqual(order, ['slow.early 1', 'slow.early 3']);
  up();
  await Promise.all([...asked, started]);
  assert.deepEqual(order, ['slow.early 1', 'slow.early 3', 'slow.late 0', 'slow.early 2', 'started']);
  await broker.stop();
});

test('a restart on many jobs lets the broker answer a ping before the job manager is back', async () => {
  const n = 20_000; // ten slices of the restart
  const broker = new Broker({ hostname: 'vm', store: await storeOfHeldJobs(n) });
  broker.register(new JobManager());
  broker.register({ name: 'broker', methods: {} });
  const order: string[] = [];
  const started = broker.start().then(() => order.push('started'));
  await turn(); // the restart has begun, and yields after its first slice
  await turn();
  const stats = broker.rpc('job-manager.stats-get').then((s: { active_jobs: number }) => {
    order.push('job-manager.stats-get');
    return s;
  });
  await broker.rpc('broker.ping').then(() => order.push('broker.ping'));
  assert.deepEqual(order, ['broker.ping']); // the job manager is still restarting
  assert.equal((await stats).active_jobs, n); // and answers once every job is back
  await started;
  assert.deepEqual(order, ['broker.ping', 'job-manager.stats-get', 'started']);
  const log = broker.store.get(1n, 'eventlog')!.trim().split('\n');
  assert.deepEqual(
    log.slice(-2).map((l) => JSON.parse(l).name),
    ['flux-restart', 'priority'],
  );
  await broker.stop();
  await broker.store.close();
});

test("the journal's backlog is sent a page at a time, losing and repeating no event posted meanwhile", async () => {
  const n = 5000; // the backlog takes more than one turn
  const broker = new Broker({ hostname: 'vm', store: await storeOfHeldJobs(n) });
  broker.register(new JobManager());
  await broker.start();
  const got: JournalEntry[] = [];
  void broker.rpc('job-manager.events-journal', { full: true }, { streaming: true, onResponse: (e) => got.push(e) });
  // the first turn's pages are sent at once; the first job's entry is read, the last's is not
  const sentinel = () => got.findIndex((e) => Number(e.id) === -1);
  assert.equal(sentinel(), -1);
  assert.ok(got.some((e) => e.id === 1n));
  assert.ok(!got.some((e) => e.id === BigInt(n)));
  await broker.rpc('job-manager.urgency', { id: 1n, urgency: 0 });
  await broker.rpc('job-manager.urgency', { id: BigInt(n), urgency: 0 });
  while (sentinel() < 0) await turn();
  const names = (id: bigint) => got.filter((e) => e.id === id).flatMap((e) => e.events.map((x) => x.name));
  const at = (id: bigint) => got.flatMap((e, i) => (e.id === id ? [i] : []));
  // every job once in the backlog
  assert.equal(new Set(got.slice(0, sentinel()).map((e) => e.id)).size, n);
  assert.equal(sentinel(), n);
  // the first job: its new events come live, after the sentinel
  assert.deepEqual(names(1n).slice(-4), ['flux-restart', 'priority', 'urgency', 'priority']);
  assert.ok(at(1n)[1]! > sentinel());
  // the last job: read after its urgency changed, its backlog entry has the new events, once
  assert.deepEqual(at(BigInt(n)).length, 1);
  assert.deepEqual(names(BigInt(n)).slice(-4), ['flux-restart', 'priority', 'urgency', 'priority']);
  await broker.stop();
  await broker.store.close();
});

test("job-list, asking before a restart, is fed by the restart's own pass: each job once, settled, then its sentinel", async () => {
  const n = 5000; // three slices of the restart
  const finished = 10;
  const broker = new Broker({ hostname: 'vm', store: await storeOfHeldJobs(n, finished) });
  // an in-process consumer that asks for the journal when it starts, as job-list does
  const got: JournalEntry[] = [];
  const consumer: Service = {
    name: 'consumer',
    methods: {},
    start: (ctx) => {
      void ctx.rpc('job-manager.events-journal', { full: true }, { streaming: true, onResponse: (e) => got.push(e) });
    },
  };
  // both start before the job manager (as in an instance: instance.ts)
  broker.register(consumer);
  broker.register(new JobList());
  broker.register(new JobManager());
  broker.register({ name: 'broker', methods: {} });
  const order: string[] = [];
  const started = broker.start().then(() => order.push('started'));
  await turn();
  await turn();
  // job-list's requests wait for its backlog, which is the whole restart
  const stats = broker.rpc('job-list.job-stats', {}).then((s: { job_states: Record<string, number> }) => {
    order.push('job-list.job-stats');
    return s;
  });
  await broker.rpc('broker.ping').then(() => order.push('broker.ping'));
  assert.deepEqual(order, ['broker.ping']);
  const st = await stats;
  assert.equal(st.job_states.sched, n);
  assert.equal(st.job_states.inactive, finished);
  assert.equal(st.job_states.total, n + finished);
  await started;

  // every job once, in id order, as the store held it (read and parsed once, by the restart)
  const backlog = got.slice(0, n + finished);
  assert.deepEqual(
    backlog.map((e) => e.id),
    Array.from({ length: n + finished }, (_, i) => BigInt(i + 1)),
  );
  assert.deepEqual(
    backlog[0]!.events.map((e) => e.name),
    ['submit', 'validate', 'depend', 'priority'],
  );
  assert.equal(backlog[n]!.events.at(-1)!.name, 'clean');
  // then what the restart made of each held job, then the sentinel, once the restart is over
  const settled = got.slice(n + finished, -1);
  assert.equal(settled.length, n);
  for (const e of settled)
    assert.deepEqual(
      e.events.map((x) => x.name),
      ['flux-restart', 'priority'],
    );
  assert.deepEqual(got.at(-1), { id: -1, events: [] });

  // a job-list that reads the backlog from the store once the job manager is up sees the same
  const second = new JobList();
  second.start(broker);
  const all = { max_entries: 0, attrs: ['all'] };
  const again = new TestRequest('job-list.list', all);
  second.methods.list!.handler(again);
  while (again.answers.length === 0) await turn();
  const fed = (await broker.rpc('job-list.list', all)) as { jobs: unknown[] };
  assert.equal(fed.jobs.length, n + finished);
  assert.deepEqual(again.answers, [{ payload: fed }]);
  const stats2 = new TestRequest('job-list.job-stats', {});
  second.methods['job-stats']!.handler(stats2);
  assert.deepEqual(stats2.answers, [{ payload: await broker.rpc('job-list.job-stats', {}) }]);
  second.stop();
  await broker.stop();
  await broker.store.close();
});
