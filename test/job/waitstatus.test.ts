import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readVector, vectorsDir } from '../helpers/paths.js';
import { parseEventlog, JobException, EventlogEvent } from '../../src/job/eventlog.js';
import { resultName } from '../../src/job/states.js';
import {
  coreDump,
  exitCode,
  exited,
  jobOutcome,
  makeExitStatus,
  makeSignalStatus,
  shellStatus,
  signaled,
  START_FAILED_STATUS,
  stopped,
  strsignal,
  taskExitCode,
  termSig,
  waitErrstr,
  waitSuccess,
  waitstatusToExitcode,
} from '../../src/job/waitstatus.js';

const SCENARIOS = ['success', 'exit1', 'nosuchcmd', 'cancel-pending', 'cancel-running', 'timelimit', 'signal-kill9'];

const summary = readVector<Record<string, any>>('eventlogs/summary.json');
const readLog = (name: string) => parseEventlog(fs.readFileSync(path.join(vectorsDir, 'eventlogs', name), 'utf8'));

test('wait status macros', () => {
  assert.equal(makeExitStatus(0), 0);
  assert.equal(makeExitStatus(1), 256);
  assert.equal(makeExitStatus(143), 36608);
  assert.equal(makeSignalStatus(9), 9);
  assert.equal(makeSignalStatus(11, true), 139);
  assert.ok(exited(256) && !signaled(256) && exitCode(256) === 1);
  assert.ok(signaled(15) && !exited(15) && termSig(15) === 15 && !coreDump(15));
  assert.ok(signaled(139) && termSig(139) === 11 && coreDump(139));
  assert.ok(stopped(0x137f) && !signaled(0x137f) && !exited(0x137f));
});

test("POSIX encoding (the launcher's view)", () => {
  assert.equal(makeExitStatus(1), 256);
  assert.equal(makeSignalStatus(9), 9);
  assert.equal(makeSignalStatus(11, true), 0x8b);
  assert.ok(exited(256) && !signaled(256) && exitCode(256) === 1);
  assert.ok(signaled(15) && termSig(15) === 15 && !coreDump(15));
  assert.ok(coreDump(0x8b));
});

test('Flux job statuses from task statuses (test/vectors/eventlogs/summary.json)', () => {
  assert.equal(shellStatus([0]), 0); // success
  assert.equal(shellStatus([256]), 256); // exit1
  assert.equal(shellStatus([14]), 36352); // timelimit: SIGALRM → exit 142
  assert.equal(shellStatus([9]), 35072); // signal-kill9 → exit 137
  assert.equal(shellStatus([15]), 36608); // cancel-running → exit 143
  assert.equal(START_FAILED_STATUS, 32512); // nosuchcmd → exit 127
  assert.equal(shellStatus([256, 14, 0]), 36352);
  assert.equal(taskExitCode(36352), 142);
  assert.equal(taskExitCode(9), 137);
});

test('strsignal gives glibc texts', () => {
  const want: Record<number, string> = {
    1: 'Hangup',
    2: 'Interrupt',
    3: 'Quit',
    6: 'Aborted',
    8: 'Floating point exception',
    9: 'Killed',
    10: 'User defined signal 1',
    11: 'Segmentation fault',
    13: 'Broken pipe',
    14: 'Alarm clock',
    15: 'Terminated',
    24: 'CPU time limit exceeded',
    31: 'Bad system call',
  };
  for (const [n, s] of Object.entries(want)) assert.equal(strsignal(Number(n)), s);
  assert.equal(strsignal(34), 'Real-time signal 0');
  assert.equal(strsignal(64), 'Real-time signal 30');
  assert.equal(strsignal(0), 'Unknown signal 0');
  assert.equal(strsignal(65), 'Unknown signal 65');
});

test('waitstatusToExitcode matches flux-core libjob unit tests', () => {
  assert.deepEqual(waitstatusToExitcode(-1), { exitcode: -1, errstr: 'unexpected wait(2) status -1' });
  assert.deepEqual(waitstatusToExitcode(0), { exitcode: 0, errstr: '' });
  assert.deepEqual(waitstatusToExitcode(9), { exitcode: 137, errstr: 'job shell Killed' });
  assert.deepEqual(waitstatusToExitcode(1 << 8), { exitcode: 1, errstr: 'task(s) exited with exit code 1' });
  assert.deepEqual(waitstatusToExitcode((128 + 15) << 8), { exitcode: 143, errstr: 'task(s) Terminated' });
  assert.deepEqual(waitstatusToExitcode((128 + 11) << 8), { exitcode: 139, errstr: 'task(s) Segmentation fault' });
  assert.deepEqual(waitstatusToExitcode(128 << 8), { exitcode: 128, errstr: 'task(s) exited with exit code 128' });
  assert.equal(waitstatusToExitcode(0x137f).exitcode, -1); // stopped
});

test('waitErrstr / waitSuccess', () => {
  assert.equal(waitErrstr({ name: 'exception', type: 'cancel', note: '' }), 'Fatal exception type=cancel ');
  assert.equal(waitSuccess({ name: 'exception', type: 'cancel', note: '' }), false);
  assert.equal(waitErrstr({ name: 'finish', status: 0 }), '');
  assert.equal(waitSuccess({ name: 'finish', status: 0 }), true);
  assert.equal(waitSuccess({ name: 'finish', status: 256 }), false);
});

