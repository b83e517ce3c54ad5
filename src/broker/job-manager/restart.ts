/**
 * A restarted job manager's view of a stored job (flux-core job-manager/restart.c): the job's
 * record rebuilt by replaying its eventlog from the store. What becomes of each active job
 * afterwards is the manager's (manager.ts `restart()`, docs/job-path.md "Restart"):
 *   - DEPEND: its outstanding dependencies are registered again with their antecedents;
 *   - PRIORITY: its priority is computed again;
 *   - SCHED: `flux-restart` (back to PRIORITY), then priority and a new alloc request;
 *   - RUN / CLEANUP: its tasks ended with the old broker, so it ends with a fatal `exec`
 *     exception that says so, its resources are freed and it is cleaned up.
 */
import type { Rv1 } from '../../job/rv1.js';
import type { ResourceRequest } from '../contract.js';
import type { EventEntry, StoredJob } from '../store/store.js';
import { S } from './transitions.js';
import { noteException, stepState, type Job } from './job.js';

/** Jobs a restart replays, or settles, in one turn of the event loop at most. */
const SLICE_JOBS = 2000;
/** A slice ends after this long (ms), however few jobs it did: on a loaded machine too. */
const SLICE_MS = 10;

/**
 * A restart's pace: it lets the event loop turn after SLICE_JOBS jobs or SLICE_MS of work,
 * whichever comes first, so that the broker answers meanwhile (the work of a slice includes
 * job-list's, fed by the restart: journal.ts).
 */
export class Pace {
  private n = 0;
  private since = performance.now();

  /** Count one job: is the slice over? (Then await next() before the job.) */
  due(): boolean {
    if (++this.n >= SLICE_JOBS) return true;
    return (this.n & 63) === 0 && performance.now() - this.since >= SLICE_MS;
  }

  /** Let the event loop turn (I/O, timers, the store's commits), then start a new slice. */
  async next(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.n = 0;
    this.since = performance.now();
  }
}

/** A restored job, with what the manager must settle after every job is back. */
export interface Replayed {
  job: Job;
  /** Dependencies added and not removed (`dependency-add` descriptions). */
  outstanding: Set<string>;
  /** The stored eventlog's entries, parsed once: the journal's consumers fed by the restart get them. */
  events: EventEntry[];
}

/** Rebuild a job from its stored eventlog; throws if the eventlog is not one tsflux wrote. */
export function replayJob(stored: StoredJob, request: ResourceRequest, readR: () => string | undefined): Replayed {
  const events = parseEventlog(stored.eventlog);
  const first = events[0];
  if (first === undefined) throw new Error('eventlog is empty');
  if (first.name !== 'submit') throw new Error(`eventlog starts with ${first.name}, not submit`);
  const c = (first.context ?? {}) as { userid?: number; urgency?: number; flags?: number };
  const job: Job = {
    id: stored.id,
    userid: stored.userid,
    urgency: Number(c.urgency ?? 16),
    priority: 0,
    flags: Number(c.flags ?? 0),
    state: S.NEW,
    t_submit: first.timestamp,
    request,
    allocPending: false,
    running: false,
    hasResources: false,
  };
  const outstanding = new Set<string>();
  for (let i = 1; i < events.length; i++) {
    const e = events[i]!;
    stepState(job, e);
    const ctx = (e.context ?? {}) as Record<string, unknown>;
    switch (e.name) {
      case 'urgency':
        job.urgency = Number(ctx.urgency);
        break;
      case 'priority':
        job.priority = Number(ctx.priority);
        break;
      case 'alloc': {
        const R = readR();
        if (R !== undefined) job.R = JSON.parse(R) as Rv1;
        job.hasResources = true;
        break;
      }
      case 'free':
        job.hasResources = false;
        break;
      case 'start':
        job.started = true;
        break;
      case 'finish':
        if (job.waitStatus === undefined) job.waitStatus = Number(ctx.status);
        job.endEvent ??= e;
        break;
      case 'exception':
        noteException(job, e);
        break;
      case 'dependency-add':
        outstanding.add(String(ctx.description));
        break;
      case 'dependency-remove':
        outstanding.delete(String(ctx.description));
        break;
    }
  }
  return { job, outstanding, events };
}

/**
 * An RFC 18 eventlog's entries, parsed as one JSON array (one parse for the whole log, not one
 * per line: a restart reads a million of them). Lines are objects with no raw newline in them
 * (RFC 18), so joining them with commas makes the array.
 */
export function parseEventlog(text: string): EventEntry[] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body === '') return [];
  return JSON.parse('[' + body.replaceAll('\n', ',') + ']') as EventEntry[];
}
