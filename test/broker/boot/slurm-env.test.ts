/**
 * What the `slurm` bootstrap reads from a task's environment (docs/protocol.md §F.1): Slurm
 * hostlist expressions, tasks per node, the step, the task map of a rendezvous, the port range
 * and the munged socket from slurm.conf.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {
  expandSlurmHostlist,
  expandTasksPerNode,
  slurmMissingVar,
  slurmStep,
} from '../../../src/broker/boot/slurm-env.js';
import { nodeOfRanks, taskmapOfNodes } from '../../../src/broker/boot/mapping.js';
import { rendezvousPorts } from '../../../src/broker/boot/rendezvous.js';
import { mungeSocket } from '../../../src/broker/boot/munge.js';

test('Slurm hostlists: ranges, lists, padding, several groups, plain names', () => {
  const cases: [string, string[]][] = [
    ['n[1-3]', ['n1', 'n2', 'n3']],
    ['n1', ['n1']],
    ['n[1-2],login0', ['n1', 'n2', 'login0']],
    ['n[1,3-4,7]', ['n1', 'n3', 'n4', 'n7']],
    ['node[08-11]', ['node08', 'node09', 'node10', 'node11']],
    ['node[8-11]', ['node8', 'node9', 'node10', 'node11']],
    ['r[1-2]n[1-2]', ['r1n1', 'r1n2', 'r2n1', 'r2n2']],
    ['rack[1-2]-sw', ['rack1-sw', 'rack2-sw']],
    ['a[1-2],b[3],c', ['a1', 'a2', 'b3', 'c']],
    ['gpu-[001-002]', ['gpu-001', 'gpu-002']],
  ];
  for (const [expr, hosts] of cases) assert.deepEqual(expandSlurmHostlist(expr), hosts, expr);
  for (const bad of ['', 'n[1-3', 'n1-3]', 'n[3-1]', 'n[a-b]', 'n[[1]]', 'n[1],,m', 'n[]']) {
    assert.throws(() => expandSlurmHostlist(bad), /hostlist '.*': /, bad);
  }
  assert.throws(() => expandSlurmHostlist('n[1-9999999]'), /too many hosts/);
});

test('Slurm hostlists: any list of numbered hosts printed as ranges expands back to itself', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 40 }), (nums) => {
      const sorted = [...nums].sort((a, b) => a - b);
      const ranges: string[] = [];
      for (let i = 0; i < sorted.length;) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
        ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
      }
      assert.deepEqual(
        expandSlurmHostlist(`n[${ranges.join(',')}]`),
        sorted.map((n) => `n${n}`),
      );
    }),
  );
});

test('tasks per node: N and N(xM)', () => {
  assert.deepEqual(expandTasksPerNode('1(x3)'), [1, 1, 1]);
  assert.deepEqual(expandTasksPerNode('2(x3),1'), [2, 2, 2, 1]);
  assert.deepEqual(expandTasksPerNode('4'), [4]);
  assert.throws(() => expandTasksPerNode('2(3)'), /tasks per node '2\(3\)'/);
});

test('the step: rank, size, nodes and the variables that must be there', () => {
  const env = {
    SLURM_JOB_ID: '12',
    SLURM_STEP_ID: '0',
    SLURM_PROCID: '2',
    SLURM_STEP_NUM_TASKS: '3',
    SLURM_STEP_NODELIST: 'n[1-3]',
    SLURM_NODEID: '2',
    SLURMD_NODENAME: 'n3',
  };
  assert.deepEqual(slurmStep(env), {
    step: '12.0',
    rank: 2,
    size: 3,
    nodes: ['n1', 'n2', 'n3'],
    nodeid: 2,
    nodename: 'n3',
    resvPorts: undefined,
  });
  assert.deepEqual(
    slurmStep({ ...env, SLURM_STEP_RESV_PORTS: '12000-12002,12010' }).resvPorts,
    [12000, 12001, 12002, 12010],
  );
  assert.equal(slurmMissingVar(env), undefined);
  assert.equal(slurmMissingVar({ ...env, SLURM_STEP_ID: undefined }), 'SLURM_STEP_ID');
  assert.equal(slurmMissingVar({ ...env, SLURM_STEP_NUM_TASKS: undefined }), 'SLURM_STEP_NUM_TASKS');
  assert.equal(slurmMissingVar({ ...env, SLURM_STEP_NUM_TASKS: undefined, SLURM_NTASKS: '3' }), undefined);
  assert.throws(() => slurmStep({ ...env, SLURM_PROCID: '3' }), /SLURM_PROCID=3 is not a rank of 3 tasks/);
  assert.throws(() => slurmStep({ ...env, SLURM_PROCID: 'x' }), /SLURM_PROCID=x is not a number/);
  assert.throws(() => slurmStep({ ...env, SLURM_STEP_NODELIST: 'n[1-' }), /hostlist 'n\[1-'/);
});

test('the task map of a rendezvous: block and cyclic placements', () => {
  assert.deepEqual(taskmapOfNodes([0, 1, 2]), [[0, 3, 1, 1]]);
  assert.deepEqual(taskmapOfNodes([0, 0, 1, 1, 2, 2]), [[0, 3, 2, 1]]);
  assert.deepEqual(taskmapOfNodes([0, 1, 2, 0, 1, 2]), [[0, 3, 1, 2]]);
  assert.deepEqual(taskmapOfNodes([0, 0, 0, 1]), [
    [0, 1, 3, 1],
    [1, 1, 1, 1],
  ]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 30 }), (nodes) => {
      assert.deepEqual(nodeOfRanks(taskmapOfNodes(nodes), nodes.length), nodes);
    }),
  );
});

test('rendezvous ports: reserved ports win; else 32 from the step, the same on every node', () => {
  assert.deepEqual(rendezvousPorts('12.0', [7000, 7001]), [7000, 7001]);
  const p = rendezvousPorts('12.0');
  assert.equal(p.length, 32);
  assert.deepEqual(rendezvousPorts('12.0'), p);
  assert.ok(p[0]! >= 10000 && p.at(-1)! < 30032);
  assert.notDeepEqual(rendezvousPorts('13.0'), p);
});

test("munged's socket: MUNGE_SOCKET, else slurm.conf's AuthInfo socket=, else MUNGE's default", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-munge-'));
  try {
    const conf = path.join(dir, 'slurm.conf');
    fs.writeFileSync(conf, 'ClusterName=x\n#AuthInfo=socket=/not/this\nAuthInfo=cred_expire=100,socket=/run/m.sock\n');
    assert.equal(mungeSocket({ SLURM_CONF: conf }), '/run/m.sock');
    assert.equal(mungeSocket({ SLURM_CONF: conf, MUNGE_SOCKET: '/x.sock' }), '/x.sock');
    fs.writeFileSync(conf, 'ClusterName=x\n');
    assert.equal(mungeSocket({ SLURM_CONF: conf }), undefined);
    assert.equal(mungeSocket({ SLURM_CONF: path.join(dir, 'none') }), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
