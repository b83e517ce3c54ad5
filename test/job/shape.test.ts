import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobShape, taskCount } from '../../src/job/shape.js';
import { JobspecV1 } from '../../src/job/jobspec.js';

const slot = (count: number, cores = 1, gpus = 0) => ({
  type: 'slot',
  count,
  label: 'task',
  with: gpus
    ? [
        { type: 'core', count: cores },
        { type: 'gpu', count: gpus },
      ]
    : [{ type: 'core', count: cores }],
});
const spec = (resources: unknown, count: unknown = { per_slot: 1 }) => ({
  version: 1,
  resources,
  tasks: [{ command: ['true'], slot: 'task', count }],
  attributes: { system: { duration: 0 } },
});

test('jobShape: slots anywhere, or nodes holding slots', () => {
  assert.deepEqual(jobShape(spec([slot(4, 2, 1)])), {
    nnodes: 0,
    nslots: 4,
    coresPerSlot: 2,
    gpusPerSlot: 1,
    exclusive: false,
  });
  assert.deepEqual(jobShape(spec([{ type: 'node', count: 3, exclusive: true, with: [slot(2)] }])), {
    nnodes: 3,
    nslots: 6,
    coresPerSlot: 1,
    gpusPerSlot: 0,
    exclusive: true,
  });
  assert.equal(jobShape(spec([{ type: 'node', count: 2, with: [slot(1)] }]))!.exclusive, false);
});

test('jobShape: what cannot be read is undefined', () => {
  const bad: unknown[] = [
    null,
    'x',
    {},
    spec('none'),
    spec([]),
    spec([null]),
    spec([{ type: 'node', count: 2 }]), // no slot
    spec([{ type: 'slot', count: 1, with: [{ type: 'gpu', count: 1 }] }]), // no core
    spec([{ type: 'slot', count: 0, with: [{ type: 'core', count: 1 }] }]),
    spec([{ type: 'slot', count: 1.5, with: [{ type: 'core', count: 1 }] }]),
    spec([{ type: 'slot', count: 1, with: [{ type: 'core', count: '1' }] }]),
    spec([{ type: 'socket', count: 1, with: [slot(1)] }]),
    spec([{ count: 1, with: [{ type: 'core', count: 1 }] }]),
    spec([{ type: 'slot', count: 1, with: { type: 'core', count: 1 } }]),
  ];
  for (const js of bad) assert.equal(jobShape(js), undefined, JSON.stringify(js));
});

test('taskCount: total, or per_slot × slots; defaults when absent', () => {
  assert.equal(taskCount(spec([slot(4)])), 4);
  assert.equal(taskCount(spec([slot(4)], { per_slot: 3 })), 12);
  assert.equal(taskCount(spec([slot(4)], { total: 5 })), 5);
  assert.equal(taskCount(spec([{ type: 'node', count: 2, with: [slot(3)] }])), 6);
  assert.equal(taskCount({ resources: [slot(2)] }), 2); // no tasks: one per slot
  assert.equal(taskCount(spec('none', { per_slot: 2 })), 2); // unreadable resources: one slot
  assert.equal(taskCount(null), 1);
});

test("JobspecV1's getters are the shape of its tree", () => {
  for (const [numTasks, numNodes, exclusive, coresPerTask, gpusPerTask] of [
    [1, undefined, false, 1, 0],
    [4, undefined, false, 2, 1],
    [4, 2, false, 1, 0],
    [3, 2, true, 2, 0],
  ] as const) {
    const js = JobspecV1.fromCommand(['a'], {
      numTasks,
      coresPerTask,
      gpusPerTask,
      exclusive,
      environment: {},
      ...(numNodes ? { numNodes } : {}),
    });
    const shape = jobShape(js.toJSON())!;
    assert.equal(js.numSlots, shape.nslots);
    assert.equal(js.coresPerSlot, shape.coresPerSlot);
    assert.equal(js.gpusPerSlot, shape.gpusPerSlot);
    assert.equal(js.numNodes, shape.nnodes || undefined);
    assert.equal(js.exclusive, shape.exclusive);
    assert.equal(js.numTasks, numTasks);
    assert.equal(taskCount(js.toJSON()), numTasks);
  }
});
