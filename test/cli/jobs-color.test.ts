/**
 * `tsflux jobs --color[=WHEN]` against a real instance: a finished job's line is wrapped in the
 * escape sequences flux-jobs.py writes for its result (set before the line, reset after its
 * newline); never, and auto when stdout is a pipe, write none; auto on a terminal colours.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Instance } from '../../src/broker/instance.js';
import { JobInfo } from '../../src/cli/lib/jobinfo.js';
import { jobColor } from '../../src/cli/lib/jobs-color.js';
import { JobState } from '../../src/job/states.js';
import { noTerminal, tsflux, tsfluxOnTerminal, type Result } from '../helpers/cli.js';
import { HANG_TIMEOUT } from '../helpers/wait.js';

const GREEN = '\x1b[01;32m';
const RED = '\x1b[01;31m';
const GREY = '\x1b[37m';
const RESET = '\x1b[0;0m';

describe('jobs --color', { concurrency: false, timeout: HANG_TIMEOUT }, () => {
  let inst: Instance;
  const run = (args: string[]): Promise<Result> => tsflux(args, inst.uri);
  const submit = async (args: string[]): Promise<string> => {
    const r = await run(['submit', ...args]);
    assert.match(r.stdout, /^ƒ[1-9A-HJ-NP-Za-km-z]+\n$/u, r.stderr);
    return r.stdout.trim();
  };
  let ok = '';
  let fail = '';
  let canceled = '';
  let timeout = '';
  let held = '';
  const FMT = ['-n', '-o', '{id.f58} {status}'];

  before(async () => {
    inst = await Instance.start({ cores: '2', gpus: '0', killTimeout: 1 });
    ok = await submit(['--wait', 'true']);
    fail = await submit(['--wait', 'false']);
    timeout = await submit(['--wait', '-t', '0.1s', 'sleep', '30']);
    canceled = await submit(['--urgency=hold', 'true']);
    assert.equal((await run(['cancel', canceled])).rc, 0);
    held = await submit(['--urgency=hold', 'true']);
  });
  after(async () => {
    await inst.stop();
  });

  test('--color=always: each result in flux colours, reset after the newline', async () => {
    const expect: Array<[string, string]> = [
      [ok, `${GREEN}${ok} COMPLETED\n${RESET}`],
      [fail, `${RED}${fail} FAILED\n${RESET}`],
      [timeout, `${RED}${timeout} TIMEOUT\n${RESET}`],
      [canceled, `${GREY}${canceled} CANCELED\n${RESET}`],
      [held, `${held} SCHED\n`],
    ];
    for (const [id, line] of expect) {
      assert.deepEqual(await run(['jobs', '--color=always', ...FMT, id]), { rc: 0, stdout: line, stderr: '' });
    }
    // --color alone means always; the header is never coloured
    const r = await run(['jobs', '--color', '-o', '{id.f58} {result}', ok]);
    assert.equal(r.stdout, `JOBID RESULT\n${GREEN}${ok} COMPLETED\n${RESET}`);
  });

  test('--color=never, and auto (the default) into a pipe: no escape sequences', async () => {
    for (const color of [['--color=never'], ['--color=auto'], []]) {
      const r = await run(['jobs', '-a', ...color]);
      assert.equal(r.rc, 0, r.stderr);
      assert.ok(r.stdout.includes(ok) && r.stdout.includes(fail), r.stdout);
      assert.ok(!r.stdout.includes('\x1b'), `${color.join('')}: ${JSON.stringify(r.stdout)}`);
    }
  });

  test('auto on a terminal colours', { skip: noTerminal }, async () => {
    const r = await tsfluxOnTerminal(['jobs', ...FMT, fail], inst.uri);
    assert.equal(r.rc, 0, r.output);
    assert.equal(r.output, `${RED}${fail} FAILED\r\n${RESET}`);
  });

  test('a bad WHEN is an error naming it', async () => {
    assert.deepEqual(await run(['jobs', '--color=sometimes']), {
      rc: 2,
      stdout: '',
      stderr:
        "tsflux-jobs: error: argument --color: invalid choice: 'sometimes' (choose from 'never', 'always', 'auto')\n",
    });
  });

  test('an active job that is a Flux instance (annotation user.uri) is blue', () => {
    const instance = new JobInfo({ id: 1n, state: JobState.RUN, annotations: { user: { uri: 'local:///tmp/x' } } });
    assert.deepEqual(jobColor(instance), { start: '\x1b[01;34m', end: RESET });
    assert.equal(jobColor(new JobInfo({ id: 2n, state: JobState.RUN })), undefined);
  });
});
