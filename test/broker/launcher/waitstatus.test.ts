import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  exitedStatus,
  signaledStatus,
  shellStatus,
  waitStatusToExitCode,
  wifexited,
  wifsignaled,
  wtermsig,
  wexitstatus,
  wcoredump,
  START_FAILED_STATUS,
} from '../../../src/broker/launcher/waitstatus.js';

test('POSIX encoding', () => {
  assert.equal(exitedStatus(1), 256);
  assert.equal(signaledStatus(9), 9);
  assert.equal(signaledStatus(11, true), 0x8b);
  assert.ok(wifexited(256) && !wifsignaled(256) && wexitstatus(256) === 1);
  assert.ok(wifsignaled(15) && wtermsig(15) === 15 && !wcoredump(15));
  assert.ok(wcoredump(0x8b));
});

test('Flux job statuses from task statuses (shared/vectors eventlogs summary)', () => {
  assert.equal(shellStatus([0]), 0); // success
  assert.equal(shellStatus([256]), 256); // exit1
  assert.equal(shellStatus([14]), 36352); // timelimit: SIGALRM → exit 142
  assert.equal(shellStatus([9]), 35072); // signal-kill9 → exit 137
  assert.equal(shellStatus([15]), 36608); // cancel-running → exit 143
  assert.equal(START_FAILED_STATUS, 32512); // nosuchcmd → exit 127
  assert.equal(shellStatus([256, 14, 0]), 36352);
  assert.equal(waitStatusToExitCode(36352), 142);
  assert.equal(waitStatusToExitCode(9), 137);
});
