/**
 * The CLI verbs end to end: a real instance runs in this process, `node bin/tsflux.js ...`
 * runs as a subprocess with FLUX_URI pointing at it, and its exit code, stdout and stderr
 * are checked against flux's formats (test/vectors). Nothing here asserts on timing: waits
 * are for conditions (a job started, a job finished), not for durations.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, tsfluxBin } from '../helpers/paths.js';
import { type Result, baseEnv, noTerminal, scriptBin, tsflux } from '../helpers/cli.js';
import { Instance } from '../../src/broker/instance.js';
import { Flux } from '../../src/client/handle.js';
import * as job from '../../src/client/job/index.js';
import { encodeJobId, parseJobId } from '../../src/job/jobid.js';
import type { FluxError } from '../../src/protocol/errno.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';

process.env.LC_ALL = 'C.UTF-8';
delete process.env.FLUX_F58_FORCE_ASCII;

const F58 = /^ƒ[1-9A-HJ-NP-Za-km-z]+$/;
const host = os.hostname();

/** An instance (and a handle on it) shared by the tests of one describe(). */
function useInstance(): {
  uri: () => string;
  h: () => Flux;
  run: (args: string[], env?: Record<string, string>) => Promise<Result>;
} {
  let inst: Instance;
  let h: Flux;
  before(async () => {
    inst = await Instance.start({ cores: '2', gpus: '0', killTimeout: 1 });
    h = await Flux.open(inst.uri);
  });
  after(async () => {
    h.close();
    await inst.stop();
  });
  return { uri: () => inst.uri, h: () => h, run: (args, env) => tsflux(args, inst.uri, env) };
}

async function submitId(run: (a: string[]) => Promise<Result>, args: string[]): Promise<string> {
  const r = await run(['submit', ...args]);
  assert.equal(r.rc, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, F58);
  return id;
}

