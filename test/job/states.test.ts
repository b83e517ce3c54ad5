import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_STATES,
  JobResult,
  JobState,
  VirtualState,
  isActiveState,
  parseResult,
  parseState,
  resultName,
  stateName,
  StateParseError,
} from '../../src/job/states.js';

const TABLE: Array<[number, string, string]> = [
  [1, 'NEW', 'N'],
  [2, 'DEPEND', 'D'],
  [4, 'PRIORITY', 'P'],
  [8, 'SCHED', 'S'],
  [16, 'RUN', 'R'],
  [32, 'CLEANUP', 'C'],
  [64, 'INACTIVE', 'I'],
  [14, 'PENDING', 'PD'],
  [48, 'RUNNING', 'RU'],
  [62, 'ACTIVE', 'A'],
];

test('state bit values', () => {
  assert.deepEqual(JobState, { NEW: 1, DEPEND: 2, PRIORITY: 4, SCHED: 8, RUN: 16, CLEANUP: 32, INACTIVE: 64 });
  assert.equal(VirtualState.PENDING, JobState.DEPEND | JobState.PRIORITY | JobState.SCHED);
  assert.equal(VirtualState.RUNNING, JobState.RUN | JobState.CLEANUP);
  assert.equal(VirtualState.ACTIVE, 62);
  assert.deepEqual([...ALL_STATES], [1, 2, 4, 8, 16, 32, 64]);
});

test('stateName in all four forms, and parseState accepts each', () => {
  for (const [v, long, short] of TABLE) {
    assert.equal(stateName(v), long);
    assert.equal(stateName(v, { lower: true }), long.toLowerCase());
    assert.equal(stateName(v, { short: true }), short);
    assert.equal(stateName(v, { short: true, lower: true }), short.toLowerCase());
    for (const s of [long, long.toLowerCase(), short, short.toLowerCase()]) assert.equal(parseState(s), v, s);
  }
  assert.equal(stateName(3), '(unknown)');
});

test('parseState rejects unknown and mixed-case names with EINVAL', () => {
  for (const bad of ['', 'Run', 'RUNN', 'X', '16', ' RUN']) {
    assert.throws(
      () => parseState(bad),
      (e: unknown) => e instanceof StateParseError && e.errno === 22 && /invalid job state/.test(e.message),
    );
  }
});

test('isActiveState', () => {
  assert.equal(isActiveState(JobState.NEW), false);
  assert.equal(isActiveState(JobState.INACTIVE), false);
  for (const s of [2, 4, 8, 16, 32]) assert.equal(isActiveState(s), true);
});

test('results: values, names, parse', () => {
  assert.deepEqual(JobResult, { COMPLETED: 1, FAILED: 2, CANCELED: 4, TIMEOUT: 8 });
  const rows: Array<[number, string, string]> = [
    [1, 'COMPLETED', 'CD'],
    [2, 'FAILED', 'F'],
    [4, 'CANCELED', 'CA'],
    [8, 'TIMEOUT', 'TO'],
  ];
  for (const [v, long, short] of rows) {
    assert.equal(resultName(v), long);
    assert.equal(resultName(v, { short: true }), short);
    assert.equal(resultName(v, { lower: true }), long.toLowerCase());
    for (const s of [long, long.toLowerCase(), short, short.toLowerCase()]) assert.equal(parseResult(s), v);
  }
  assert.equal(resultName(3), '(unknown)');
  assert.throws(() => parseResult('CANCELLED'), StateParseError);
});
