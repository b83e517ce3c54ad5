/**
 * An instance across nodes under a real Slurm: the testbed of scripts/slurm-testbed.sh (three
 * slurmd, nodes n1 n2 n3, each with its own host name and loopback address), brought up before
 * these tests and torn down after them, even when they fail. The tests run one after the other.
 *
 * Without root or Slurm's packages they skip, saying why; under CI (CI=true) or with
 * TSFLUX_REQUIRE_SLURM=1 they fail instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import { acquireTestbed, processesWith, slurm, slurmMissing, slurmRequired, type Testbed } from '../helpers/slurm.js';

const missing = slurmMissing();
const skip = missing !== undefined && !slurmRequired ? missing : false;
if (skip) {
  process.stderr.write(
    `\n*** SKIPPED: the Slurm tests (test/e2e/slurm.test.ts): ${skip}. ` +
      'They run under .ci/run; see the README, "Tests". ***\n\n',
  );
}

/** A marker in the environment of everything one srun starts: what is still running after it. */
function marker(): { key: string; env: Record<string, string> } {
  const id = randomUUID();
  return { key: `TSFLUX_TEST_STEP=${id}`, env: { TSFLUX_TEST_STEP: id } };
}

describe('srun -N3 tsflux start on the Slurm testbed', { skip, timeout: HANG_TIMEOUT, concurrency: false }, () => {
  let tb: Testbed | undefined;
  before(async () => {
    if (missing !== undefined) {
      throw new Error(`the Slurm tests are required here (CI=true or TSFLUX_REQUIRE_SLURM=1) but ${missing}`);
    }
    tb = await acquireTestbed();
  });
  after(async () => {
    await tb?.release();
  });

  test('the testbed: srun -N3 hostname prints n1 n2 n3', async () => {
    const r = await slurm('srun', ['-N3', 'hostname']);
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['n1', 'n2', 'n3']);
  });

  test("srun --mpi=pmi2 -N3 tsflux start CMD: 3 brokers over TCP; the exit is CMD's and every broker is gone", async () => {
    const m = marker();
    const script = [
      'tsflux getattr size',
      'tsflux getattr hostlist',
      'tsflux getattr broker.boot-method',
      'tsflux getattr broker.mapping',
      'tsflux getattr tbon.endpoint',
      'hostname',
      'tsflux ping --count=1 2 | tail -1',
      'tsflux ping --count=1 1 | tail -1',
      'tsflux run echo a job ran',
      'exit 7',
    ].join('; ');
    const r = await slurm('srun', ['--mpi=pmi2', '-N3', 'tsflux', 'start', 'sh', '-c', script], m.env);
    assert.equal(r.rc, 7, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 4), ['3', 'n[1-3]', 'simple', '[[0,3,1,1]]']);
    assert.match(lines[4]!, /^tcp:\/\/127\.0\.0\.11:\d+$/, 'rank 0 on n1 listens on the address n1 resolves to');
    assert.equal(lines[5], 'n1');
    assert.match(lines[6]!, /^2!broker\.ping pad=0 seq=0 time=[0-9.]+ ms \([0-9a-f]+![0-9a-f]+![0-9a-f]+\)$/);
    assert.match(lines[7]!, /^1!broker\.ping pad=0 seq=0 time=[0-9.]+ ms /);
    assert.equal(lines[8], 'a job ran');
    assert.match(r.stderr, /task 0: Exited with exit code 7/);
    await until(() => processesWith(m.key).length === 0, 'every process of the step to end');
  });
});