// The suites use separate instances: run them side by side (their tests in order).
const SEQUENTIAL = { concurrency: false };
// (the timeout only keeps a hung CLI from hanging the run; nothing asserts on durations)
describe('tsflux CLI verbs', { concurrency: true, timeout: HANG_TIMEOUT }, () => {
  describe('run and submit', SEQUENTIAL, () => {
    const shared = useInstance();
    const { run } = shared;

    test('run true: rc 0, prints nothing', async () => {
      assert.deepEqual(await run(['run', 'true']), { rc: 0, stdout: '', stderr: '' });
    });

    test('run false: rc 1 with the exit message flux job attach prints', async () => {
      assert.deepEqual(await run(['run', 'false']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-job: task(s) exited with exit code 1\n',
      });
    });

    test('run: our stdin goes to the tasks (all, or --input=RANKS), text or binary, then eof', async () => {
      const { uri } = shared;
      assert.deepEqual(await tsflux(['run', 'cat'], uri(), {}, 'hello\nwörld\n'), {
        rc: 0,
        stdout: 'hello\nwörld\n',
        stderr: '',
      });
      const two = await tsflux(['run', '-n2', 'sh', '-c', 'echo "$FLUX_TASK_RANK:$(cat)"'], uri(), {}, 'x');
      assert.deepEqual(two.stdout.split('\n').filter(Boolean).sort(), ['0:x', '1:x']);
      const one = await tsflux(
        ['run', '-n2', '--input=1', 'sh', '-c', 'echo "$FLUX_TASK_RANK:$(cat)"'],
        uri(),
        {},
        'y',
      );
      assert.deepEqual(one.stdout.split('\n').filter(Boolean).sort(), ['0:', '1:y'], 'rank 0 gets only the eof');
      const bytes = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7919) % 256));
      const sum = await tsflux(['run', 'sh', '-c', 'od -An -tx1 | tr -d " \n" | wc -c'], uri(), {}, bytes);
      assert.equal(sum.stdout.trim(), String(bytes.length * 2), 'every byte arrived, binary too');
      assert.deepEqual(await run(['run', 'cat']), { rc: 0, stdout: '', stderr: '' }, 'stdin at eof at once');
      assert.deepEqual(await tsflux(['run', 'sh', '-c', 'cat; echo rc=$?'], uri(), {}, 'z'), {
        rc: 0,
        stdout: 'zrc=0\n',
        stderr: '',
      });
    });

    test('a submitted job reading stdin waits for it; job attach gives it; bad stdin requests are errors', async () => {
      const { uri, h } = shared;
      const id = await submitId(run, ['cat']);
      const jid = parseJobId(id);
      await job.eventWait(h(), jid, 'start');
      const svc = `${process.getuid!()}-shell-${encodeJobId(jid, 'f58plain')}.stdin`;
      const bad: [object, number, string][] = [
        [{ stream: 'stdout', data: 'x' }, 71, 'stream must be "stdin"'],
        [{ stream: 'stdin' }, 71, 'data or eof is required'],
        [{ stream: 'stdin', data: 1 }, 71, 'data must be a string'],
        [{ stream: 'stdin', rank: '7', data: 'x' }, 22, 'rank 7 is not a task of this job (1 tasks)'],
        [{ stream: 'stdin', rank: 'x-y', data: 'x' }, 71, 'rank must be "all" or an idset: x-y'],
        [{ stream: 'stdin', data: 'x', encoding: 'rot13' }, 71, 'unknown encoding rot13'],
      ];
      for (const [p, errno, text] of bad) {
        await assert.rejects(
          h().rpc(svc, p),
          (e: FluxError) => e.errno === errno && e.message === text,
          JSON.stringify(p),
        );
      }
      assert.deepEqual(await tsflux(['job', 'attach', id], uri(), {}, 'late input\n'), {
        rc: 0,
        stdout: 'late input\n',
        stderr: '',
      });
      const looked = await job.lookup(h(), jid, ['guest.input']);
      const log = looked['guest.input']!.trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        log.map((e) => [e.name, e.context.data ?? e.context.eof ?? e.context.version]),
        [
          ['header', 1],
          ['data', 'late input\n'],
          ['data', true],
        ],
      );
      await assert.rejects(
        h().rpc(svc, { stream: 'stdin', eof: true }),
        (e: FluxError) => e.errno === 38,
        'the service ends with the job',
      );
    });

    test('run: output on the right streams', async () => {
      assert.deepEqual(await run(['run', 'sh', '-c', 'echo out; echo err >&2']), {
        rc: 0,
        stdout: 'out\n',
        stderr: 'err\n',
      });
      const r = await run(['run', '-n2', 'sh', '-c', 'echo task$FLUX_TASK_RANK']);
      assert.equal(r.rc, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['task0', 'task1']);
    });

    test('run: exit codes (N, 128+signal)', async () => {
      assert.equal((await run(['run', 'sh', '-c', 'exit 3'])).rc, 3);
      assert.deepEqual(await run(['run', 'sh', '-c', 'kill -9 $$']), {
        rc: 137,
        stdout: '',
        stderr: 'tsflux-job: task(s) Killed\n',
      });
    });

    test('run nosuchcmd: exec exception and rc 127', async () => {
      const r = await run(['run', 'nosuchcmd-tsflux']);
      assert.equal(r.rc, 127);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^\d+\.\d{3}s: job\.exception ƒ\S+ type=exec severity=0 task 0 \(host [^)]+\): start failed: nosuchcmd-tsflux: No such file or directory\ntsflux-job: task\(s\) exited with exit code 127\n$/,
      );
    });

    test('run: a submit error is tsflux-run: ERROR: <text>', async () => {
      assert.deepEqual(await run(['run', '--urgency=40', 'true']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-run: ERROR: urgency range is [0:31]\n',
      });
    });

    test('submit --cc=1-3: three f58 ids, one per line, in order', async () => {
      const r = await run(['submit', '--cc=1-3', 'true']);
      assert.equal(r.rc, 0, r.stderr);
      assert.equal(r.stderr, '');
      const ids = r.stdout.split('\n');
      assert.equal(ids.pop(), '');
      assert.equal(ids.length, 3);
      for (const id of ids) assert.match(id, F58);
      const dec = ids.map(parseJobId);
      assert.ok(dec[0]! < dec[1]! && dec[1]! < dec[2]!, 'ids in submission order');
    });

    test('submit --wait: waits, exits with the largest exit code; --quiet', async () => {
      const ok = await run(['submit', '--wait', 'true']);
      assert.equal(ok.rc, 0, ok.stderr);
      assert.match(ok.stdout.trim(), F58);
      const cc = await run(['submit', '--cc=1-3', '--wait', 'sh', '-c', 'exit $FLUX_JOB_CC']);
      assert.equal(cc.rc, 3);
      assert.equal(cc.stdout.trim().split('\n').length, 3);
      assert.deepEqual(await run(['submit', '--quiet', '--wait', 'true']), { rc: 0, stdout: '', stderr: '' });
    });

    test('submit --watch copies the output of every job', async () => {
      const r = await run(['submit', '--cc=1-2', '--watch', 'sh', '-c', 'echo cc=$FLUX_JOB_CC']);
      assert.equal(r.rc, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.deepEqual(lines.filter((l) => l.startsWith('cc=')).sort(), ['cc=1', 'cc=2']);
      assert.equal(lines.filter((l) => F58.test(l)).length, 2);
    });

    test('submit --urgency=40: the server error as flux prints it, rc 1', async () => {
      assert.deepEqual(await run(['submit', '--urgency=40', 'true']), {
        rc: 1,
        stdout: '',
        stderr: '[Errno 22] urgency range is [0:31]\n',
      });
    });
  });

  describe('jobs, cancel, job status, job info, job eventlog, job attach', SEQUENTIAL, () => {
    const { run, h } = useInstance();
    let ok = '';
    let fail = '';
    let held = '';
    let shout = '';

    before(async () => {
      // one after the other, so that they end in this order (jobs -a: inactive newest first);
      // job status follows each job to its end
      ok = await submitId(run, ['true']);
      assert.equal((await run(['job', 'status', ok])).rc, 0);
      fail = await submitId(run, ['false']);
      assert.deepEqual(await run(['job', 'status', '-v', fail]), {
        rc: 1,
        stdout: '',
        stderr: `tsflux-job: ${fail}: exited with exit code 1\n`,
      });
      shout = await submitId(run, ['sh', '-c', 'echo out; echo err >&2']);
      held = await submitId(run, ['--urgency=hold', 'true']);
      assert.equal((await run(['job', 'status', ok, shout])).rc, 0);
    });

    test('jobs: active jobs in the default format (a held job)', async () => {
      const r = await run(['jobs']);
      assert.equal(r.rc, 0, r.stderr);
      const user = os.userInfo().username.slice(0, 8).padEnd(8);
      assert.equal(
        r.stdout,
        `       JOBID USER     NAME       ST NTASKS NNODES     TIME INFO\n${held.padStart(12)} ${user} true        S      1      -        - held\n`,
      );
    });

    test('jobs -a -o: fields, order (pending, then inactive newest first), -n', async () => {
      const r = await run([
        'jobs',
        '-a',
        '-n',
        '-o',
        '{id.f58} {name:<6.6} {state_single} {status} {result_abbrev} {returncode} {ntasks}',
      ]);
      assert.equal(r.rc, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          `${held} true   S SCHED   1`,
          `${shout} sh     I COMPLETED CD 0 1`,
          `${fail} false  I FAILED F 1 1`,
          `${ok} true   I COMPLETED CD 0 1`,
        ].join('\n') + '\n',
      );
    });

    test('jobs -o: id encodings, header, python specs and conversions', async () => {
      const id = parseJobId(ok);
      const r = await run([
        'jobs',
        '-o',
        '{id.f58}|{id.dec}|{id.hex}|{id.words}|{id:>14}|{nnodes:>3h}|{runtime!F:>8}|{t_submit!d:%Y}|{username}',
        ok,
      ]);
      assert.equal(r.rc, 0, r.stderr);
      const [header, line] = r.stdout.split('\n');
      assert.equal(header, 'JOBID|JOBID|JOBID|JOBID|         JOBID|NNODES| RUNTIME|T_SUBMIT|USER');
      const f = line!.split('|');
      assert.deepEqual(f.slice(0, 5), [
        ok,
        encodeJobId(id, 'dec'),
        encodeJobId(id, 'hex'),
        encodeJobId(id, 'words'),
        encodeJobId(id, 'dec').padStart(14),
      ]);
      assert.equal(f[5], '  1');
      assert.match(f[6]!, /^ +\d+\.\d{3}s$/);
      const submitted = JSON.parse((await job.lookup(h(), id, ['eventlog'])).eventlog!.split('\n')[0]!).timestamp;
      assert.equal(f[7], String(new Date(submitted * 1000).getFullYear()));
      assert.equal(f[8], os.userInfo().username);
    });

    test('jobs --filter: results and states', async () => {
      const names = async (filter: string) =>
        (await run(['jobs', '-n', '-o', '{id.f58}', `--filter=${filter}`])).stdout.split('\n').filter(Boolean);
      assert.deepEqual(await names('failed'), [fail]);
      assert.deepEqual(await names('completed'), [shout, ok]);
      assert.deepEqual(await names('pending,failed'), [held, fail]);
      assert.deepEqual(await names('running'), []);
      const bad = await run(['jobs', '--filter=bogus']);
      assert.deepEqual(bad, { rc: 1, stdout: '', stderr: 'tsflux-jobs: ERROR: Invalid filter specified: bogus\n' });
      const c1 = await run(['jobs', '-a', '-c', '1', '-n', '-o', '{id.f58}']);
      assert.equal(c1.stdout, `${held}\n`);
    });

    test('jobs: errors (format, unknown id)', async () => {
      assert.deepEqual(await run(['jobs', '-o', '{bogus}']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-jobs: ERROR: Error in user format: Unknown format field: bogus\n',
      });
      const r = await run(['jobs', '-n', '-o', '{id.f58}', ok, '123456789']);
      assert.deepEqual(r, { rc: 0, stdout: `${ok}\n`, stderr: 'JobID 123456789 unknown\n' });
    });

    test('job info: jobspec, R, eventlog (job-info.lookup)', async () => {
      const spec = await run(['job', 'info', shout, 'jobspec']);
      assert.equal(spec.rc, 0, spec.stderr);
      assert.deepEqual(JSON.parse(spec.stdout).tasks[0].command, ['sh', '-c', 'echo out; echo err >&2']);
      const R = await run(['job', 'info', shout, 'R']);
      assert.equal(JSON.parse(R.stdout).execution.R_lite.length, 1);
      const ev = await run(['job', 'info', shout, 'eventlog']);
      assert.equal(ev.stdout, (await job.lookup(h(), parseJobId(shout), ['eventlog'])).eventlog + '\n');
    });

    test('job eventlog: text and json, -p exec, unknown job', async () => {
      const text = await run(['job', 'eventlog', ok]);
      assert.equal(text.rc, 0, text.stderr);
      const lines = text.stdout.split('\n').filter(Boolean);
      assert.deepEqual(
        lines.map((l) => l.split(' ')[1]),
        ['submit', 'validate', 'depend', 'priority', 'alloc', 'start', 'finish', 'release', 'free', 'clean'],
      );
      assert.match(lines[0]!, /^\d+\.\d{6} submit userid=\d+ urgency=16 flags=0 version=1$/);
      assert.match(lines[6]!, /^\d+\.\d{6} finish status=0$/);
      assert.match(lines[7]!, /^\d+\.\d{6} release ranks="all" final=true$/);
      const json = await run(['job', 'eventlog', '-f', 'json', fail]);
      assert.equal(json.stdout, (await job.lookup(h(), parseJobId(fail), ['eventlog'])).eventlog);
      const exec = await run(['job', 'eventlog', '-p', 'exec', ok]);
      assert.equal(exec.rc, 0, exec.stderr);
      assert.ok(
        exec.stdout.split('\n').some((l) => / shell\.init /.test(l)),
        exec.stdout,
      );
      assert.deepEqual(await run(['job', 'eventlog', '123456789']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-job: job 123456789 not found\n',
      });
    });

    test('job eventlog -F follows a running job to its end', async () => {
      const id = await submitId(run, ['sleep', '0.5']);
      const r = await run(['job', 'eventlog', '-F', id]);
      assert.equal(r.rc, 0, r.stderr);
      const names = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[1]);
      assert.equal(names[0], 'submit');
      assert.equal(names.at(-1), 'clean');
      assert.ok(names.includes('finish'));
    });

    test('job attach of an inactive job replays its output', async () => {
      assert.deepEqual(await run(['job', 'attach', shout]), { rc: 0, stdout: 'out\n', stderr: 'err\n' });
      assert.deepEqual(await run(['job', 'attach', fail]), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-job: task(s) exited with exit code 1\n',
      });
    });

    test('job raise: an exception of any type and severity', async () => {
      assert.deepEqual(await run(['job', 'raise', '--type=test', '--severity=1', '--message=a note', held]), {
        rc: 0,
        stdout: '',
        stderr: '',
      });
      const ev = await run(['job', 'eventlog', held]);
      assert.match(ev.stdout, /\n\d+\.\d{6} exception type="test" severity=1 note="a note"/);
      const r = await run(['job', 'raise', ok]);
      assert.equal(r.rc, 1);
      assert.match(r.stderr, new RegExp(`^tsflux-job: raise ${ok}: .+\\n$`));
    });

    test('cancel a pending (held) job → CANCELED; errors as flux-cancel prints them', async () => {
      assert.equal((await run(['jobs', '--stats-only'])).rc, 0, 'an active job exists');
      assert.deepEqual(await run(['cancel', held]), { rc: 0, stdout: '', stderr: '' });
      assert.equal((await run(['job', 'status', held])).rc, 1, 'ended by an exception: exit code 1');
      const r = await run(['jobs', '-n', '-o', '{status} {returncode} {exception.type} {inactive_reason}', held]);
      assert.equal(r.stdout, 'CANCELED -128 cancel Canceled\n');
      const stats = await run(['jobs', '--stats-only']);
      // completed: ok, shout and the sleep of the -F test; failed: fail and the canceled job
      assert.deepEqual(stats, {
        rc: 1,
        stdout: '0 running, 3 completed, 2 failed, 0 pending, 0 inactive purged\n',
        stderr: '',
      });
      assert.deepEqual(await run(['cancel', held]), {
        rc: 1,
        stdout: '',
        stderr: `tsflux-cancel: ERROR: ${held}: job is inactive\n`,
      });
      assert.deepEqual(await run(['cancel', '123456789']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-cancel: ERROR: ƒBukQL: unknown job id\n',
      });
      assert.deepEqual(await run(['job', 'cancel', held]), {
        rc: 1,
        stdout: '',
        stderr: `tsflux-job: cancel ${held}: job is inactive\n`,
      });
    });
  });

  describe('cancel --all / --user / --states', SEQUENTIAL, () => {
    const { run, h } = useInstance();
    const activeIds = async (): Promise<string[]> =>
      (await run(['jobs', '-n', '-o', '{id.f58}'])).stdout.split('\n').filter(Boolean).sort();

    test('dry run counts, -S pending cancels only the pending ones, --all the rest, then nothing matches', async () => {
      const held = [await submitId(run, ['--urgency=hold', 'true']), await submitId(run, ['--urgency=hold', 'true'])];
      const running = await submitId(run, ['sleep', '100']);
      await job.eventWait(h(), parseJobId(running), 'start');
      assert.deepEqual(await run(['cancel', '--all', '--dry-run']), {
        rc: 0,
        stdout: '',
        stderr: 'tsflux-cancel: Would cancel 3 jobs\n',
      });
      assert.deepEqual(await activeIds(), [...held, running].sort());
      assert.deepEqual(await run(['cancel', '-S', 'pending', '-m', 'cleanup']), {
        rc: 0,
        stdout: '',
        stderr: 'tsflux-cancel: Canceled 2 jobs (0 errors)\n',
      });
      for (const id of held) {
        const r = await run(['jobs', '-n', '-o', '{result} {exception.type} {exception.note}', id]);
        assert.equal(r.stdout, 'CANCELED cancel cleanup\n');
      }
      assert.deepEqual(await activeIds(), [running]);
      assert.deepEqual(await run(['cancel', '--states=RUN,sched', '--user', String(process.getuid!())]), {
        rc: 0,
        stdout: '',
        stderr: 'tsflux-cancel: Canceled 1 job (0 errors)\n',
      });
      assert.equal((await run(['job', 'status', running])).rc, 143, 'SIGTERM: 128 + 15');
      assert.deepEqual(await run(['cancel', '--all']), {
        rc: 0,
        stdout: '',
        stderr: 'tsflux-cancel: Matched 0 jobs\n',
      });
      assert.deepEqual(await run(['cancel', '-u', 'all', '-q']), { rc: 0, stdout: '', stderr: '' });
    });

    test('bad selections: ids with --all, an unknown state or user', async () => {
      assert.deepEqual(await run(['cancel', '--all', '123']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-cancel: ERROR: Do not specify a list of jobids with --all,--user,--states options\n',
      });
      assert.deepEqual(await run(['cancel', '-S', 'pending,bogus']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-cancel: ERROR: Invalid state bogus specified\n',
      });
      assert.deepEqual(await run(['cancel', '-u', 'no-such-user-here']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-cancel: ERROR: Invalid user no-such-user-here specified\n',
      });
    });
  });

  describe('job wait', SEQUENTIAL, () => {
    const { run } = useInstance();

    test('by id, any, then nothing left (exit 2)', async () => {
      const a = await submitId(run, ['--flags=waitable', 'true']);
      const b = await submitId(run, ['--flags=waitable', 'false']);
      const c = await submitId(run, ['--flags=waitable', 'sh', '-c', 'exit 3']);
      assert.deepEqual(await run(['job', 'wait', a]), { rc: 0, stdout: '', stderr: '' });
      assert.deepEqual(await run(['job', 'wait', b]), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-job: task(s) exited with exit code 1\n',
      });
      assert.deepEqual(await run(['job', 'wait']), {
        rc: 1,
        stdout: `${c}\n`,
        stderr: 'tsflux-job: task(s) exited with exit code 3\n',
      });
      assert.deepEqual(await run(['job', 'wait']), {
        rc: 2,
        stdout: '',
        stderr: 'tsflux-job: there are no more waitable jobs\n',
      });
      const nw = await submitId(run, ['true']);
      const r = await run(['job', 'wait', nw]);
      assert.equal(r.rc, 2);
      // active: not waitable; already inactive: unknown to the waiters
      assert.match(
        r.stderr,
        /^tsflux-job: (job was not submitted with FLUX_JOB_WAITABLE|invalid job id, or job may be inactive and not waitable)\n$/,
      );
    });

    test('--all: every waitable job; failures make rc 1; nothing left is rc 0', async () => {
      const a = await submitId(run, ['--flags=waitable', 'true']);
      const b = await submitId(run, ['--flags=waitable', 'false']);
      const r = await run(['job', 'wait', '--all', '-v']);
      assert.equal(r.rc, 1);
      assert.equal(r.stdout, '');
      assert.deepEqual(
        r.stderr.split('\n').filter(Boolean).sort(),
        [`${a}: job completed successfully`, `${b}: task(s) exited with exit code 1`].sort(),
      );
      assert.deepEqual(await run(['job', 'wait', '--all']), { rc: 0, stdout: '', stderr: '' });
    });
  });

  describe('running jobs: kill, urgency, resource list, ctrl-C, queue drain', SEQUENTIAL, () => {
    const { run, h, uri } = useInstance();
    const started = (id: string) => job.eventWait(h(), parseJobId(id), 'start');

    test('resource list / status on an idle instance', async () => {
      assert.deepEqual(await run(['resource', 'list']), {
        rc: 0,
        stdout: `     STATE NNODES NCORES NGPUS NODELIST\n      free      1      2     0 ${host}\n allocated      0      0     0 \n      down      0      0     0 \n`,
        stderr: '',
      });
      assert.deepEqual(await run(['resource', 'status']), {
        rc: 0,
        stdout: `       STATEUP NNODES NODELIST\n       avail ✔      1 ${host}\n`,
        stderr: '',
      });
    });

    test('with both cores busy: resource list, job urgency, job kill, job status', async () => {
      const s1 = await submitId(run, ['sleep', '1000']);
      const s2 = await submitId(run, ['sleep', '1000']);
      await started(s1);
      await started(s2);
      assert.equal(
        (await run(['resource', 'list'])).stdout,
        `     STATE NNODES NCORES NGPUS NODELIST\n      free      0      0     0 \n allocated      1      2     0 ${host}\n      down      0      0     0 \n`,
      );
      // a pending job (no free core): urgency changes, with -v the old value
      const p = await submitId(run, ['true']);
      assert.deepEqual(await run(['job', 'urgency', '-v', p, '20']), {
        rc: 0,
        stdout: '',
        stderr: 'old urgency: 16\n',
      });
      assert.deepEqual(await run(['job', 'urgency', '-v', p, 'expedite']), {
        rc: 0,
        stdout: '',
        stderr: 'old urgency: 20\n',
      });
      assert.deepEqual(await run(['job', 'urgency', '-v', p, 'hold']), {
        rc: 0,
        stdout: '',
        stderr: 'old urgency: job expedited\n',
      });
      assert.deepEqual(await run(['job', 'urgency', '-v', p, 'default']), {
        rc: 0,
        stdout: '',
        stderr: 'old urgency: job held\n',
      });
      const ur = await run(['job', 'urgency', s1, '20']);
      assert.equal(ur.rc, 1);
      assert.match(ur.stderr, new RegExp(`^tsflux-job: ${s1}: .+\\n$`));
      // kill: not running is an error; a running job gets SIGTERM
      assert.deepEqual(await run(['job', 'kill', p]), {
        rc: 1,
        stdout: '',
        stderr: `tsflux-job: kill ${p}: job is not running\n`,
      });
      assert.deepEqual(await run(['job', 'kill', s1]), { rc: 0, stdout: '', stderr: '' });
      assert.deepEqual(await run(['job', 'status', '-v', s1]), {
        rc: 143,
        stdout: '',
        stderr: `tsflux-job: ${s1}: exited with exit code 143\n`,
      });
      assert.equal((await run(['jobs', '-n', '-o', '{result} {returncode}', s1])).stdout, 'FAILED 143\n');
      assert.deepEqual(await run(['job', 'kill', '-s', 'KILL', s2]), { rc: 0, stdout: '', stderr: '' });
      assert.equal((await run(['job', 'status', s2])).rc, 137);
      assert.equal((await run(['job', 'status', p])).rc, 0, 'the pending job ran once cores were free');
      assert.deepEqual(await run(['job', 'kill', '-s', 'NOSIG', p]), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-job: kill: Invalid signal NOSIG\n',
      });
    });

    test('run: ctrl-C cancels the job', async () => {
      const cli = tsflux(['run', '-v', 'sleep', '1000'], uri());
      // run -v announces the job once it is attached; interrupt the CLI once the job runs
      let stderr = '';
      cli.child.stderr!.on('data', (d: string) => (stderr += d));
      await until(() => /^jobid: \S+\n/.test(stderr));
      const id = /^jobid: (\S+)\n/.exec(stderr)![1]!;
      await started(id);
      cli.child.kill('SIGINT');
      const res = await cli;
      assert.equal(res.rc, 143);
      assert.equal(res.stdout, '');
      assert.match(
        res.stderr,
        new RegExp(
          `^jobid: ${id}\\n\\d+\\.\\d{3}s: job\\.exception ${id} type=cancel severity=0 interrupted by ctrl-C\\n`,
        ),
      );
      assert.equal((await run(['jobs', '-n', '-o', '{result}', id])).stdout, 'CANCELED\n');
    });

    test('queue drain waits for every job; queue status', async () => {
      await submitId(run, ['sleep', '0.3']);
      await submitId(run, ['true']);
      assert.deepEqual(await run(['queue', 'drain']), { rc: 0, stdout: '', stderr: '' });
      assert.deepEqual(await run(['jobs', '-n']), { rc: 0, stdout: '', stderr: '' });
      assert.deepEqual(await run(['queue', 'status']), {
        rc: 0,
        stdout: 'Job submission is enabled\nScheduling is started\n',
        stderr: '',
      });
    });
  });

  describe('run in the background of an interactive shell', SEQUENTIAL, () => {
    // A terminal (script(1) makes one; its stdin at EOF makes the terminal readable) and a shell
    // with job control: `tsflux run CMD &` must not read the terminal from the background
    // (SIGTTIN would stop it); it runs to the end.
    test('tsflux run CMD & finishes instead of stopping for tty input', { skip: noTerminal }, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-bg-'));
      try {
        const file = path.join(dir, 'bg.sh');
        // the job lasts long enough for attach to start on its stdin
        fs.writeFileSync(
          file,
          'set -m\ntsflux run sh -c "sleep 1; echo from-background" &\nwait %1\necho "rc=$?"\njobs -l\n',
        );
        const env = { ...baseEnv(), PATH: `${path.join(repoRoot, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}` };
        const child = spawn(
          scriptBin!,
          ['-qc', `${process.execPath} ${tsfluxBin} start bash --norc -i ${file}`, '/dev/null'],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
        await new Promise((resolve) => child.on('close', resolve));
        assert.match(out, /from-background/);
        assert.match(out, /rc=0/);
        assert.doesNotMatch(out, /Stopped/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('getattr, ping, bad ids, no instance', SEQUENTIAL, () => {
    const { run, uri } = useInstance();

    test('getattr size', async () => {
      assert.deepEqual(await run(['getattr', 'size']), { rc: 0, stdout: '1\n', stderr: '' });
      assert.deepEqual(await run(['getattr', 'nosuch']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-getattr: nosuch: No such file or directory\n',
      });
    });

    test('ping', async () => {
      const r = await run(['ping', '--count=1', 'broker']);
      assert.equal(r.rc, 0, r.stderr);
      assert.match(r.stdout, /^tsflux-ping any!broker\n0!broker\.ping pad=0 seq=0 time=\d+\.\d{3} ms \(\S+\)\n$/);
      const r2 = await run(['ping', '-c', '2', '-i', '0', '-p', '4', '0']);
      assert.match(
        r2.stdout,
        /^tsflux-ping 0!broker\n0!broker\.ping pad=4 seq=0 time=\S+ ms \(\S+\)\n0!broker\.ping pad=4 seq=1 time=\S+ ms \(\S+\)\n$/,
      );
      const r3 = await run(['ping', '-c', '1', 'nosuch']);
      assert.deepEqual(r3, {
        rc: 1,
        stdout: 'tsflux-ping any!nosuch\n',
        stderr: 'tsflux-ping: nosuch.ping: No service matching nosuch.ping is registered\n',
      });
    });

    test('bad ids: <input>: malformed input, rc 1', async () => {
      for (const args of [
        ['job', 'eventlog', 'xyz'],
        ['job', 'wait', 'xyz'],
        ['job', 'urgency', 'xyz', '1'],
      ]) {
        assert.deepEqual(
          await run(args),
          { rc: 1, stdout: '', stderr: 'tsflux-job: xyz: malformed input\n' },
          args.join(' '),
        );
      }
      assert.deepEqual(await run(['cancel', 'ƒ0']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-cancel: ƒ0: malformed input\n',
      });
      assert.deepEqual(await run(['jobs', '1e3']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-jobs: 1e3: malformed input\n',
      });
      assert.deepEqual(await run(['job', 'kill', '1', 'xyz']), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux-job: invalid jobid: xyz\n',
      });
    });

    test('no instance: a clear message naming the URI, rc 1', async () => {
      assert.deepEqual(await tsflux(['jobs'], undefined), {
        rc: 1,
        stdout: '',
        stderr: 'tsflux: jobs: cannot connect: no instance (FLUX_URI not set)\n',
      });
      const gone = `local://${path.join(path.dirname(uri().slice('local://'.length)), 'nothing-here')}`;
      const env = { FLUX_LOCAL_CONNECTOR_RETRY_COUNT: '0' };
      assert.deepEqual(await tsflux(['getattr', 'size'], gone, env), {
        rc: 1,
        stdout: '',
        stderr: `tsflux: getattr: cannot connect to ${gone}: No such file or directory\n`,
      });
      assert.deepEqual(await tsflux(['run', 'true'], gone, env), {
        rc: 1,
        stdout: '',
        stderr: `tsflux: run: cannot connect to ${gone}: No such file or directory\n`,
      });
      assert.deepEqual(await tsflux(['job', 'wait'], gone, env), {
        rc: 1,
        stdout: '',
        stderr: `tsflux: job wait: cannot connect to ${gone}: No such file or directory\n`,
      });
    });
  });

  test('tsflux start runs a command inside a new instance and exits with its status', SEQUENTIAL, async () => {
    const T = `${process.execPath} ${tsfluxBin}`;
    const r = await tsflux(
      [
        'start',
        '--cores=1',
        '--gpus=0',
        'sh',
        '-c',
        '$T run echo hello; $T getattr size; $T jobs -a -n -o "{name} {status}"; exit 3',
      ],
      undefined,
      { T },
    );
    assert.deepEqual(r, { rc: 3, stdout: 'hello\n1\necho COMPLETED\n', stderr: '' });
  });
});
