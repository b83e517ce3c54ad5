/**
 * The task launcher dies (kill -9) under a real instance: the running job gets an exception
 * naming the cause, a new launcher is started and every other job runs as usual; when no new
 * launcher can be started, submits are refused with the reason.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withInstance } from '../helpers/instance.js';
import { HANG_TIMEOUT, alive, dead, lineOf } from '../helpers/wait.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { Errno, FluxError } from '../../src/protocol/errno.js';
import type { Flux } from '../../src/client/handle.js';
import { findNativeLauncher } from '../../src/broker/launcher/spawner.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const NATIVE = findNativeLauncher();
const LAUNCHERS = ['node', 'native'] as const;

/** A job whose task writes its parent's pid (the launcher's) to `file`, then waits on stdin. */
function launcherReporter(file: string, coresPerTask = 1): JobspecV1 {
  return JobspecV1.fromCommand(['sh', '-c', `echo $PPID > ${file}; exec cat`], { environment: env, coresPerTask });
}

/** Resolves once the job's eventlog has `start` (its tasks have all been reported started). */
async function started(h: Flux, id: bigint): Promise<void> {
  for await (const ev of job.eventWatch(h, id)) if (ev.name === 'start') return;
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-launcher-faults-'));
}

for (const launcher of LAUNCHERS) {
  const skip = launcher === 'native' && !NATIVE ? 'native launcher not built' : false;
  describe(`the task launcher dies [${launcher}]`, { skip, timeout: HANG_TIMEOUT }, () => {
    test('the running job gets an exception naming it, a new launcher runs the rest', async () => {
      const dir = tmp();
      try {
        await withInstance(
          async (_inst, h) => {
            const file = path.join(dir, 'ppid');
            // all the cores, so that the next job waits for them
            const running = await job.submit(h, launcherReporter(file, 2), { waitable: true });
            const pid = Number(await lineOf(file));
            await started(h, running); // the broker knows the task's pid
            assert.ok(alive(pid));
            const pending = await job.submit(h, JobspecV1.fromCommand(['true'], { environment: env }), {
              waitable: true,
            });
            process.kill(pid, 'SIGKILL');
            const r = await job.wait(h, running);
            assert.equal(r.success, false);
            assert.match(r.errstr, new RegExp(`lost: task launcher \\(pid ${pid}\\) killed by SIGKILL`));
            assert.deepEqual(await job.wait(h, pending), { jobid: pending, success: true, errstr: '' });
            // and later jobs too, on a new launcher
            const file2 = path.join(dir, 'ppid2');
            const next = await job.submit(h, launcherReporter(file2), { waitable: true });
            const pid2 = Number(await lineOf(file2));
            assert.notEqual(pid2, pid);
            await dead(pid);
            await job.cancel(h, next);
            assert.equal((await job.wait(h, next)).success, false);
          },
          { launcher: { launcher } },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe(
  'no new task launcher can be started',
  { skip: NATIVE ? false : 'native launcher not built', timeout: HANG_TIMEOUT },
  () => {
    test('submits are refused with the reason, jobs already queued fail with it', async () => {
      const dir = tmp();
      try {
        const bin = path.join(dir, 'tsflux-launcher');
        fs.copyFileSync(NATIVE!, bin);
        fs.chmodSync(bin, 0o755);
        await withInstance(
          async (_inst, h) => {
            const down = new Promise<any>(
              (resolve) =>
                void h.eventSubscribe('job-exec.launcher', (_t, p) => {
                  if (p?.running === false) resolve(p);
                }),
            );
            const file = path.join(dir, 'ppid');
            const running = await job.submit(h, launcherReporter(file, 2), { waitable: true });
            const pid = Number(await lineOf(file));
            await started(h, running);
            const pending = await job.submit(h, JobspecV1.fromCommand(['true'], { environment: env }), {
              waitable: true,
            });
            fs.rmSync(bin); // the next launcher cannot start
            process.kill(pid, 'SIGKILL');
            assert.match((await job.wait(h, running)).errstr, /lost: task launcher/);
            const r = await job.wait(h, pending);
            assert.equal(r.success, false);
            assert.match(r.errstr, /start failed: .*task launcher/);
            await down;
            await assert.rejects(
              job.submit(h, JobspecV1.fromCommand(['true'], { environment: env })),
              (e: unknown) =>
                e instanceof FluxError &&
                e.errno === Errno.EAGAIN &&
                /^job submission is disabled: no task launcher: native task launcher not found/.test(e.message),
            );
          },
          { launcher: { launcher: 'native', nativePath: bin } },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
