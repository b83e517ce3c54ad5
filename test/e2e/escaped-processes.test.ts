/**
 * A job's processes end with it, also those that left its process group and session (setsid):
 * after a cancel, after a normal end and when the instance exits. The native launcher is a
 * child subreaper and kills what a task left behind; the node helper cannot (README).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withInstance } from '../helpers/instance.js';
import { Instance } from '../../src/broker/instance.js';
import { Flux } from '../../src/client/handle.js';
import { HANG_TIMEOUT, alive, dead, lineOf } from '../helpers/wait.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { findNativeLauncher } from '../../src/broker/launcher/spawner.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const opts = { launcher: { launcher: 'native' as const } };

/** A job that starts `sleep` in a session of its own, writes its pid to `file`, then runs `then`. */
function escaping(file: string, then: string): JobspecV1 {
  return JobspecV1.fromCommand(['sh', '-c', `setsid sleep 3016 & echo $! > ${file}; ${then}`], {
    environment: env,
  });
}

describe(
  "a job's escaped processes end with it [native]",
  { skip: findNativeLauncher() ? false : 'native launcher not built', timeout: HANG_TIMEOUT },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-escaped-'));

    test('after a cancel', async () => {
      await withInstance(async (_i, h) => {
        const file = path.join(dir, 'cancel');
        const id = await job.submit(h, escaping(file, 'exec sleep 3017'), { waitable: true });
        const pid = Number(await lineOf(file));
        assert.ok(alive(pid));
        await job.cancel(h, id);
        await job.wait(h, id);
        await dead(pid);
      }, opts);
    });

    test('after a normal end', async () => {
      await withInstance(async (_i, h) => {
        const file = path.join(dir, 'end');
        const id = await job.submit(h, escaping(file, 'exit 0'), { waitable: true });
        assert.equal((await job.wait(h, id)).success, true);
        await dead(Number(await lineOf(file)));
      }, opts);
    });

    test('when the instance exits', async () => {
      const file = path.join(dir, 'exit');
      const inst = await Instance.start({ cores: '1', gpus: '0', killTimeout: 1, ...opts });
      const h = await Flux.open(inst.uri);
      await job.submit(h, escaping(file, 'exec sleep 3017'));
      const pid = Number(await lineOf(file));
      h.close();
      await inst.stop();
      await dead(pid);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  },
);

/** Why this process could not make a cgroup v2 below its own (as the launcher does), or undefined. */
function noCgroup(): string | undefined {
  const own = /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  if (own === undefined) return 'no cgroup v2 hierarchy (/proc/self/cgroup has no 0:: line)';
  const mnt = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.includes(' - cgroup2 '))
    ?.split(' ')[4];
  if (mnt === undefined) return 'cgroup2 is not mounted';
  const probe = path.join(mnt, own === '/' ? '' : own, `tsflux-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    const kill = fs.existsSync(path.join(probe, 'cgroup.kill'));
    fs.rmdirSync(probe);
    return kill ? undefined : 'the kernel has no cgroup.kill (before 5.14)';
  } catch (e) {
    return `cannot make a cgroup below ${path.join(mnt, own)}: ${(e as Error).message}`;
  }
}

const cgroupMissing = noCgroup();
const cgroupSkip = cgroupMissing !== undefined && process.env.CI !== 'true' ? cgroupMissing : false;

test(
  'where a cgroup can be made: a process that clears its environment before it escapes still ends with its task [native]',
  { skip: !findNativeLauncher() ? 'native launcher not built' : cgroupSkip, timeout: HANG_TIMEOUT },
  async () => {
    assert.equal(cgroupMissing, undefined, `under CI the cgroup containment must be testable: ${cgroupMissing}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-cgroup-'));
    try {
      await withInstance(async (_i, h) => {
        const file = path.join(dir, 'pid');
        // no TSFLUX_TASK marker survives `env -i`: only the task's cgroup knows it
        const spec = JobspecV1.fromCommand(
          [
            'sh',
            '-c',
            `env -i /bin/sh -c 'setsid sleep 3019 & echo $! > ${file}'; grep '^0::' /proc/self/cgroup > ${file}.cg`,
          ],
          { environment: env },
        );
        const id = await job.submit(h, spec, { waitable: true });
        const pid = Number(await lineOf(file));
        assert.equal((await job.wait(h, id)).success, true);
        await dead(pid);
        assert.match(fs.readFileSync(`${file}.cg`, 'utf8'), /^0::.*\/tsflux-launcher-\d+\/task-\d+-\d+\n$/);
      }, opts);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
