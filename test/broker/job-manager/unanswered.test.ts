/**
 * Requests the job manager sends without waiting for their answer (sched.cancel, sched.priority,
 * sched.free, job-exec.kill): a failure is logged with the topic, the job and the error, never
 * dropped. Driven through a real Broker with the real job manager and scheduler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { JobManager } from '../../../src/broker/job-manager/manager.js';
import { Scheduler } from '../../../src/broker/sched/sched.js';
import type { SubmitJob } from '../../../src/broker/contract.js';

const turn = () => new Promise((r) => setImmediate(r));

test('sched.priority for a job whose alloc was granted on the way is logged at debug', async () => {
  const broker = new Broker({ hostname: 'vm' });
  const logs: string[] = [];
  broker.logger = (level, text) => logs.push(`${level}: ${text}`);
  const sched = new Scheduler({ ranks: [{ rank: 0, hostname: 'vm', cores: [0], gpus: [] }] });
  broker.register(sched);
  broker.register(new JobManager());
  await broker.start();
  const sj: SubmitJob = {
    id: 1n,
    userid: 1000,
    urgency: 16,
    flags: 0,
    t_submit: 1,
    jobspec: {},
    request: { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 },
  };
  // what job-ingest does for a new job: its record in the store, then job-manager.submit
  await broker.store.createJobs([{ id: sj.id, userid: sj.userid, jobspec: '{}', eventlog: '' }]);
  await broker.rpc('job-manager.submit', { jobs: [sj] });
  // The scheduler grants the alloc now; the manager reads the answer only after this turn's
  // synchronous code, so the urgency change below reprioritizes an alloc already granted.
  sched.run();
  const urgency = broker.rpc('job-manager.urgency', { id: 1n, urgency: 20 });
  await urgency;
  await turn();
  assert.ok(
    logs.includes('debug: job-manager: sched.priority id=1: job 1 has no pending alloc (ENOENT)'),
    logs.join('\n'),
  );
  assert.ok(!logs.some((l) => l.startsWith('err: job-manager: sched.')), logs.join('\n'));
  await broker.stop();
});
