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
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RendezvousClient, RendezvousServer, rendezvousPorts } from '../../src/broker/boot/rendezvous.js';
import { mungeDecode, mungeEncode } from '../../src/broker/boot/munge.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import { repoRoot } from '../helpers/paths.js';
import { seedWalkthrough } from '../helpers/seed.js';
import {
  MUNGE_SOCK,
  acquireTestbed,
  processesWith,
  slurm,
  slurmMissing,
  slurmRequired,
  type Testbed,
} from '../helpers/slurm.js';

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

/**
 * The seed's line, `srun --pty --mpi=none -N3 tsflux start -o,-S,log-filename=out`, run in `dir`
 * with `input` typed at the initial program (an interactive shell).
 */
function seedLine(m: { env: Record<string, string> }, dir: string, input: string): ReturnType<typeof slurm> {
  const argv = ['--pty', '--mpi=none', '-N3', 'tsflux', 'start', '-o,-S,log-filename=out'];
  return slurm('srun', argv, m.env, { cwd: dir, input });
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
  test('jobs across the nodes: resource list of n[1-3], run -N3 hostname prints n1 n2 n3, -N3 -n6 puts 2 on each', async () => {
    const m = marker();
    const script = [
      "tsflux resource list -o '{state} {nnodes} {nodelist}' | grep free",
      'tsflux run -N3 hostname | sort',
      "tsflux run -N3 -n6 sh -c 'echo $FLUX_TASK_RANK $FLUX_TASK_LOCAL_ID $(hostname)' | sort -n",
    ].join('; ');
    const r = await slurm('srun', ['--mpi=pmi2', '-N3', 'tsflux', 'start', 'sh', '-c', script], m.env);
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'free 3 n[1-3]',
      'n1',
      'n2',
      'n3',
      '0 0 n1',
      '1 1 n1',
      '2 0 n2',
      '3 1 n2',
      '4 0 n3',
      '5 1 n3',
    ]);
    await until(() => processesWith(m.key).length === 0, 'every process of the step to end');
  });
  test("the seed's line, srun --pty --mpi=none -N3 tsflux start -o,-S,log-filename=out: no PMI, a MUNGE rendezvous", async () => {
    const m = marker();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-slurm-'));
    try {
      const input =
        'tsflux getattr size; tsflux getattr broker.boot-method; tsflux getattr hostlist; tsflux ping --count=1 2 | tail -1; env | grep -c "^SLURM_"; exit 3\n';
      const r = await seedLine(m, dir, input);
      assert.equal(r.rc, 3, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines.slice(0, 3), ['3', 'slurm', 'n[1-3]']);
      assert.match(lines[3]!, /^2!broker\.ping pad=0 seq=0 time=[0-9.]+ ms /);
      assert.equal(lines[4], '0', 'the initial program gets no SLURM_* variable');
      assert.ok(fs.existsSync(path.join(dir, 'out')), 'log-filename=out');
      await until(() => processesWith(m.key).length === 0, 'every process of the step to end');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the seed's walkthrough on the seed's line: parts (a) and (b) run across n1 n2 n3", async () => {
    const m = marker();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-slurm-seed-'));
    try {
      const examples = path.join(repoRoot, 'examples', 'async-bulk-job-submit');
      const input = [
        'set -e',
        `cd ${examples}`,
        ...seedWalkthrough(dir),
        // three jobs that each take a whole node: one on each node, whatever the timing
        `tsflux submit --cc=1-3 -N1 --exclusive sh -c 'while [ ! -e ${dir}/go ]; do sleep 0.05; done' > ${dir}/held`,
        `until [ "$(tsflux jobs -n -f running -o '{id}' | wc -l)" = 3 ]; do sleep 0.05; done`,
        "tsflux jobs -n -f running -o '{nodelist}' | sort",
        `touch ${dir}/go`,
        `for id in $(cat ${dir}/held); do tsflux job attach $id; done`,
        'exit',
        '',
      ].join('\n');
      const r = await seedLine(m, dir, input);
      assert.equal(r.rc, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[1]!, /^bulksubmit: submitted 25 jobs in/);
      assert.match(lines[4]!, /^bulksubmit: Ran 25 jobs in/);
      assert.match(lines[5]!, /^bulksubmit_executor: submitted 20 jobs in/);
      assert.match(lines[8]!, /^bulksubmit_executor: Ran 20 jobs in/);
      assert.deepEqual(lines.slice(9), ['n1', 'n2', 'n3']);
      await until(() => processesWith(m.key).length === 0, 'every process of the step to end');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('srun --mpi=none: a rank 0 that nobody joins, and a rank 1 that finds no rank 0, exit 1 saying so', async () => {
    // one task of a 3-task step, alone: the others never come (srun sets SLURM_*, env overrides)
    const zero = await slurm('srun', [
      '--mpi=none',
      '-N1',
      '-w',
      'n1',
      'env',
      'SLURM_STEP_NUM_TASKS=3',
      'tsflux',
      'start',
      '-Stbon.connect_timeout=2s',
      'echo',
      'should not run',
    ]);
    assert.equal(zero.rc, 1, zero.stderr);
    assert.equal(zero.stdout, '');
    assert.match(
      zero.stderr,
      /bootstrap \(slurm\): ranks 1,2 of step \d+\.0 did not join rank 0 at 127\.0\.0\.11:\d+ within 2 s/,
    );
    const one = await slurm('srun', [
      '--mpi=none',
      '-N1',
      '-w',
      'n2',
      'env',
      'SLURM_STEP_NUM_TASKS=3',
      'SLURM_PROCID=1',
      'SLURM_NODEID=1',
      'SLURM_STEP_NODELIST=n[1-2]',
      'tsflux',
      'start',
      '-Stbon.connect_timeout=2s',
      'true',
    ]);
    assert.equal(one.rc, 1, one.stderr);
    assert.match(
      one.stderr,
      /bootstrap \(slurm\): rank 1 of step \d+\.0 found no rank 0 at n1 \(127\.0\.0\.11\) ports \d+-\d+ within 2 s/,
    );
  });

  test('the rendezvous refuses garbage, a forged credential, another step and a replay, logs each, and carries on', async () => {
    const log: string[] = [];
    const common = {
      step: '77.0',
      size: 3,
      uid: process.getuid!(),
      socket: MUNGE_SOCK,
      timeout: 600,
      log: (t: string) => log.push(t),
    };
    const server = await RendezvousServer.listen(common, '127.0.0.1', rendezvousPorts('77.0'), 0);
    const clients: RendezvousClient[] = [];
    try {
      const refusals = (n: number): Promise<void> => until(() => log.length >= n, `${n} refusals`);
      const send = (line: string): net.Socket => {
        const s = net.connect(server.port, '127.0.0.1');
        s.on('error', () => s.destroy());
        s.write(line + '\n');
        return s;
      };
      send('GET / HTTP/1.0');
      await refusals(1);
      assert.match(
        log[0]!,
        /^refused a rendezvous connection from 127\.0\.0\.1:\d+: not a tsflux-rendezvous\/1 hello$/,
      );
      send('tsflux-rendezvous/1 MUNGE:AAAAforged:');
      await refusals(2);
      assert.match(log[1]!, /^refused a rendezvous connection from 127\.0\.0\.1:\d+: unmunge: /);
      await assert.rejects(
        RendezvousClient.join({
          ...common,
          step: '78.0',
          rank: 1,
          nodeid: 1,
          host: '127.0.0.1',
          ports: [server.port],
          timeout: 1,
        }),
        /found no rank 0 at 127\.0\.0\.1/,
      );
      assert.ok(
        log.some((l) => /it belongs to step 78\.0, not 77\.0/.test(l)),
        log.join('\n'),
      );
      // a credential seen once already (munged's replay cache), sent by someone who does not have its key
      const payload = JSON.stringify({ step: '77.0', rank: 2, nodeid: 2, key: Buffer.alloc(32, 9).toString('base64') });
      const cred = await mungeEncode(payload, process.getuid!(), MUNGE_SOCK);
      await mungeDecode(cred, MUNGE_SOCK);
      const before = log.length;
      send(`tsflux-rendezvous/1 ${cred}`);
      await refusals(before + 1);
      assert.match(log.at(-1)!, /: unmunge: Replayed credential \(17\)$/);
      // the real ranks still get in, and the exchange works
      const joins = [1, 2].map((rank) =>
        RendezvousClient.join({
          ...common,
          rank,
          nodeid: rank,
          host: '127.0.0.1',
          ports: rendezvousPorts('77.0'),
          timeout: 60,
        }),
      );
      const [c1, c2] = await Promise.all(joins);
      clients.push(c1!, c2!);
      assert.deepEqual(await Promise.all([server.joined(), c1!.joined(), c2!.joined()]), [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ]);
      const kvs = await Promise.all([
        server.barrier(new Map([['0', 'zero']])),
        c1!.barrier(new Map([['1', 'one']])),
        c2!.barrier(new Map([['2', 'two']])),
      ]);
      for (const k of kvs) assert.deepEqual(Object.fromEntries(k), { '0': 'zero', '1': 'one', '2': 'two' });
      await Promise.all([server.finalize(), c1!.finalize(), c2!.finalize()]);
    } finally {
      // on a failure, nothing of it may keep the test process alive
      server.abort('the test is over');
      for (const c of clients) c.abort('the test is over');
    }
  });

  for (const how of ['scancel', 'SIGTERM to srun'] as const) {
    test(`${how}: every broker and every job process on every node ends`, async () => {
      const m = marker();
      const script = 'tsflux submit --wait-event=start sleep 3000 >/dev/null && echo ready && exec sleep 3000';
      const run = slurm('srun', ['--mpi=pmi2', '-N3', 'tsflux', 'start', 'sh', '-c', script], m.env);
      let out = '';
      run.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('ready') || run.child.exitCode !== null, 'the job to start');
      assert.ok(out.includes('ready'), out);
      // the brokers, the initial program, the job's sleep: all carry the marker
      assert.ok(processesWith(m.key).length >= 5);
      if (how === 'scancel') {
        const q = await slurm('squeue', ['-h', '-o', '%A']);
        const ids = q.stdout
          .trim()
          .split('\n')
          .filter((s) => s !== '');
        assert.equal(ids.length, 1, q.stdout);
        const c = await slurm('scancel', [ids[0]!]);
        assert.equal(c.rc, 0, c.stderr);
      } else {
        run.child.kill('SIGTERM');
      }
      const r = await run;
      assert.notEqual(r.rc, 0);
      await until(() => processesWith(m.key).length === 0, 'every process of the step to end');
    });
  }
});
