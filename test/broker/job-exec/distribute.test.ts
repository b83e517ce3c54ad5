/** Tasks over the nodes of R as flux-core's shell spreads them (rcalc_distribute). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributeTasks } from '../../../src/broker/job-exec/tasks.js';

test('tasks are dealt to the nodes in turn, a node leaving the turn once full', () => {
  assert.deepEqual(distributeTasks([2, 2, 2], 6, 1), [2, 2, 2]); // -N3 -n6
  assert.deepEqual(distributeTasks([1, 1, 1], 3, 1), [1, 1, 1]); // -N3
  assert.deepEqual(distributeTasks([2, 2], 2, 1), [1, 1]); // -N2 --exclusive -n2: whole nodes
  assert.deepEqual(distributeTasks([2, 1], 3, 1), [2, 1]); // -N2 -n3
  assert.deepEqual(distributeTasks([1, 3], 4, 1), [1, 3]); // largest first, the small one full
  assert.deepEqual(distributeTasks([2, 2, 2], 3, 2), [1, 1, 1]); // -n3 -c2
  assert.deepEqual(distributeTasks([4], 1, 1), [1]);
});

test('more tasks than cores: the turn starts again (oversubscription)', () => {
  assert.deepEqual(distributeTasks([1, 1], 5, 1), [3, 2]);
  assert.deepEqual(distributeTasks([0, 0], 2, 1), [1, 1]); // nodes with GPUs only
  assert.deepEqual(distributeTasks([], 3, 1), []);
});
