/**
 * Jobs across the brokers of one instance (`tsflux start --test-size=3`, real processes): every
 * rank's resources in rank 0's set, the scheduler placing across ranks, each rank's exec agent
 * running its share of the tasks with that rank's own launcher, output and exit status back to
 * rank 0, clients on any rank, and the loss of a rank while jobs run on it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Flux } from '../../src/client/handle.js';
import { tsflux } from '../helpers/cli.js';
import { tsfluxBin } from '../helpers/paths.js';
import { sharedTestInstance, startTestInstance, type TestInstance } from '../helpers/test-instance.js';
import { HANG_TIMEOUT, alive, dead, lineOf, until } from '../helpers/wait.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The broker ranks of a job's R. */
async function ranksOf(t: TestInstance, id: string, rank = 0): Promise<string> {
  const r = await tsflux(['job', 'info', id, 'R'], t.uri(rank));
  assert.equal(r.rc, 0, r.stderr);
  const R = JSON.parse(r.stdout);
  return R.execution.R_lite.map((e: { rank: string }) => e.rank).join(',');
}

/** Which rank's socket a FLUX_URI names. */
function uriRank(t: TestInstance, uri: string): number {
  const m = new RegExp(`^local://${t.rundir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/local-(\\d+)$`).exec(uri);
  assert.ok(m, `${uri} is a socket of the instance`);
  return Number(m[1]);
}

/**
 * A waitable job of one task on each of the 3 ranks, each task a `sleep 300` that wrote its pid
 * to `dir`/pid.RANK: its id and the tasks' pids once all three have started.
 */
async function sleeperOnEachRank(t: TestInstance, dir: string): Promise<{ id: string; pids: number[] }> {
  const script = `echo $$ > ${dir}/pid.$FLUX_TASK_RANK; exec sleep 300`;
  const s = await tsflux(['submit', '--flags=waitable', '-N3', '-n3', 'sh', '-c', script], t.uri(0));
  assert.equal(s.rc, 0, s.stderr);
  const pids = await Promise.all([0, 1, 2].map((r) => lineOf(`${dir}/pid.${r}`)));
  return { id: s.stdout.trim(), pids: pids.map(Number) };
}

