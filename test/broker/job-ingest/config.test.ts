/**
 * job-ingest's [ingest.validator] table: which validators run at submit (jobspec, feasibility),
 * `disable`, and the refusals of what tsflux does not implement; on a real instance, loading a
 * configuration changes what a submit of a job too big for the instance does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withInstance } from '../../helpers/instance.js';
import { ingestSettings } from '../../../src/broker/job-ingest/config.js';
import * as job from '../../../src/client/job/index.js';
import { JobspecV1 } from '../../../src/job/jobspec.js';
import { FluxError } from '../../../src/protocol/errno.js';
import { JobException } from '../../../src/job/eventlog.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const big = () => JobspecV1.fromCommand(['true'], { environment: env, numTasks: 64 });

test('ingestSettings: the plugins list, disable, and refusals naming the key', () => {
  const v = (validator: unknown) => ingestSettings({ ingest: { validator } });
  // Flux's default validators: jobspec only
  assert.deepEqual(ingestSettings({}), { feasibility: false, disabled: false });
  assert.deepEqual(v({}), { feasibility: false, disabled: false });
  assert.deepEqual(v({ plugins: ['jobspec'] }), { feasibility: false, disabled: false });
  assert.deepEqual(v({ plugins: ['jobspec', 'feasibility'] }), { feasibility: true, disabled: false });
  assert.deepEqual(v({ disable: true }).disabled, true);
  assert.deepEqual(v({ args: [] }).disabled, false);
  const bad: Array<[unknown, string]> = [
    [{ ingest: 1 }, 'error parsing [ingest] config table: Expected object'],
    [{ ingest: { frobnicator: {} } }, '[ingest]: tsflux does not implement ingest.frobnicator'],
    [{ ingest: { validator: [] } }, 'error parsing [ingest.validator] config table: Expected object'],
    [{ ingest: { validator: { plugins: 'jobspec' } } }, 'error in [ingest.validator] plugins array'],
    [{ ingest: { validator: { plugins: ['jobspec', 3] } } }, 'error in [ingest.validator] plugins array'],
    [
      { ingest: { validator: { plugins: ['feasibility'] } } },
      "[ingest.validator] plugins: tsflux always validates the jobspec, so the list must include 'jobspec'",
    ],
    [{ ingest: { validator: { args: ['-x'] } } }, '[ingest.validator] args: tsflux validators take no arguments'],
    [
      { ingest: { validator: { disable: 'yes' } } },
      'error parsing [ingest.validator] config table: Expected true or false',
    ],
  ];
  for (const [conf, text] of bad) {
    assert.throws(
      () => ingestSettings(conf),
      (e: unknown) => e instanceof FluxError && e.errno === 22 && e.message === text,
      text,
    );
  }
});

test('by default (as flux-core) a job too big for the instance is accepted and the scheduler raises alloc; the feasibility validator refuses it at submit', async () => {
  await withInstance(async (_i, h) => {
    const allocException = async (id: bigint) =>
      assert.rejects(job.eventWait(h, id, 'start'), (e: unknown) => {
        assert.ok(e instanceof JobException, String(e));
        assert.deepEqual(
          [e.type, e.severity, e.note],
          ['alloc', 0, 'unsatisfiable request: 64 cores requested, instance has 2'],
        );
        return true;
      });
    await allocException(await job.submit(h, big()));
    await h.rpc('config.load', { ingest: { validator: { plugins: ['jobspec', 'feasibility'] } } });
    await assert.rejects(job.submit(h, big()), (e: unknown) => {
      assert.ok(e instanceof FluxError);
      // flux-core's sched-simple answers feasibility.check with EOVERFLOW
      assert.deepEqual([e.errno, e.message], [75, 'unsatisfiable request: 64 cores requested, instance has 2']);
      return true;
    });
    // the owner's FLUX_JOB_NOVALIDATE skips the validators, this one too
    await allocException(await job.submitAsync(h, big(), { novalidate: true }));
    await h.rpc('config.load', { ingest: { validator: { plugins: ['jobspec'] } } });
    await allocException(await job.submit(h, big()));
  });
});

test('[ingest.validator] disable = true runs no validator: a jobspec the validator refuses is accepted', async () => {
  await withInstance(async (_i, h) => {
    const js = JSON.parse(JobspecV1.fromCommand(['true'], { environment: env }).dumps());
    js.tasks[0].extra = 1;
    await assert.rejects(job.submit(h, js), /tasks\[0\]\.extra: unknown key/);
    await h.rpc('config.load', { ingest: { validator: { disable: true } } });
    assert.equal(typeof (await job.submit(h, js)), 'bigint');
  });
});
