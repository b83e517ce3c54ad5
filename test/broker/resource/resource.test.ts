/** The `resource` service against the real capture (test/vectors/cli-resource-list.json). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Broker } from '../../../src/broker/broker.js';
import { Scheduler } from '../../../src/broker/sched/sched.js';
import { resourceService } from '../../../src/broker/resource/resource.js';
import type { InstanceResources } from '../../../src/job/rv1.js';
import type { FluxError } from '../../../src/protocol/errno.js';

const VECTORS = fileURLToPath(new URL('../../../../test/vectors/', import.meta.url));

function captured(topic: string): any {
  const cap = JSON.parse(fs.readFileSync(VECTORS + 'cli-resource-list.json', 'utf8'));
  const m = cap.messages.find((x: any) => x.dir === 'b2c' && x.decoded.topic === topic);
  return JSON.parse(m.decoded.payload);
}

const VM: InstanceResources = { ranks: [{ rank: 0, hostname: 'vm', cores: [0, 1], gpus: [] }] };

async function setup(res: InstanceResources = VM) {
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
