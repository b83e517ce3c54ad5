/**
 * Purging inactive jobs: `tsflux start --purge-count/--purge-age`, `[job-manager]`
 * inactive-num-limit / inactive-age-limit, and `tsflux job purge`; purged jobs leave job-list,
 * job-info and the store.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withInstance } from '../helpers/instance.js';
import { tsflux } from '../helpers/cli.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import * as job from '../../src/client/job/index.js';
import type { Flux } from '../../src/client/handle.js';
import { FluxError } from '../../src/protocol/errno.js';
import { tempDir } from '../helpers/temp.js';

const ENOENT = 2;
const EINVAL = 22;

function tmp(): string {
  return tempDir('tsflux-purge-');
}

async function runTrue(h: Flux, n: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const id = await job.submit(h, job.JobspecV1.fromCommand(['true']), { waitable: true });
    await job.wait(h, id);
    ids.push(id);
  }
  return ids;
}

async function inactiveIds(h: Flux): Promise<bigint[]> {
  const jobs = await job.list(h, { maxEntries: 0, attrs: ['state'] });
  return jobs.map((j) => BigInt(j.id));
}

describe('purge', { timeout: HANG_TIMEOUT }, () => {
  test('--purge-count keeps the newest N inactive jobs; the others leave job-list, job-info and the store', async () => {
    const dir = tmp();
    const store = path.join(dir, 's.db');
    await withInstance(
      async (inst, h) => {
        const ids = await runTrue(h, 5);
        await until(async () => (await inactiveIds(h)).length === 2, 'the purge of 3 jobs');
        assert.deepEqual((await inactiveIds(h)).sort(), ids.slice(3).sort());
        const stats = (await h.rpc('job-list.job-stats', {})) as Record<string, any>;
        assert.equal(stats.inactive_purged, 3);
        assert.equal(stats.job_states.inactive, 2);
        await assert.rejects(job.lookup(h, ids[0]!, ['eventlog']), (e: FluxError) => e.errno === ENOENT);
        const r = await tsflux(['job', 'eventlog', String(ids[0])], inst.uri);
        assert.equal(r.rc, 1);
        assert.match(await job.lookup(h, ids[4]!, ['eventlog']).then((x) => x.eventlog!), /clean/);
      },
      { storePath: store, purge: { num: 2 } },
    );
    // and after a restart on the store, only the two are there
    await withInstance(
      async (_inst, h) => {
        assert.equal((await inactiveIds(h)).length, 2);
      },
      { storePath: store },
    );
  });

  test('tsflux job purge counts without --force and purges with it', async () => {
    await withInstance(async (inst, h) => {
      const ids = await runTrue(h, 4);
      const dry = await tsflux(['job', 'purge', '--num-limit=1'], inst.uri);
      assert.equal(dry.rc, 0, dry.stderr);
      assert.equal(dry.stdout, 'use --force to purge 3 inactive jobs\n');
      assert.equal((await inactiveIds(h)).length, 4);
      const done = await tsflux(['job', 'purge', '--num-limit=1', '--force', '--batch=2'], inst.uri);
      assert.equal(done.stdout, 'purged 3 inactive jobs\n');
      assert.deepEqual(await inactiveIds(h), [ids[3]]);
      const none = await tsflux(['job', 'purge', '--age-limit=0', '--force'], inst.uri);
      assert.equal(none.stdout, 'purged 1 inactive jobs\n');
      assert.deepEqual(await inactiveIds(h), []);
      // bad limits: errno and flux-core's words
      await assert.rejects(
        h.rpc('job-manager.purge', { age_limit: -1, num_limit: -1, batch: 101, force: true }),
        (e: FluxError) => e.errno === EINVAL && /batch must be >= 1 and <= 100/.test(e.message),
      );
      const bad = await tsflux(['job', 'purge', '--num-limit=x'], inst.uri);
      assert.equal(bad.rc, 1);
      assert.match(bad.stderr, /--num-limit: 'x' is not an integer/);
    });
  });

  test('[job-manager] inactive-age-limit in the configuration purges; an unknown key is refused', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'jm.toml'), '[job-manager]\ninactive-age-limit = "0s"\n');
    await withInstance(
      async (_inst, h) => {
        await runTrue(h, 2);
        await until(async () => (await inactiveIds(h)).length === 0, 'the purge by age');
      },
      { configPath: dir },
    );
    const bad = tmp();
    fs.writeFileSync(path.join(bad, 'jm.toml'), '[job-manager]\njournal-size-limit = 10\n');
    const r = await tsflux(['start', `--config-path=${bad}`, 'true'], undefined);
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /job-manager\.journal-size-limit: tsflux does not implement this key/);
    const r2 = await tsflux(['start', '--purge-age=soon', 'true'], undefined);
    assert.equal(r2.rc, 1);
    assert.match(r2.stderr, /--purge-age: invalid duration 'soon'/);
  });
});
