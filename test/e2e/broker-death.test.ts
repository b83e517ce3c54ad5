/**
 * `kill -9` of the broker (`tsflux start`): its initial program gets SIGHUP (parent-death
 * signal) instead of running on under init, and the next `tsflux start` removes the runtime
 * directory the dead instance left, saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baseEnv } from '../helpers/cli.js';
import { tsfluxBin } from '../helpers/paths.js';
import { HANG_TIMEOUT, alive, dead, lineOf, until } from '../helpers/wait.js';

test(
  'kill -9 of the broker: the initial program gets SIGHUP, the next start removes the rundir',
  { timeout: HANG_TIMEOUT },
  async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-broker-death-'));
    try {
      const env = { ...baseEnv(), TMPDIR: tmp };
      const file = path.join(tmp, 'pid');
      const broker = spawn(tsfluxBin, ['start', 'sh', '-c', `echo $$ > ${file}; exec sleep 3999`], {
        env,
        stdio: 'ignore',
      });
      const program = Number(await lineOf(file));
      const rundirs = fs.readdirSync(tmp).filter((n) => n.startsWith('tsflux-'));
      assert.equal(rundirs.length, 1);
      const rundir = path.join(tmp, rundirs[0]!);
      await until(() => fs.existsSync(path.join(rundir, 'local-0')), 'the socket');
      broker.kill('SIGKILL');
      await dead(program);
      assert.ok(fs.existsSync(rundir), 'left behind by the killed broker');
      const r = spawnSync(tsfluxBin, ['start', '-v', 'true'], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`tsflux start: removed ${rundir}, the runtime directory of an instance that is gone`),
      );
      assert.equal(fs.existsSync(rundir), false);
      assert.equal(alive(program), false);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);
