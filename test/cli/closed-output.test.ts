/**
 * `tsflux VERB | head`: when the reader of its output goes away, the CLI ends at once and
 * quietly, killed by SIGPIPE as `yes | head` is (status 141 in a shell), whatever the verb.
 *
 * Real pipes: the test reads the first chunk of the CLI's output, then closes its end of the
 * pipe. Each output is well over twice a pipe's capacity (64 KiB: what the test may have read
 * plus what the pipe holds), so the CLI is still writing when the pipe closes, however the two
 * processes are scheduled.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as job from '../../src/client/job/index.js';
import { parseJobId } from '../../src/job/jobid.js';
import { baseEnv, tsflux } from '../helpers/cli.js';
import { repoRoot, tsfluxBin } from '../helpers/paths.js';
import { suiteInstance } from '../helpers/instance.js';
import { HANG_TIMEOUT } from '../helpers/wait.js';

interface Closed {
  /** The first chunk read before the pipe was closed. */
  first: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the CLI wrote on its other stream. */
  other: string;
}

/** Run `tsflux ARGS`, read the first chunk of `stream`, close that pipe, and wait for the end. */
function readThenClose(args: string[], uri: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<Closed> {
  const child = spawn(process.execPath, [tsfluxBin, ...args], {
    env: { ...baseEnv(), FLUX_URI: uri },
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = stream === 'stdout' ? child.stdout : child.stderr;
  const other = stream === 'stdout' ? child.stderr : child.stdout;
  let first = '';
  let rest = '';
  other.setEncoding('utf8').on('data', (d: string) => (rest += d));
  closed.once('data', (d: Buffer) => {
    first = d.toString('utf8');
    closed.destroy(); // the reader goes away, as `head` does
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ first, code, signal, other: rest }));
  });
}

describe('a closed output ends the CLI quietly, as SIGPIPE', { concurrency: false, timeout: HANG_TIMEOUT }, () => {
  const suite = suiteInstance();

  test('submit --cc: ids printed in bulk', async () => {
    const r = await readThenClose(['submit', '--cc=1-30000', '--urgency=0', 'true'], suite.inst.uri);
    assert.match(r.first, /^ƒ/);
    assert.deepEqual([r.signal, r.code, r.other], ['SIGPIPE', null, '']);
  });

  test('jobs: a table written at once', async () => {
    // lines of 1,000 characters: 300 jobs make a table far larger than a pipe holds
    const held = await tsflux(['submit', '--cc=1-300', '--quiet', '--urgency=0', 'true'], suite.inst.uri);
    assert.equal(held.rc, 0, held.stderr);
    const r = await readThenClose(['jobs', '-a', '-c', '300', '-o', '{id.f58:>1000}'], suite.inst.uri);
    assert.match(r.first, /^ +/);
    assert.deepEqual([r.signal, r.code, r.other], ['SIGPIPE', null, '']);
  });

  test("run: a job's output as it comes", async () => {
    const r = await readThenClose(['run', 'seq', '1', '200000'], suite.inst.uri);
    assert.match(r.first, /^1\n/);
    assert.deepEqual([r.signal, r.code, r.other], ['SIGPIPE', null, '']);
  });

  test("job attach: a finished job's output replayed, and a closed stderr too", async () => {
    const out = await tsflux(
      ['submit', '--flags=waitable', 'sh', '-c', 'seq 1 200000; seq 1 200000 >&2'],
      suite.inst.uri,
    );
    assert.equal(out.rc, 0, out.stderr);
    const id = parseJobId(out.stdout.trim());
    await job.wait(suite.h, id);
    const r = await readThenClose(['job', 'attach', out.stdout.trim()], suite.inst.uri);
    assert.match(r.first, /^1\n/);
    assert.deepEqual([r.signal, r.code, r.other], ['SIGPIPE', null, '']);
    const e = await readThenClose(['job', 'attach', out.stdout.trim()], suite.inst.uri, 'stderr');
    assert.match(e.first, /^1\n/);
    assert.equal(e.signal, 'SIGPIPE');
    assert.equal(e.code, null);
  });
});
