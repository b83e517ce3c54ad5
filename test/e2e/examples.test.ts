/**
 * The seed's walkthrough as a user types it: `tsflux start -o,-S,log-filename=out` running a
 * shell that makes jobspecs with `tsflux mini run --dry-run`, then the two example scripts by
 * name (their tsx shebang and `tsflux` found on the instance's PATH).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, tsfluxBin } from '../helpers/paths.js';
import { HANG_TIMEOUT, alive, dead, lineOf } from '../helpers/wait.js';
import { seedWalkthrough } from '../helpers/seed.js';

const exampleDir = path.join(repoRoot, 'examples', 'async-bulk-job-submit');

test('part (a) and part (b) print the seed lines inside a fresh instance', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-example-'));
  try {
    const script = ['set -e', ...seedWalkthrough(work)].join('\n');
    const r = spawnSync(
      process.execPath,
      [tsfluxBin, 'start', `-o,-S,log-filename=${work}/out`, 'bash', '-c', script],
      {
        cwd: exampleDir,
        encoding: 'utf8',
        env: { ...process.env, FLUX_URI: '' },
        timeout: 240_000,
      },
    );
    assert.equal(r.status, 0, `rc ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    const expect = [
      /^bulksubmit: Starting\.\.\.$/,
      /^bulksubmit: submitted 25 jobs in \d+\.\d\ds\. \d+\.\d\djob\/s$/,
      /^bulksubmit: First job finished in about \d+\.\d{3}s$/,
      /^\|█{58}\| 100\.0% \(\d+\.\d job\/s\)$/,
      /^bulksubmit: Ran 25 jobs in \d+\.\ds\. \d+\.\d job\/s$/,
      /^bulksubmit_executor: submitted 20 jobs in \d+\.\d\ds\. \d+\.\d\djob\/s$/,
      /^bulksubmit_executor: First job finished in about \d+\.\d{3}s$/,
      /^\|█{58}\| 100\.0% \(\d+\.\d job\/s\)$/,
      /^bulksubmit_executor: Ran 20 jobs in \d+\.\ds\. \d+\.\d job\/s$/,
    ];
    assert.equal(lines.length, expect.length, r.stdout);
    expect.forEach((re, i) => assert.match(lines[i]!, re));
    const log = fs.readFileSync(path.join(work, 'out'), 'utf8');
    assert.match(log, /broker started: local:\/\//);
    assert.match(log, /broker stopped/);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test(
  'part (a) and part (b) under tsflux start --test-size=3: the jobs land on every rank',
  { timeout: HANG_TIMEOUT },
  () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-example-'));
    try {
      const script = [
        'set -e',
        ...seedWalkthrough(work),
        // three jobs that hold their core until told: with one core per broker, all three
        // running means one on each rank, whatever the timing
        `tsflux submit --cc=1-3 sh -c 'while [ ! -e ${work}/go ]; do sleep 0.05; done' > ${work}/held`,
        `until [ "$(tsflux jobs -n -f running -o '{id}' | wc -l)" = 3 ]; do sleep 0.05; done`,
        "tsflux jobs -n -f running -o '{ranks}' | sort",
        `touch ${work}/go`,
        `for id in $(cat ${work}/held); do tsflux job attach $id; done`,
      ].join('\n');
      const r = spawnSync(
        process.execPath,
        [tsfluxBin, 'start', '--test-size=3', '--cores=1', `-o,-S,log-filename=${work}/out`, 'bash', '-c', script],
        { cwd: exampleDir, encoding: 'utf8', env: { ...process.env, FLUX_URI: '' } },
      );
      assert.equal(r.status, 0, `rc ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[1]!, /^bulksubmit: submitted 25 jobs in/);
      assert.match(lines[4]!, /^bulksubmit: Ran 25 jobs in/);
      assert.match(lines[5]!, /^bulksubmit_executor: submitted 20 jobs in/);
      assert.match(lines[8]!, /^bulksubmit_executor: Ran 20 jobs in/);
      // the seed's own jobs spread as they overlap (first fit: not asserted); the held ones
      // cannot share a rank
      assert.deepEqual(lines.slice(9, 12), ['0', '1', '2']);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
);

test('tsflux start exits with the status of its command and removes its runtime directory', () => {
  const r = spawnSync(
    process.execPath,
    [tsfluxBin, 'start', 'sh', '-c', 'echo "$FLUX_URI"; tsflux getattr size; exit 3'],
    {
      encoding: 'utf8',
      env: { ...process.env, FLUX_URI: '' },
    },
  );
  assert.equal(r.status, 3, r.stderr);
  const [uri, size] = r.stdout.trim().split('\n');
  assert.match(uri!, /^local:\/\/.+\/local-0$/);
  assert.equal(size, '1');
  const dir = path.dirname(uri!.slice('local://'.length));
  assert.equal(fs.existsSync(dir), false, `${dir} is removed`);
});

test(
  'SIGTERM to tsflux start kills running jobs and removes the runtime directory',
  { timeout: HANG_TIMEOUT },
  async () => {
    const { spawn } = await import('node:child_process');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-term-'));
    let jobPid = 0;
    try {
      const pidFile = path.join(work, 'pid');
      const uriFile = path.join(work, 'uri');
      const child = spawn(
        process.execPath,
        [
          tsfluxBin,
          'start',
          'sh',
          '-c',
          `echo "$FLUX_URI" > ${uriFile}; tsflux submit sh -c 'echo $$ > ${pidFile}; exec sleep 3600' > /dev/null; sleep 3600`,
        ],
        { env: { ...process.env, FLUX_URI: '' }, stdio: 'ignore' },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      jobPid = Number(await lineOf(pidFile)); // the job runs
      assert.ok(jobPid > 0);
      child.kill('SIGTERM');
      assert.equal(await exited, 143);
      await dead(jobPid); // the running job was killed (it would sleep for an hour)
      const uri = fs.readFileSync(uriFile, 'utf8').trim();
      assert.equal(
        fs.existsSync(path.dirname(uri.slice('local://'.length))),
        false,
        'the runtime directory is removed',
      );
    } finally {
      if (jobPid > 0 && alive(jobPid)) process.kill(jobPid, 'SIGKILL');
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
);
