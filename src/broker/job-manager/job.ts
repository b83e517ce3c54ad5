/** The manager's small in-memory record of one job (the jobspec and logs live in the store). */
import type { Rv1 } from '../../job/rv1.js';
import type { ResourceRequest } from '../contract.js';
import type { EventEntry } from '../store/store.js';
import type { Request } from '../service.js';
import type { AfterWait } from './dependencies.js';

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
  /** Timestamps of state entries (job-list's t_depend … t_inactive). */
  times: Partial<Record<'t_depend' | 't_priority' | 't_sched' | 't_run' | 't_cleanup' | 't_inactive', number>>;
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
  /** Number of eventlog entries posted (for cheap checks). */
  nevents: number;
  /** The `start` event was posted. */
  started?: boolean;
  /** RFC 26 dependencies (descriptions) still keeping this job in DEPEND. */
  dependsOn?: Set<string>;
  /** Dependencies of other jobs on this one, not settled yet (dependencies.ts). */
  waiters?: AfterWait[];
  /** This job's own waits, held by its antecedents, while it is in DEPEND. */
  waitingOn?: { antecedent: Job; wait: AfterWait }[];
}
