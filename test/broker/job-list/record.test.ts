/** job-list's compact record: every field reads back what was written, packed or kept apart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListJob } from '../../../src/broker/job-list/record.js';
import { JobResult, JobState } from '../../../src/job/states.js';

const state = fc.constantFrom(...Object.values(JobState).filter((v) => typeof v === 'number'));
const mask = fc.integer({ min: 0, max: 0x7f });
const result = fc.constantFrom(JobResult.COMPLETED, JobResult.FAILED, JobResult.CANCELED, JobResult.TIMEOUT);
const str = fc.option(fc.string(), { nil: undefined });
const time = fc.double({ min: 0, max: 4e9, noNaN: true });

/** One write to a record: [field, value]. */
const write = fc.oneof(
  fc.tuple(fc.constant('state'), state),
  fc.tuple(fc.constant('statesMask'), mask),
  fc.tuple(fc.constant('eventsMask'), mask),
  fc.tuple(fc.constant('result'), result),
  fc.tuple(fc.constant('success'), fc.boolean()),
  fc.tuple(fc.constant('excOccurred'), fc.boolean()),
  fc.tuple(fc.constant('submitVersion'), fc.integer({ min: -1, max: 1 })),
  fc.tuple(fc.constantFrom('t_submit', 't_depend', 't_priority', 't_sched', 't_run', 't_cleanup', 't_inactive'), time),
  fc.tuple(fc.constantFrom('priority', 'urgency', 'ntasks', 'ncores', 'nnodes', 'duration'), fc.integer()),
  fc.tuple(fc.constantFrom('expiration', 'waitstatus', 'excSeverity', 'ntasksPerNode', 'ntasksPerCore'), fc.integer()),
  fc.tuple(fc.constantFrom('name', 'cwd', 'queue', 'project', 'bank', 'ranks', 'nodelist', 'excType', 'excNote'), str),
  fc.tuple(fc.constant('dependencies'), fc.option(fc.array(fc.string()), { nil: undefined })),
);

const FIELDS = [
  'userid',
  'urgency',
  'priority',
  'state',
  'statesMask',
  'eventsMask',
  'submitVersion',
  't_submit',
  't_depend',
  't_priority',
  't_sched',
  't_run',
  't_cleanup',
  't_inactive',
  'name',
  'cwd',
  'queue',
  'project',
  'bank',
  'ntasks',
  'ncores',
  'duration',
  'nnodes',
  'ranks',
  'nodelist',
  'expiration',
  'waitstatus',
  'success',
  'excOccurred',
  'excSeverity',
  'excType',
  'excNote',
  'result',
  'annotations',
  'dependencies',
  'ntasksPerNode',
  'ntasksPerCore',
  'hosts',
  'rankSet',
] as const;

/** A record's fields as a plain object. */
function fieldsOf(j: ListJob): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of FIELDS) o[k] = j[k];
  return o;
}

test('a new record has the defaults job-list expects', () => {
  const j = new ListJob(7n);
  assert.equal(j.id, 7n);
  assert.deepEqual(fieldsOf(j), {
    userid: 0xffffffff,
    urgency: -1,
    priority: 0,
    state: JobState.NEW,
    statesMask: JobState.NEW,
    eventsMask: JobState.NEW,
    submitVersion: -1,
    t_submit: 0,
    t_depend: 0,
    t_priority: 0,
    t_sched: 0,
    t_run: 0,
    t_cleanup: 0,
    t_inactive: 0,
    name: undefined,
    cwd: undefined,
    queue: undefined,
    project: undefined,
    bank: undefined,
    ntasks: -1,
    ncores: -1,
    duration: -1,
    nnodes: -1,
    ranks: undefined,
    nodelist: undefined,
    expiration: -1,
    waitstatus: -1,
    success: false,
    excOccurred: false,
    excSeverity: -1,
    excType: undefined,
    excNote: undefined,
    result: JobResult.FAILED,
    annotations: undefined,
    dependencies: undefined,
    ntasksPerNode: 0,
    ntasksPerCore: 0,
    hosts: undefined,
    rankSet: undefined,
  });
});

test('every field reads back the last value written to it, whatever else was written', () => {
  fc.assert(
    fc.property(fc.array(write, { maxLength: 40 }), (writes) => {
      const j = new ListJob(1n) as unknown as Record<string, unknown>;
      const model = fieldsOf(new ListJob(1n));
      for (const [k, v] of writes) {
        j[k] = v;
        model[k] = v;
      }
      assert.deepEqual(fieldsOf(j as unknown as ListJob), model);
    }),
  );
});

test('the submit version is kept as below 1, 0 or 1 (all job-list asks of it)', () => {
  const j = new ListJob(1n);
  for (const [v, read] of [
    [-5, -1],
    [0, 0],
    [1, 1],
    [7, 1],
  ] as const) {
    j.submitVersion = v;
    assert.equal(j.submitVersion, read);
    assert.equal(j.submitVersion < 1, v < 1);
  }
});
