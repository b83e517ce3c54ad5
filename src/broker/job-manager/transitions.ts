/**
 * RFC 21 job state transitions (docs/protocol.md §C.1), pure: given a state and an event,
 * the next state. `event_job_update` in flux-core's job-manager/event.c.
 */
import { JobState, VirtualState } from '../../job/states.js';

export const S = JobState;
export const ACTIVE_MASK = VirtualState.ACTIVE;

/**
 * The state after `name` (with its context) is posted in `state`. Throws for an event that
 * is not valid in that state (a manager bug, never user input).
 */
export function nextState(state: number, name: string, context?: Record<string, unknown>): number {
  switch (name) {
    case 'submit':
      return S.NEW;
    case 'validate':
      if (state === S.NEW) return S.DEPEND;
      break;
    case 'depend':
      if (state === S.DEPEND) return S.PRIORITY;
      break;
    case 'priority':
      if (state === S.PRIORITY) return S.SCHED;
      if (state === S.SCHED) return S.SCHED;
      break;
    case 'urgency':
      return state === S.SCHED ? S.PRIORITY : state;
    case 'alloc':
      if (state === S.SCHED) return S.RUN;
      break;
    case 'finish':
      if (state === S.RUN) return S.CLEANUP;
      if (state === S.CLEANUP) return S.CLEANUP;
      break;
    case 'exception': {
      const sev = Number(context?.severity ?? 0);
      if (sev === 0 && (state & ACTIVE_MASK) !== 0 && state !== S.CLEANUP) return S.CLEANUP;
      return state;
    }
    case 'clean':
      if (state === S.CLEANUP) return S.INACTIVE;
      break;
    case 'flux-restart':
      // posted by a restarted manager to its jobs in SCHED, to compute their priority again
      return state === S.SCHED ? S.PRIORITY : state;
    default:
      // start, release, free, memo, dependency-*, prolog/epilog, debug.*: no state change
      return state;
  }
  throw new Error(`event ${name} is not valid in state ${state}`);
}

/** The priority plugin's rule: urgency 0 holds, 31 expedites, otherwise the urgency itself. */
export function priorityOf(urgency: number): number {
  if (urgency === 0) return 0;
  if (urgency === 31) return 4294967295;
  return urgency;
}
