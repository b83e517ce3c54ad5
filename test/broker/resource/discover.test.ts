import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  discoverResources,
  affinityCores,
  cudaVisibleGpus,
  devNvidiaGpus,
  parseResourceSpec,
} from '../../../src/broker/resource/discover.js';
import { IdsetError } from '../../../src/job/idset.js';

const STATUS = 'Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1,4\nMems_allowed_list:\t0\n';
const emptyDev = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-dev-'));
after(() => fs.rmSync(emptyDev, { recursive: true, force: true }));

test('cores from Cpus_allowed_list', () => {
  assert.deepEqual(affinityCores(STATUS), [0, 1, 4]);
  assert.equal(affinityCores('Name:\tx\n'), undefined);
  const r = discoverResources({ procStatus: STATUS, env: {}, devDir: emptyDev, hostname: 'h' });
  assert.deepEqual(r, { ranks: [{ rank: 0, hostname: 'h', cores: [0, 1, 4], gpus: [] }] });
});

test('this machine: at least one core, the real hostname', () => {
  const r = discoverResources({ env: {} });
  assert.equal(r.ranks.length, 1);
  assert.equal(r.ranks[0]!.hostname, os.hostname());
  assert.ok(r.ranks[0]!.cores.length >= 1);
  if (process.platform === 'linux') {
    assert.deepEqual(r.ranks[0]!.cores, affinityCores());
  }
});

test('GPUs from CUDA_VISIBLE_DEVICES', () => {
  const gpus = (v: string | undefined) =>
    discoverResources({ procStatus: STATUS, env: { CUDA_VISIBLE_DEVICES: v }, devDir: emptyDev }).ranks[0]!.gpus;
  assert.deepEqual(gpus('0,1'), [0, 1]);
  assert.deepEqual(gpus('2,0'), [0, 2]);
  assert.deepEqual(gpus(''), []);
  assert.deepEqual(gpus('-1'), []);
  assert.deepEqual(gpus('NoDevFiles'), []);
  assert.deepEqual(gpus('0,-1,2'), [0]); // CUDA stops at the first invalid entry
  assert.deepEqual(gpus('GPU-8a1e,GPU-77f0'), [0, 1]);
  assert.equal(cudaVisibleGpus(undefined), undefined);
});

test('GPUs from /dev/nvidia[0-9]* when CUDA_VISIBLE_DEVICES is unset', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-dev-'));
  for (const f of ['nvidia0', 'nvidia3', 'nvidiactl', 'nvidia-uvm', 'nvidia-caps', 'null'])
    fs.writeFileSync(path.join(dir, f), '');
  assert.deepEqual(devNvidiaGpus(dir), [0, 3]);
  assert.deepEqual(discoverResources({ procStatus: STATUS, env: {}, devDir: dir }).ranks[0]!.gpus, [0, 3]);
  // CUDA_VISIBLE_DEVICES wins over the device files
  assert.deepEqual(
    discoverResources({ procStatus: STATUS, env: { CUDA_VISIBLE_DEVICES: '' }, devDir: dir }).ranks[0]!.gpus,
    [],
  );
  assert.deepEqual(devNvidiaGpus(path.join(dir, 'missing')), []);
  fs.rmSync(dir, { recursive: true });
});

test('overrides: a count or an idset', () => {
  const d = (o: { cores?: string; gpus?: string }) =>
    discoverResources({ ...o, procStatus: STATUS, env: { CUDA_VISIBLE_DEVICES: '0' }, devDir: emptyDev }).ranks[0]!;
  assert.deepEqual(d({ cores: '8' }).cores, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(d({ cores: '0-3,6' }).cores, [0, 1, 2, 3, 6]);
  assert.deepEqual(d({ cores: '[3]' }).cores, [3]);
  assert.deepEqual(d({ gpus: '2' }).gpus, [0, 1]);
  assert.deepEqual(d({ gpus: '0' }).gpus, []);
  assert.deepEqual(d({ gpus: '' }).gpus, []);
  assert.deepEqual(d({ gpus: '1,3' }).gpus, [1, 3]);
  assert.deepEqual(d({}).gpus, [0]);
  assert.deepEqual(parseResourceSpec(' 2 ', 'cores'), [0, 1]);
});

test('bad overrides are rejected clearly', () => {
  assert.throws(
    () => discoverResources({ cores: 'lots' }),
    (e: unknown) => e instanceof IdsetError && /^cores: expected a count \(e\.g\. "8"\) or an idset/.test(e.message),
  );
  assert.throws(() => discoverResources({ cores: '0' }), /cores: an instance needs at least one core/);
  assert.throws(() => discoverResources({ cores: '' }), /at least one core/);
  assert.throws(() => discoverResources({ gpus: '3-1' }), /gpus: .*range 3-1 is reversed/);
});
