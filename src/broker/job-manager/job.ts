/**
 * The manager's small in-memory record of one job (the jobspec and logs live in the store): a
 * broker with a million queued jobs holds a million of these, so each field counts (8 bytes,
 * and 16 more for a number that is not a small integer); what only some jobs have is optional.
 */
import { encodeEvent } from '../../job/eventlog.js';
import type { Rv1 } from '../../job/rv1.js';
import type { ResourceRequest } from '../contract.js';
import type { EventEntry } from '../store/store.js';
import type { Request } from '../service.js';
import type { AfterWait } from './dependencies.js';
import { S, nextState } from './transitions.js';

export interface Job {
  id: bigint;
  userid: number;
  urgency: number;
  priority: number;
  flags: number;
  state: number;
  t_submit: number;
  request: ResourceRequest;
  R?: Rv1;
  /** When it became inactive (job-list keeps the other state times). */
  t_inactive?: number;
  /** An alloc request is outstanding at the scheduler. */
  allocPending: boolean;
  /** The exec stream is open (tasks may be running). */
  running: boolean;
  /** R is held and has not been freed yet. */
  hasResources: boolean;
  /** The first fatal event (finish or severity-0 exception). */
  endEvent?: EventEntry;
  /** The first severity-0 exception, if any. */
  fatalException?: { type: string; severity: number; note: string };
  /** Every exception seen (job-list reports the most severe). */
  exception?: { type: string; severity: number; note: string };
  /** finish status (wait(2) status) */
  waitStatus?: number;
  /** A job-manager.wait request for this very id. */
  waiter?: Request;
  /** The `start` event was posted. */
  started?: boolean;
  /** RFC 26 dependencies (descriptions) still keeping this job in DEPEND. */
  dependsOn?: Set<string>;
  /** Dependencies of other jobs on this one, not settled yet (dependencies.ts). */
  waiters?: AfterWait[];
  /** This job's own waits, held by its antecedents, while it is in DEPEND. */
  waitingOn?: { antecedent: Job; wait: AfterWait }[];
}

/**
 * One event's effect on the job's state (and the time it entered it), as the manager posts it
 * and as a restart replays it; returns the event's eventlog line.
 */
export function applyEvent(job: Job, entry: EventEntry): string {
  stepState(job, entry);
  return encodeEvent(entry);
}

/** The state change of `applyEvent` alone (a restart's replay: the line is in the store already). */
export function stepState(job: Job, entry: EventEntry): void {
  const prev = job.state;
  job.state = nextState(prev, entry.name, entry.context);
  if (job.state === S.INACTIVE && prev !== S.INACTIVE) job.t_inactive = entry.timestamp;
}

/** Record an exception on the job: the most severe, the first fatal one, the end event. */
export function noteException(job: Job, entry: EventEntry): void {
  const c = (entry.context ?? {}) as { type?: unknown; severity?: unknown; note?: unknown };
  const x = { type: String(c.type), severity: Number(c.severity ?? 0), note: String(c.note ?? '') };
  if (!job.exception || x.severity < job.exception.severity) job.exception = x;
  if (x.severity !== 0) return;
  job.fatalException ??= x;
  job.endEvent ??= entry;
}
