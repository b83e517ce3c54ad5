import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRv1, resourceSummary, toRv1 } from '../../src/job/rv1.js';

test('Rv1 groups ranks with the same children; fromRv1 inverts it', () => {
  const ranks = [
    { rank: 0, cores: [0, 1, 2, 3], gpus: [0] },
    { rank: 1, cores: [0, 1, 2, 3], gpus: [0] },
    { rank: 2, cores: [0, 1], gpus: [] },
    { rank: 3, cores: [0, 1, 2, 3], gpus: [0] },
  ];
  const R = toRv1(ranks, (r) => `node${r + 1}`, 10, 20);
  assert.deepEqual(R.execution.R_lite, [
    { rank: '0-1,3', children: { core: '0-3', gpu: '0' } },
    { rank: '2', children: { core: '0-1' } },
  ]);
  assert.deepEqual(R.execution.nodelist, ['node[1-4]']);
  assert.equal(R.execution.starttime, 10);
  assert.equal(R.execution.expiration, 20);
  assert.deepEqual(fromRv1(R), ranks);
});

test('resource_summary like sched-simple', () => {
  assert.equal(resourceSummary([{ rank: 0, cores: [0], gpus: [] }]), 'rank0/core0');
  assert.equal(resourceSummary([{ rank: 0, cores: [0, 1], gpus: [0] }]), 'rank0/core[0-1],gpu0');
  assert.equal(
    resourceSummary([
      { rank: 0, cores: [0, 1], gpus: [] },
      { rank: 1, cores: [0, 1], gpus: [] },
    ]),
    'rank[0-1]/core[0-1]',
  );
});