for (const name of SCENARIOS) {
  test(`summary.json scenario ${name}: result, returncode, wait errstr, job shell status`, () => {
    const row = summary[name];
    const events = readLog(`${name}.eventlog`);
    assert.deepEqual(
      events.map((e) => e.name),
      row.eventlog_names,
    );
    const out = jobOutcome(events);

    // flux jobs: "{id} {result} {returncode} {status}"
    const [, result, rc, status] = (row.flux_jobs_line as string).split(' ');
    assert.equal(resultName(out.result), result);
    assert.equal(String(out.returncode), rc);
    assert.equal(resultName(out.result), status);

    // extended line: id state result rc status waitstatus exception_occurred type severity note
    const ext = (row.flux_jobs_line_extended as string).split(' ');
    assert.equal(ext[5], out.waitstatus === undefined ? '' : String(out.waitstatus));
    assert.equal(ext[6], out.exception ? 'True' : 'False');
    if (out.exception) {
      assert.equal(ext[7], out.exception.type);
      assert.equal(ext[8], String(out.exception.severity));
      assert.equal(ext.slice(9).join(' '), out.exception.note);
    }
    assert.equal(out.success, result === 'COMPLETED');

    // flux job wait (CLI): rc 0 / 1 and "flux-job: <errstr>"
    const cli = row.flux_job_wait_cli;
    assert.ok(out.wait, 'job has an end event');
    assert.equal(out.wait.success, cli.rc === 0);
    assert.equal(cli.stderr, out.wait.success ? '' : `flux-job: ${out.wait.errstr}\n`);
    // Python flux.job.wait: JobWaitResult(..., success=X, errstr=b'...')
    const py = /success=(True|False), errstr=b'(.*)'\)/.exec(row.flux_job_wait_python.stdout);
    assert.ok(py);
    assert.equal(py[1] === 'True', out.wait.success);
    assert.equal(py[2], out.wait.errstr);

    // flux job status exit code = job exit code (flux_job_waitstatus_to_exitcode) when it ran
    if (out.waitstatus !== undefined) {
      assert.equal(waitstatusToExitcode(out.waitstatus).exitcode, row.flux_job_status_cli.rc);
    }
  });
}

test('FluxExecutor results (_flux_executor): exit code, or JobException text', () => {
  const ex = summary['_flux_executor'].results as Record<
    string,
    { result: number | null; exception: { str: string } | null }
  >;
  for (const [name, want] of Object.entries(ex)) {
    // the executor's future gets the first of finish (WEXITSTATUS / -WTERMSIG) or fatal exception
    let got: { result?: number; exception?: string } | undefined;
    for (const e of readLog(`${name}.eventlog`)) {
      const ev = new EventlogEvent(e);
      if (ev.name === 'finish') {
        const st = ev.context['status'] as number;
        got = { result: exited(st) ? exitCode(st) : -termSig(st) };
        break;
      }
      if (ev.name === 'exception' && ev.context['severity'] === 0) {
        got = { exception: new JobException(ev).toString() };
        break;
      }
    }
    assert.ok(got, name);
    if (want.exception) assert.equal(got.exception, want.exception.str, name);
    else assert.equal(got.result, want.result, name);
  }
});

test('flux jobs -a: a job canceled right after start with a raw signal status shows -15', () => {
  const out = jobOutcome([
    { name: 'submit' },
    { name: 'start' },
    { name: 'exception', context: { type: 'cancel', severity: 0, note: '', userid: 0 } },
    { name: 'finish', context: { status: 15 } },
    { name: 'clean' },
  ]);
  assert.equal(resultName(out.result), 'CANCELED');
  assert.equal(out.returncode, -15);
});

test('exec eventlog task statuses decode consistently', () => {
  for (const name of ['exit1', 'cancel-running', 'signal-kill9']) {
    for (const e of readLog(`${name}.exec.eventlog`)) {
      if (e.name !== 'shell.task-exit') continue;
      const c = e.context as { wait_status: number; signaled: number; exitcode: number };
      assert.equal(signaled(c.wait_status) ? termSig(c.wait_status) : 0, c.signaled);
      const code = signaled(c.wait_status) ? 128 + termSig(c.wait_status) : exitCode(c.wait_status);
      assert.equal(code, c.exitcode);
    }
  }
});

test('non-fatal exceptions do not end the job; most severe exception is kept', () => {
  const out = jobOutcome([
    { name: 'exception', context: { type: 'test', severity: 1, note: 'a note' } },
    { name: 'finish', context: { status: 0 } },
  ]);
  assert.equal(out.success, true);
  assert.equal(resultName(out.result), 'COMPLETED');
  assert.deepEqual(out.exception, { type: 'test', severity: 1, note: 'a note' });
  assert.deepEqual(out.wait, { success: true, errstr: '' });
  const none = jobOutcome([{ name: 'submit' }]);
  assert.equal(none.wait, undefined);
  assert.equal(none.returncode, null);
});
