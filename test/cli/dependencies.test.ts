/**
 * `--dependency` and `-q/--queue` through the command line against a real instance (in this
 * process): `tsflux submit --dependency=afterok:$a` holds the job until $a is done (checked
 * by the order of events in the two eventlogs), what cannot be honoured is a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tsflux, type Result } from '../helpers/cli.js';
import { suiteInstance } from '../helpers/instance.js';
import * as job from '../../src/client/job/index.js';
import { parseJobId } from '../../src/job/jobid.js';
import type { EventlogEntry } from '../../src/job/eventlog.js';

process.env.LC_ALL = 'C.UTF-8';
delete process.env.FLUX_F58_FORCE_ASCII;

const suite = suiteInstance();
const run = (args: string[]): Promise<Result> => tsflux(args, suite.inst.uri);

async function submit(args: string[]): Promise<string> {
  const r = await run(['submit', ...args]);
  assert.equal(r.rc, 0, r.stderr);
  return r.stdout.trim();
}

/** `tsflux job eventlog --format=json ID` once the job is inactive. */
async function eventlog(id: string): Promise<EventlogEntry[]> {
  await job.eventWait(suite.h, parseJobId(id), 'clean', { raiseJobException: false });
  const r = await run(['job', 'eventlog', '--format=json', id]);
  assert.equal(r.rc, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EventlogEntry);
}

const at = (log: EventlogEntry[], name: string): EventlogEntry => {
  const e = log.find((x) => x.name === name);
  assert.ok(e, `no ${name} in ${log.map((x) => x.name).join(',')}`);
  return e;
};

test('submit --dependency=afterok:$a: the job starts only after $a finished', async () => {
  const a = await submit(['--urgency=hold', 'true']);
  const b = await submit([`--dependency=afterok:${a}`, 'echo', 'x']);
  const jobs = await run(['jobs', '-n', '-o', '{state} {dependencies}', b]);
  assert.equal(jobs.stdout, `DEPEND after-success=${a}\n`);
  assert.equal((await run(['job', 'urgency', a, 'default'])).rc, 0);
  const la = await eventlog(a);
  const lb = await eventlog(b);
  assert.deepEqual(
    lb.map((e) => e.name),
    [
      'submit',
      'dependency-add',
      'validate',
      'dependency-remove',
      'depend',
      'priority',
      'alloc',
      'start',
      'finish',
      'release',
      'free',
      'clean',
    ],
  );
  assert.ok(at(lb, 'start').timestamp >= at(la, 'finish').timestamp);
  assert.deepEqual(await run(['job', 'attach', b]), { rc: 0, stdout: 'x\n', stderr: '' });
});

test('run --dependency=afternotok on a job that succeeds: the dependency exception', async () => {
  const a = await submit(['--urgency=hold', 'true']);
  let done = false;
  const r = run(['run', '--job-name=dep-run', `--dependency=afternotok:${a}`, 'true']).finally(() => (done = true));
  // wait (for a condition) until run's job is in DEPEND, then let $a go
  while (!done && (await job.list(suite.h, { states: 2, name: 'dep-run' })).length === 0)
    await new Promise((res) => setTimeout(res, 20));
  assert.equal((await run(['job', 'urgency', a, 'default'])).rc, 0);
  const res = await r;
  assert.equal(res.rc, 1);
  assert.match(res.stderr, new RegExp(`dependency after-failure=${a} can never be satisfied`));
});

test('bad dependencies and queues: a clear error naming them, exit code 1', async () => {
  const cases: [string[], string][] = [
    [
      ['submit', '--dependency=afterok:bogus', 'true'],
      '[Errno 22] dependency: afterok: "bogus" is not a valid jobid\n',
    ],
    [['submit', '--dependency=singleton', 'true'], '[Errno 22] dependency scheme "singleton" not supported\n'],
    [['submit', '--dependency=afterany:12345', 'true'], '[Errno 22] dependency: afterany: id 12345: job not found\n'],
    [['submit', '-q', 'batch', 'true'], "[Errno 22] 'batch' is not a valid queue\n"],
    [['run', '--queue=debug', 'true'], "tsflux-run: ERROR: 'debug' is not a valid queue\n"],
    [['run', '--dependency=begin-time:0', 'true'], 'tsflux-run: ERROR: dependency scheme "begin-time" not supported\n'],
  ];
  for (const [args, stderr] of cases) {
    assert.deepEqual(await run(args), { rc: 1, stdout: '', stderr }, args.join(' '));
  }
  const dry = await run(['submit', '--dry-run', '--dependency=afterok:ƒ2', '--dependency=after:123', 'true']);
  assert.deepEqual(JSON.parse(dry.stdout).attributes.system.dependencies, [
    { scheme: 'afterok', value: 'ƒ2' },
    { scheme: 'after', value: '123' },
  ]);
});