describe('jobs across an instance of 3 brokers (2 cores each)', { timeout: HANG_TIMEOUT }, () => {
  const t = sharedTestInstance(3);

  test('rank 0 holds every rank: size 3, resource list of 3 nodes and 6 cores, all online', async () => {
    const host = os.hostname();
    const g = await tsflux(['getattr', 'size'], t.uri(0));
    assert.equal(g.stdout, '3\n');
    const l = await tsflux(['resource', 'list', '-o', '{state} {nnodes} {ncores} {ngpus} {nodelist}'], t.uri(0));
    assert.equal(l.rc, 0, l.stderr);
    assert.match(l.stdout, new RegExp(`^free 3 6 0 ${host},${host},${host}$`, 'm'));
    const s = await tsflux(['resource', 'status', '-o', '{state} {nnodes} {ranks}'], t.uri(0));
    assert.equal(s.rc, 0, s.stderr);
    assert.match(s.stdout, /^avail 3 0-2$/m);
    // every rank says what its own node has
    for (let r = 0; r < 3; r++) {
      const h = await Flux.open(t.uri(0));
      try {
        assert.deepEqual(await h.rpc('resource.local', undefined, { nodeid: r }), {
          rank: r,
          hostname: host,
          cores: [0, 1],
          gpus: [],
        });
      } finally {
        h.close();
      }
    }
  });

  test('run -N3 hostname: one task on each rank, jobs shows the three nodes', async () => {
    const host = os.hostname();
    const r = await tsflux(['run', '-N3', 'hostname'], t.uri(0));
    assert.deepEqual([r.rc, r.stdout, r.stderr], [0, `${host}\n${host}\n${host}\n`, '']);
    const j = await tsflux(['jobs', '-a', '-n', '-c1', '-o', '{nnodes} {nodelist} {ntasks}'], t.uri(0));
    assert.equal(j.stdout, `3 ${host},${host},${host} 3\n`);
  });

  test('run -N3 -n6: two tasks per node, FLUX_TASK_RANK in node order, each task talks to its own broker', async () => {
    const r = await tsflux(
      [
        'run',
        '-N3',
        '-n6',
        'sh',
        '-c',
        'echo $FLUX_TASK_RANK $FLUX_TASK_LOCAL_ID $FLUX_JOB_SIZE $FLUX_JOB_NNODES $FLUX_URI $(' +
          process.execPath +
          ' ' +
          tsfluxBin +
          ' getattr rank)',
      ],
      t.uri(0),
    );
    assert.equal(r.rc, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(
      lines.map(([rank, local, size, nnodes, uri, brokerRank]) => [
        rank,
        local,
        size,
        nnodes,
        uriRank(t, uri!),
        Number(brokerRank),
      ]),
      [
        ['0', '0', '6', '3', 0, 0],
        ['1', '1', '6', '3', 0, 0],
        ['2', '0', '6', '3', 1, 1],
        ['3', '1', '6', '3', 1, 1],
        ['4', '0', '6', '3', 2, 2],
        ['5', '1', '6', '3', 2, 2],
      ],
    );
  });

  test('-N2 --exclusive takes two whole nodes; -c2 puts one task on each node; -n6 fills all three', async () => {
    const x = await tsflux(['submit', '--flags=waitable', '-N2', '--exclusive', 'true'], t.uri(0));
    const xid = x.stdout.trim();
    assert.equal((await tsflux(['job', 'wait', xid], t.uri(0))).rc, 0);
    const xr = await tsflux(['job', 'info', xid, 'R'], t.uri(0));
    assert.deepEqual(JSON.parse(xr.stdout).execution.R_lite, [{ rank: '0-1', children: { core: '0-1' } }]);

    const c = await tsflux(['run', '-n3', '-c2', 'sh', '-c', 'echo $FLUX_URI'], t.uri(0));
    assert.equal(c.rc, 0, c.stderr);
    assert.deepEqual(
      c.stdout
        .trim()
        .split('\n')
        .map((u) => uriRank(t, u))
        .sort(),
      [0, 1, 2],
    );
    const n = await tsflux(['submit', '--flags=waitable', '-n6', 'true'], t.uri(0));
    const nid = n.stdout.trim();
    assert.equal((await tsflux(['job', 'wait', nid], t.uri(0))).rc, 0);
    assert.equal(await ranksOf(t, nid), '0-2');
  });

  test('output from every rank reaches run and attach in order per task; exit status is the highest', async () => {
    const script = 'for i in 1 2 3 4 5 6 7 8; do echo $FLUX_TASK_RANK.$i; done; exit $FLUX_TASK_RANK';
    const r = await tsflux(['run', '-N3', '-n3', 'sh', '-c', script], t.uri(0));
    assert.equal(r.rc, 2, `${r.stdout}${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    for (let task = 0; task < 3; task++) {
      assert.deepEqual(
        lines.filter((l) => l.startsWith(`${task}.`)),
        [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `${task}.${i}`),
      );
    }
    const id = (await tsflux(['jobs', '-a', '-n', '-c1', '-o', '{id}'], t.uri(0))).stdout.trim();
    const a = await tsflux(['job', 'attach', id], t.uri(2));
    assert.equal(a.rc, 2);
    assert.deepEqual(a.stdout.trim().split('\n').sort(), [...lines].sort());
  });

  test('stdin reaches every task, on every rank; or only the task ranks named', async () => {
    const all = await tsflux(
      ['run', '-N3', '-n3', 'sh', '-c', 'read x; echo $FLUX_TASK_RANK:$x'],
      t.uri(0),
      {},
      'hi\n',
    );
    assert.equal(all.rc, 0, all.stderr);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), ['0:hi', '1:hi', '2:hi']);
    const some = await tsflux(
      ['run', '-N3', '-n3', '--input=1', 'sh', '-c', 'if [ $FLUX_TASK_RANK = 1 ]; then cat; else echo none; fi'],
      t.uri(0),
      {},
      'x\n',
    );
    assert.equal(some.rc, 0, some.stderr);
    assert.deepEqual(some.stdout.trim().split('\n').sort(), ['none', 'none', 'x']);
  });

  test('cancel and the time limit reach the tasks on every rank', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-mn-'));
    try {
      const { id, pids } = await sleeperOnEachRank(t, dir);
      assert.equal((await tsflux(['cancel', id], t.uri(1))).rc, 0);
      for (const p of pids) await dead(p);
      const w = await tsflux(['job', 'wait', id], t.uri(0));
      assert.notEqual(w.rc, 0);
      const ev = await tsflux(['job', 'eventlog', id], t.uri(0));
      assert.match(ev.stdout, /exception type="cancel"/);

      const tl = await tsflux(['run', '-N3', '-n3', '-t', '0.1s', 'sleep', '300'], t.uri(0));
      assert.notEqual(tl.rc, 0);
      assert.match(tl.stderr, /resource allocation expired/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a client on rank 2 submits, waits, watches, attaches and lists', async () => {
    const uri = t.uri(2);
    const s = await tsflux(['submit', '--flags=waitable', '-N3', 'sh', '-c', 'echo task $FLUX_TASK_RANK'], uri);
    assert.equal(s.rc, 0, s.stderr);
    const id = s.stdout.trim();
    const watch = await tsflux(['job', 'eventlog', '-F', id], uri);
    assert.match(watch.stdout, /start/);
    assert.match(watch.stdout, /clean$/m);
    const w = await tsflux(['job', 'wait', id], uri);
    assert.equal(w.rc, 0, w.stderr);
    const a = await tsflux(['job', 'attach', id], uri);
    assert.deepEqual(a.stdout.trim().split('\n').sort(), ['task 0', 'task 1', 'task 2']);
    const l = await tsflux(['jobs', '-a', '-o', '{id.f58} {nnodes} {status}'], uri);
    assert.match(l.stdout, new RegExp(`^${id} 3 COMPLETED$`, 'm'));
    const h = await Flux.open(uri);
    try {
      assert.equal(await h.attrGet('rank'), '2');
    } finally {
      h.close();
    }
  });
});

test(
  'kill -9 of rank 2 while a job runs on it: node failure exception, rank 2 offline, the others go on',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['--test-exit-timeout=inf']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-mn-'));
    try {
      const host = os.hostname();
      const { id, pids } = await sleeperOnEachRank(t, dir);
      const h = await Flux.open(t.uri(2));
      const pid2 = Number(await h.attrGet('broker.pid'));
      h.close();
      process.kill(pid2, 'SIGKILL');
      // the job ends with flux-core's exception, naming the host and rank
      const w = await tsflux(['job', 'wait', id], t.uri(0));
      assert.notEqual(w.rc, 0);
      const ev = await tsflux(['job', 'eventlog', id], t.uri(0));
      assert.match(
        ev.stdout,
        new RegExp(`exception type="exec" severity=0 note="node failure on ${host} \\(rank 2\\)"`),
      );
      // its tasks on the other ranks were killed; so was the one whose broker died
      for (const p of pids) await dead(p);
      // rank 2 is offline; the scheduler uses the others only
      const h0 = await Flux.open(t.uri(0));
      try {
        await until(
          async () => (await h0.rpc('resource.status', undefined, { nodeid: 0 })).offline === '2',
          'rank 2 offline',
        );
        assert.equal((await h0.rpc('resource.status', undefined, { nodeid: 0 })).online, '0-1');
      } finally {
        h0.close();
      }
      const l = await tsflux(['resource', 'list', '-o', '{state} {nnodes} {ncores}'], t.uri(0));
      assert.match(l.stdout, /^down 1 2$/m);
      const r = await tsflux(['run', '-n4', 'sh', '-c', 'echo $FLUX_URI'], t.uri(1));
      assert.equal(r.rc, 0, r.stderr);
      assert.deepEqual(
        r.stdout
          .trim()
          .split('\n')
          .map((u) => Number(u.slice(u.lastIndexOf('-') + 1)))
          .sort(),
        [0, 0, 1, 1],
      );
      const n2 = await tsflux(['run', '-N2', 'true'], t.uri(0));
      assert.equal(n2.rc, 0, n2.stderr);
      assert.ok(!pids.some(alive));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      t.end();
    }
    assert.equal(await t.exited, 137);
  },
);

test(
  "GPUs per node: every broker has its own, -g1 takes one per task on each node, tasks see their node's",
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['--gpus=2']);
    try {
      const l = await tsflux(['resource', 'list', '-o', '{state} {nnodes} {ncores} {ngpus}'], t.uri(0));
      assert.match(l.stdout, /^free 3 6 6$/m);
      const r = await tsflux(
        ['run', '-N3', '-n6', '-g1', 'sh', '-c', 'echo $FLUX_TASK_RANK $CUDA_VISIBLE_DEVICES ${FLUX_URI##*-}'],
        t.uri(0),
      );
      assert.equal(r.rc, 0, r.stderr);
      // gpu-affinity=on (Flux's default): each task sees the job's GPUs on its own node
      assert.deepEqual(
        r.stdout
          .trim()
          .split('\n')
          .sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0])),
        ['0 0,1 0', '1 0,1 0', '2 0,1 1', '3 0,1 1', '4 0,1 2', '5 0,1 2'],
      );
      const one = await tsflux(['run', '-N3', '-n3', '-g1', 'sh', '-c', 'echo $CUDA_VISIBLE_DEVICES'], t.uri(0));
      assert.deepEqual(one.stdout.trim().split('\n'), ['0', '0', '0']);
    } finally {
      t.end();
    }
    assert.equal(await t.exited, 0);
  },
);
