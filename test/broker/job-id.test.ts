/** Every service reads a request's job id one way (requestJobId): a bad one is EPROTO, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/broker/broker.js';
import { Scheduler } from '../../src/broker/sched/sched.js';
import { JobManager } from '../../src/broker/job-manager/manager.js';
import { JobList } from '../../src/broker/job-list/list.js';
import { JobInfoService } from '../../src/broker/job-info/info.js';
import { JobExec } from '../../src/broker/job-exec/exec.js';
import { Errno, type FluxError } from '../../src/protocol/errno.js';

test('a missing or malformed job id is answered EPROTO by sched, job-manager, job-list, job-info and job-exec', async () => {
  const broker = new Broker({ hostname: 'vm', owner: 0 });
  broker.register(new Scheduler({ ranks: [{ rank: 0, hostname: 'vm', cores: [0], gpus: [] }] }));
  broker.register(new JobExec());
  broker.register(new JobManager());
  broker.register(new JobInfoService());
  broker.register(new JobList());
  await broker.start();
  try {
    const cases: [string, object][] = [
      ['sched.cancel', {}],
      ['job-manager.wait', {}],
      ['job-manager.raise', { type: 'cancel', severity: 0, note: '' }],
      ['job-list.list-id', { attrs: [] }],
      ['job-info.lookup', { keys: ['jobspec'], flags: 0 }],
      ['job-exec.kill', { signum: 15 }],
    ];
    for (const [topic, rest] of cases) {
      for (const id of ['bogus', 1.5, -2, { n: 1 }, '0x10']) {
        await assert.rejects(
          broker.rpc(topic, { id, ...rest }),
          (e: FluxError) => e.errno === Errno.EPROTO && e.message === 'invalid payload: id must be a job id',
          `${topic} id=${JSON.stringify(id)}`,
        );
      }
    }
    // job-list and job-info name every field they miss in one message of their own
    for (const [topic, rest] of cases.filter(([t]) => !t.startsWith('job-list') && !t.startsWith('job-info'))) {
      await assert.rejects(
        broker.rpc(topic, rest),
        (e: FluxError) => e.errno === Errno.EPROTO && e.message === 'invalid payload: id is required',
        topic,
      );
    }
  } finally {
    await broker.stop();
  }
});
