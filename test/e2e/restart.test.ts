/**
 * A durable store (`tsflux start --store FILE`) across a kill -9 of the broker and a clean exit:
 * what becomes of each job, as a user sees it through the CLI and the client library.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tsflux } from '../helpers/cli.js';
import { startBroker, killBroker } from '../helpers/broker-process.js';
import { HANG_TIMEOUT, alive, dead, lineOf, until } from '../helpers/wait.js';
import { Flux } from '../../src/client/handle.js';
import * as job from '../../src/client/job/index.js';
import { parseJobId } from '../../src/job/jobid.js';
import { FluxError } from '../../src/protocol/errno.js';
import { SqliteStore } from '../../src/broker/store/sqlite.js';
import { withInstance } from '../helpers/instance.js';
import { encodeEvent } from '../../src/job/eventlog.js';
import { SubmitFlags } from '../../src/job/submit-flags.js';
import { tempDir } from '../helpers/temp.js';

const ECHILD = 10;

function tmp(): string {
  return tempDir('tsflux-restart-');
}

async function ok(args: string[], uri: string): Promise<string> {
  const r = await tsflux(args, uri);
  assert.equal(r.rc, 0, `tsflux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function eventNames(uri: string, id: string): Promise<string[]> {
  const out = await ok(['job', 'eventlog', '-f', 'json', id], uri);
  return out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { name: string }).name);
}

describe('restart on a durable store', { timeout: HANG_TIMEOUT }, () => {
  test('after kill -9: every job is back, and each says what became of it', async () => {
    const dir = tmp();
    const store = path.join(dir, 'state.db');
    const run = path.join(dir, 'run');
    const b1 = await startBroker(run, ['--store', store]);
    const uri = b1.uri;
    const held = (await ok(['submit', '--urgency=0', 'true'], uri)).trim();
    const reaped = (await ok(['submit', '--flags=waitable', 'true'], uri)).trim();
    const unreaped = (await ok(['submit', '--flags=waitable', 'true'], uri)).trim();
    await ok(['job', 'wait', reaped], uri); // reaped before the crash: never handed out again
    await ok(['job', 'status', unreaped], uri);
    const pidFile = path.join(dir, 'task.pid');
    const running = (
      await ok(['submit', '--flags=waitable', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 3600`], uri)
    ).trim();
    const taskPid = Number(await lineOf(pidFile));
    const dependent = (await ok(['submit', `--dependency=afterok:${running}`, 'true'], uri)).trim();
    await until(async () => (await eventNames(uri, dependent)).includes('dependency-add'), 'the dependency');

    await killBroker(b1);
    // the task went with the broker (its launcher ends its tasks when the broker is gone)
    await dead(taskPid);

    const b2 = await startBroker(run, ['--store', store]);
    try {
      const u2 = b2.uri;
      const all = await ok(['jobs', '-a', '-n', '-o', '{id} {state}'], u2);
      const states = new Map(
        all
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      assert.equal(states.size, 5, all);
      assert.equal(states.get(held), 'SCHED');
      assert.equal(states.get(reaped), 'INACTIVE');
      assert.equal(states.get(unreaped), 'INACTIVE');
      assert.equal(states.get(running), 'INACTIVE');
      assert.equal(states.get(dependent), 'INACTIVE');

      // pending: flux-restart, then a new priority
      const heldEvents = await eventNames(u2, held);
      assert.deepEqual(heldEvents.slice(-2), ['flux-restart', 'priority']);
      // running: ended by an exception that says why, resources freed, cleaned
      const runLog = await ok(['job', 'eventlog', running], u2);
      assert.match(runLog, /exception type="exec" severity=0 note="instance restarted: the job was running/);
      assert.deepEqual((await eventNames(u2, running)).slice(-3), ['exception', 'free', 'clean']);
      // its dependent can never run now
      assert.match(await ok(['job', 'eventlog', dependent], u2), /exception type="dependency" severity=0/);

      // waitable: the unreaped one and the running one can be reaped, the reaped one is not again
      const h = await Flux.open(u2);
      try {
        const got = new Map<bigint, job.JobWaitResult>();
        for (;;) {
          try {
            const r = await job.wait(h);
            got.set(r.jobid, r);
          } catch (e) {
            assert.equal((e as FluxError).errno, ECHILD);
            break;
          }
        }
        assert.deepEqual([...got.keys()].sort(), [parseJobId(unreaped), parseJobId(running)].sort());
        assert.equal(got.get(parseJobId(unreaped))!.success, true);
        assert.equal(got.get(parseJobId(running))!.success, false);
      } finally {
        h.close();
      }

      // new ids go on above the old ones, and the held job still runs once released
      const next = (await ok(['submit', 'true'], u2)).trim();
      for (const old of states.keys()) assert.ok(parseJobId(next) > parseJobId(old), `${next} > ${old}`);
      await ok(['job', 'urgency', held, '16'], u2);
      await ok(['job', 'attach', held], u2);
    } finally {
      b2.end();
      assert.equal(await b2.exited, 0, b2.stderr());
    }
  });

  test('a job committed but not yet taken in by the manager when the broker died is taken in at restart', async () => {
    // what the store holds after a kill between ingest's commit and the manager's first events
    const store = path.join(tmp(), 'state.db');
    const s = SqliteStore.open(store, { durable: true });
    const submit = (flags: number) =>
      encodeEvent({
        timestamp: Date.now() / 1000,
        name: 'submit',
        context: { userid: process.getuid!(), urgency: 16, flags, version: 1 },
      });
    const spec = (extra: object = {}) => {
      const j = job.JobspecV1.fromCommand(['true']).toJSON() as Record<string, any>;
      Object.assign(j.attributes.system, extra);
      return JSON.stringify(j);
    };
    await s.createJobs([
      { id: 1000n, userid: process.getuid!(), jobspec: spec(), eventlog: submit(SubmitFlags.WAITABLE) },
      { id: 2000n, userid: process.getuid!(), jobspec: spec({ queue: 'nosuch' }), eventlog: submit(0) },
    ]);
    await s.close();
    await withInstance(
      async (_inst, h) => {
        const r = await job.wait(h, 1000n);
        assert.equal(r.success, true, r.errstr);
        const log = (await job.lookup(h, 2000n, ['eventlog'])).eventlog!;
        assert.match(
          log,
          /"name":"exception","context":\{"type":"validate","severity":0,"note":"'nosuch' is not a valid queue"/,
        );
        assert.match(log, /"name":"clean"/);
      },
      { storePath: store },
    );
  });

  test('kill -9 while a client submits: every acknowledged id is there exactly once, whole', async () => {
    const dir = tmp();
    const store = path.join(dir, 'state.db');
    const run = path.join(dir, 'run');
    const b1 = await startBroker(run, ['--store', store]);
    const acked: bigint[] = [];
    const h = await Flux.open(b1.uri);
    const spec = (await ok(['run', '--dry-run', '--urgency=0', 'true'], b1.uri)).trim();
    // submit in windows of 500 until the broker dies; the kill comes once 5,000 are acknowledged
    let killed: Promise<void> | undefined;
    const submitting = (async () => {
      for (let n = 0; n < 20000; n += 500) {
        const futures = Array.from({ length: 500 }, () => job.submit(h, spec));
        const results = await Promise.allSettled(futures);
        for (const r of results) if (r.status === 'fulfilled') acked.push(r.value);
        if (results.some((r) => r.status === 'rejected')) return;
        if (acked.length >= 5000 && killed === undefined) killed = killBroker(b1);
      }
    })();
    await submitting;
    await killed;
    h.close();
    assert.ok(acked.length >= 5000);

    const b2 = await startBroker(run, ['--store', store]);
    try {
      const h2 = await Flux.open(b2.uri);
      try {
        const listed = (await job.list(h2, { maxEntries: 0, attrs: ['id'] })).map((j) => BigInt(j.id));
        const counts = new Map<bigint, number>();
        for (const id of listed) counts.set(id, (counts.get(id) ?? 0) + 1);
        for (const id of acked) assert.equal(counts.get(id), 1, `acknowledged job ${id} listed once`);
        assert.equal(new Set(listed).size, listed.length, 'no id twice');
        // whole: each acknowledged job has its jobspec and a submit event
        for (const id of acked.slice(-200)) {
          const r = await job.lookup(h2, id, ['jobspec', 'eventlog']);
          assert.equal(JSON.parse(r.jobspec!).version, 1);
          assert.match(r.eventlog!, /^\{"timestamp":[0-9.]+,"name":"submit"/);
        }
      } finally {
        h2.close();
      }
    } finally {
      b2.end();
      await b2.exited;
    }
  });

  test('a clean exit keeps the queue: pending jobs wait for the next start, running ones are canceled', async () => {
    const dir = tmp();
    const store = path.join(dir, 'state.db');
    const run = path.join(dir, 'run');
    const b1 = await startBroker(run, ['--store', store]);
    const pending = (await ok(['submit', '--urgency=0', 'true'], b1.uri)).trim();
    const pidFile = path.join(dir, 'task.pid');
    const running = (await ok(['submit', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 3600`], b1.uri)).trim();
    const taskPid = Number(await lineOf(pidFile));
    b1.end();
    assert.equal(await b1.exited, 0, b1.stderr());
    assert.equal(alive(taskPid), false);

    const b2 = await startBroker(run, ['--store', store]);
    try {
      const u2 = b2.uri;
      assert.doesNotMatch(await ok(['job', 'eventlog', pending], u2), /exception/);
      assert.equal((await ok(['jobs', '-n', '-o', '{state}', pending], u2)).trim(), 'SCHED');
      assert.match(
        await ok(['job', 'eventlog', running], u2),
        /exception type="cancel" severity=0 note="instance is shutting down"/,
      );
    } finally {
      b2.end();
      await b2.exited;
    }
  });

  test('the store is refused, naming it, when it is in use, not a store, or from a newer tsflux', async () => {
    const dir = tmp();
    const store = path.join(dir, 'state.db');
    const b1 = await startBroker(path.join(dir, 'run'), ['--store', store]);
    try {
      const r = await tsflux(['start', '--store', store, 'true'], undefined);
      assert.equal(r.rc, 1);
      assert.match(r.stderr, new RegExp(`store ${store}: .*in use by another instance`));
      assert.equal((await ok(['submit', 'true'], b1.uri)).startsWith('ƒ'), true); // the first carries on
    } finally {
      b1.end();
      await b1.exited;
    }

    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'my notes, not a database\n'.repeat(100));
    const r2 = await tsflux(['start', '--store', text, 'true'], undefined);
    assert.equal(r2.rc, 1);
    assert.match(r2.stderr, /not a tsflux store/);
    assert.equal(fs.readFileSync(text, 'utf8'), 'my notes, not a database\n'.repeat(100));

    const r3 = await tsflux(['start', '--store', path.join(dir, 'no', 'such', 'dir', 's.db'), 'true'], undefined);
    assert.equal(r3.rc, 1);
    assert.match(r3.stderr, /store .*no\/such\/dir\/s\.db: cannot open/);
  });

  test("Flux's spelling -o,-Sstatedir=DIR keeps the store in DIR; without a store nothing is left behind", async () => {
    const dir = tmp();
    const statedir = path.join(dir, 'state');
    const r = await tsflux(
      ['start', `-o,-Sstatedir=${statedir}`, 'tsflux', 'submit', '--urgency=0', 'true'],
      undefined,
    );
    assert.equal(r.rc, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(statedir, 'tsflux-store.db')));
    const r2 = await tsflux(['start', `-o,-Sstatedir=${statedir}`, 'tsflux', 'jobs', '-n', '-o', '{id}'], undefined);
    assert.equal(r2.stdout.trim(), r.stdout.trim());

    const run = path.join(dir, 'scratch');
    const r3 = await tsflux(['start', '--rundir', run, 'tsflux', 'getattr', 'rundir'], undefined);
    assert.equal(r3.rc, 0, r3.stderr);
    assert.deepEqual(fs.readdirSync(run), []); // the scratch store went with the instance
  });
});
