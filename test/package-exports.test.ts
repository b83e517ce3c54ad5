/** The package's entry points (package.json "exports") resolve and expose the public API. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('tsflux, tsflux/client, tsflux/job and tsflux/protocol resolve', async () => {
  const root = await import('tsflux');
  assert.equal(typeof root.Flux, 'function');
  assert.equal(typeof root.job.submitAsync, 'function');
  assert.equal(typeof root.FluxExecutor, 'function');
  assert.equal(typeof root.ProgressBar, 'function');
  const client = await import('tsflux/client');
  assert.equal(client.Flux, root.Flux);
  const jobm = await import('tsflux/job');
  assert.equal(jobm.encodeJobId(57n, 'f58plain'), 'fz');
  assert.equal(typeof jobm.JobspecV1.fromCommand, 'function');
  const proto = await import('tsflux/protocol');
  assert.equal(proto.Errno.ENOSYS, 38);
});
