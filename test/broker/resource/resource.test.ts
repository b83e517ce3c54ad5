/** The `resource` service against the real capture (test/vectors/cli-resource-list.json). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Broker } from '../../../src/broker/broker.js';
import { Scheduler } from '../../../src/broker/sched/sched.js';
import { resourceService } from '../../../src/broker/resource/resource.js';
import type { ResourceSet } from '../../../src/broker/resource/discover.js';
import { fromRv1, resourceSummary, toRv1 } from '../../../src/broker/resource/rv1.js';
import type { FluxError } from '../../../src/protocol/errno.js';

const VECTORS = fileURLToPath(new URL('../../../../test/vectors/', import.meta.url));

function captured(topic: string): any {
  const cap = JSON.parse(fs.readFileSync(VECTORS + 'cli-resource-list.json', 'utf8'));
  const m = cap.messages.find((x: any) => x.dir === 'b2c' && x.decoded.topic === topic);
  return JSON.parse(m.decoded.payload);
}

const VM: ResourceSet = { ranks: [{ rank: 0, hostname: 'vm', cores: [0, 1], gpus: [] }] };

async function setup(res: ResourceSet = VM) {
  const broker = new Broker({ hostname: 'vm' });
  const sched = new Scheduler(res);
  broker.register(sched);
  broker.register(resourceService(res));
  await broker.start();
  return broker;
}

test('resource.sched-status matches the capture on the same machine shape', async () => {
  const broker = await setup();
  const got = await broker.rpc('resource.sched-status');
  assert.deepEqual(got, captured('resource.sched-status'));
  // and key order, as flux writes it
  assert.equal(JSON.stringify(got), JSON.stringify(captured('resource.sched-status')));
});

test('resource.status matches the capture', async () => {
  const broker = await setup();
  const got = await broker.rpc('resource.status');
  assert.equal(JSON.stringify(got), JSON.stringify(captured('resource.status')));
});

test('resource.sched-status shows what is allocated', async () => {
  const broker = await setup();
  await broker.rpc('sched.alloc', {
    id: 1n,
    priority: 16,
    t_submit: 1,
    request: { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 },
  });
  const got = await broker.rpc('resource.sched-status');
  assert.deepEqual(got.allocated.execution.R_lite, [{ rank: '0', children: { core: '0' } }]);
  assert.deepEqual(got.allocated.execution.nodelist, ['vm']);
  assert.deepEqual(got.all, captured('resource.sched-status').all);
});

test('resource.sched-status without a scheduler is ENOSYS', async () => {
  const broker = new Broker();
  broker.register(resourceService(VM));
  await broker.start();
  await assert.rejects(broker.rpc('resource.sched-status'), (e: FluxError) => e.errno === 38);
});

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
