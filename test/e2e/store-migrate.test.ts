/**
 * A store left by an older tsflux (schema 3: chunks in a WITHOUT ROWID table) under today's:
 * the instance migrates it at start, and `tsflux job attach` replays a job's output from it
 * byte for byte as it did before.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tsflux, baseEnv } from '../helpers/cli.js';
import { startBroker } from '../helpers/broker-process.js';
import { HANG_TIMEOUT } from '../helpers/wait.js';
import { tsfluxBin } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';
import { toSchema3 } from '../helpers/old-store.js';
import { SCHEMA_VERSION } from '../../src/broker/store/schema.js';

/** `tsflux job attach ID`: its rc and its stdout and stderr as bytes. */
function attach(uri: string, id: string): Promise<{ rc: number | null; out: Buffer; err: Buffer }> {
  const child = spawn(process.execPath, [tsfluxBin, 'job', 'attach', id], {
    env: { ...baseEnv(), FLUX_URI: uri },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (rc) => resolve({ rc, out: Buffer.concat(out), err: Buffer.concat(err) }));
  });
}

function userVersion(file: string): number {
  const d = new Database(file, { readonly: true });
  try {
    return Number(d.pragma('user_version', { simple: true }));
  } finally {
    d.close();
  }
}

describe('a store of an older schema', { timeout: HANG_TIMEOUT }, () => {
  test('a schema 3 store is migrated at start; attach replays its output byte for byte', async () => {
    const dir = tempDir('tsflux-migrate-');
    const store = path.join(dir, 'state.db');
    const run = path.join(dir, 'run');
    // bytes that are not UTF-8, a megabyte and more of lines (many chunks, rows over a page),
    // and stderr
    const script = `printf 'a\\377b\\n'; seq 1 200000; printf 'to stderr\\n' >&2; seq 5 >&2`;
    const b1 = await startBroker(run, ['--store', store]);
    let id: string;
    let first: Awaited<ReturnType<typeof attach>>;
    let execLog: string;
    try {
      const r = await tsflux(['submit', 'sh', '-c', script], b1.uri);
      assert.equal(r.rc, 0, r.stderr);
      id = r.stdout.trim();
      assert.equal((await attach(b1.uri, id)).rc, 0); // waits for the job's end
      first = await attach(b1.uri, id); // a replay of the inactive job
      execLog = (await tsflux(['job', 'eventlog', '-p', 'guest.exec.eventlog', id], b1.uri)).stdout;
    } finally {
      b1.end();
      await b1.exited;
    }
    const seq = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => `${i + from}\n`).join('');
    assert.equal(first.rc, 0, first.err.toString());
    assert.deepEqual(first.out, Buffer.concat([Buffer.from([0x61, 0xff, 0x62, 0x0a]), Buffer.from(seq(200000))]));
    assert.deepEqual(first.err, Buffer.from('to stderr\n' + seq(5)));
    assert.match(execLog, /init/);

    toSchema3(store);
    assert.equal(userVersion(store), 3);
    const b2 = await startBroker(run, ['--store', store]);
    try {
      assert.equal(userVersion(store), SCHEMA_VERSION);
      const again = await attach(b2.uri, id);
      assert.equal(again.rc, 0, again.err.toString());
      assert.deepEqual(again.out, first.out);
      assert.deepEqual(again.err, first.err);
      const log = await tsflux(['job', 'eventlog', '-p', 'guest.exec.eventlog', id], b2.uri);
      assert.equal(log.stdout, execLog);
    } finally {
      b2.end();
      assert.equal(await b2.exited, 0, b2.stderr());
    }
  });
});
