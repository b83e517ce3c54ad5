/**
 * job-list after a restart on a durable store (`tsflux start --store FILE`): every job is listed
 * again, once, with the state, times and result it had, or with what the restart made of it,
 * after a kill -9 of the broker and after a clean exit. A real instance in a process of its
 * own; job-list's requests are sent as soon as the new broker's socket answers, while it may
 * still be restarting (they wait for job-list's backlog, which is the restart's own pass).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tsflux } from '../helpers/cli.js';
import { startBroker, killBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { HANG_TIMEOUT, dead, lineOf } from '../helpers/wait.js';
import { Flux } from '../../src/client/handle.js';
import * as job from '../../src/client/job/index.js';
import { JobResult, JobState } from '../../src/job/states.js';
import { parseJobId } from '../../src/job/jobid.js';
import { tempDir } from '../helpers/temp.js';

/** More held jobs than a restart replays in one turn of the event loop (2,000). */
const HELD = 2500;

type Listed = Record<string, unknown> & { id: bigint | number; state: number };

async function ok(args: string[], uri: string): Promise<string> {
  const r = await tsflux(args, uri);
  assert.equal(r.rc, 0, `tsflux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** `tsflux submit`'s id (an f58 FLUID) in decimal, as job-list's ids are keyed here. */
async function submitted(args: string[], uri: string): Promise<string> {
  return String(parseJobId(await ok(['submit', ...args], uri)));
}

/** Every job job-list knows, with every attribute, by id; its stats; the manager's counts. */
async function snapshot(uri: string) {
  const h = await Flux.open(uri);
  try {
    const { jobs } = await h.rpc<{ jobs: Listed[] }>('job-list.list', { max_entries: 0, attrs: ['all'] });
    const byId = new Map(jobs.map((j) => [String(j.id), j]));
    assert.equal(byId.size, jobs.length, 'a job listed twice');
    const stats = await h.rpc<{ job_states: Record<string, number>; [k: string]: unknown }>('job-list.job-stats', {});
    const manager = await h.rpc<{ state_count: Record<string, number> }>('job-manager.stats-get', {});
    return { byId, stats, manager: manager.state_count };
  } finally {
    h.close();
  }
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** job-list's counts are the job manager's. */
function agree(s: Snapshot): void {
  for (const k of ['depend', 'priority', 'sched', 'run', 'cleanup', 'inactive']) {
    assert.equal(s.stats.job_states[k], s.manager[k] ?? 0, `${k}: job-list against job-manager`);
  }
}

/** A held job after a restart: as before but for the flux-restart and new priority (later times). */
function sameHeld(before: Listed, after: Listed): void {
  const { t_priority: p0, t_sched: s0, ...rest0 } = before;
  const { t_priority: p1, t_sched: s1, ...rest1 } = after;
  assert.deepEqual(rest1, rest0);
  assert.equal(after.state, JobState.SCHED);
  assert.ok((p1 as number) >= (p0 as number) && (s1 as number) >= (s0 as number), 'times of the restart');
}

describe('job-list after a restart on a durable store', { timeout: HANG_TIMEOUT }, () => {
  test('every job is listed once, with its state, times and result, after kill -9 and a clean exit', async () => {
    const dir = tempDir('tsflux-restart-list-');
    const store = path.join(dir, 'state.db');
    const run = path.join(dir, 'run');
    let b: BrokerProcess = await startBroker(run, ['--store', store]);
    try {
      const uri = b.uri;
      const h = await Flux.open(uri);
      let held: string[];
      let completed: string, failed: string, canceled: string, running: string, dependent: string;
      const pidFile = path.join(dir, 'task.pid');
      try {
        const spec = job.JobspecV1.fromCommand(['true']);
        const ids: bigint[] = [];
        for (let i = 0; i < HELD; i += 500) {
          const n = Math.min(500, HELD - i);
          ids.push(...(await Promise.all(Array.from({ length: n }, () => job.submit(h, spec, { urgency: 0 })))));
        }
        held = ids.map(String);
        completed = await submitted(['--flags=waitable', '--job-name=done', 'true'], uri);
        failed = await submitted(['--flags=waitable', 'false'], uri);
        await ok(['job', 'wait', completed], uri);
        assert.equal((await job.wait(h, BigInt(failed))).success, false);
        canceled = await submitted(['--urgency=0', 'true'], uri);
        await ok(['cancel', canceled], uri);
        running = await submitted(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 3600`], uri);
        await lineOf(pidFile);
        dependent = await submitted([`--dependency=afterok:${running}`, 'true'], uri);
        await h.rpc('job-list.list-id', { id: BigInt(canceled), attrs: ['state'], state: JobState.INACTIVE });
        await job.eventWait(h, BigInt(dependent), 'dependency-add');
      } finally {
        h.close();
      }
      const s0 = await snapshot(uri);
      agree(s0);
      assert.equal(s0.byId.size, HELD + 5);
      assert.equal(s0.byId.get(running)!.state, JobState.RUN);
      assert.equal(s0.byId.get(dependent)!.state, JobState.DEPEND);
      const inactive = [completed, failed, canceled];
      for (const id of inactive) assert.equal(s0.byId.get(id)!.state, JobState.INACTIVE);

      await killBroker(b);
      await dead(Number(fs.readFileSync(pidFile, 'utf8')));
      b = await startBroker(run, ['--store', store]);
      const s1 = await snapshot(b.uri);
      agree(s1);
      // no job lost, none added
      assert.deepEqual([...s1.byId.keys()].sort(), [...s0.byId.keys()].sort());
      // finished jobs exactly as they were
      for (const id of inactive) assert.deepEqual(s1.byId.get(id), s0.byId.get(id), `job ${id}`);
      assert.equal(s1.byId.get(completed)!.result, JobResult.COMPLETED);
      assert.equal(s1.byId.get(completed)!.name, 'done');
      assert.equal(s1.byId.get(failed)!.result, JobResult.FAILED);
      assert.equal(s1.byId.get(canceled)!.result, JobResult.CANCELED);
      // held jobs queued again
      for (const id of held) sameHeld(s0.byId.get(id)!, s1.byId.get(id)!);
      // the running job ended with the broker: failed by an exec exception, run time kept
      const r = s1.byId.get(running)!;
      assert.equal(r.state, JobState.INACTIVE);
      assert.equal(r.result, JobResult.FAILED);
      assert.equal(r.exception_type, 'exec');
      assert.equal(r.t_run, s0.byId.get(running)!.t_run);
      assert.match(String(r.exception_note), /instance restarted/);
      // and its dependent can never run
      assert.equal(s1.byId.get(dependent)!.state, JobState.INACTIVE);
      assert.equal(s1.byId.get(dependent)!.exception_type, 'dependency');
      const st = s1.stats;
      assert.deepEqual(st.job_states, {
        depend: 0,
        priority: 0,
        sched: HELD,
        run: 0,
        cleanup: 0,
        inactive: 5,
        total: HELD + 5,
      });
      assert.equal(st.successful, 1);
      assert.equal(st.failed, 3);
      assert.equal(st.canceled, 1);

      // a clean exit keeps the queue; the next start lists the same again
      b.end();
      assert.equal(await b.exited, 0, b.stderr());
      b = await startBroker(run, ['--store', store]);
      const s2 = await snapshot(b.uri);
      agree(s2);
      assert.deepEqual([...s2.byId.keys()].sort(), [...s1.byId.keys()].sort());
      const heldIds = new Set(held);
      for (const [id, j] of s1.byId) {
        if (heldIds.has(id)) sameHeld(j, s2.byId.get(id)!);
        else assert.deepEqual(s2.byId.get(id), j, `job ${id}`);
      }
      assert.deepEqual(s2.stats, s1.stats);
    } finally {
      b.end();
      await b.exited;
    }
  });
});
