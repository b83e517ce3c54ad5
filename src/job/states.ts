/**
 * Job states and results (docs/protocol.md §C.1, §C.3; flux-core libjob/state.c, result.c).
 * States are bitmasks so that sets of states (job-list filters) are plain ORs.
 */
import { Errno, FluxError } from '../protocol/errno.js';

export const JobState = {
  NEW: 1,
  DEPEND: 2,
  PRIORITY: 4,
  SCHED: 8,
  RUN: 16,
  CLEANUP: 32,
  INACTIVE: 64,
} as const;
export type JobStateName = keyof typeof JobState;
export type JobStateValue = (typeof JobState)[JobStateName];

/** Virtual states: unions used for filtering. */
export const VirtualState = {
  PENDING: 14, // DEPEND|PRIORITY|SCHED
  RUNNING: 48, // RUN|CLEANUP
  ACTIVE: 62, // everything but NEW and INACTIVE
} as const;
export type VirtualStateName = keyof typeof VirtualState;

/** Every real state, in lifecycle order. */
export const ALL_STATES: readonly JobStateValue[] = [1, 2, 4, 8, 16, 32, 64];

interface Names {
  long: string;
  short: string;
}

const STATE_NAMES = new Map<number, Names>([
  [JobState.NEW, { long: 'NEW', short: 'N' }],
  [JobState.DEPEND, { long: 'DEPEND', short: 'D' }],
  [JobState.PRIORITY, { long: 'PRIORITY', short: 'P' }],
  [JobState.SCHED, { long: 'SCHED', short: 'S' }],
  [JobState.RUN, { long: 'RUN', short: 'R' }],
  [JobState.CLEANUP, { long: 'CLEANUP', short: 'C' }],
  [JobState.INACTIVE, { long: 'INACTIVE', short: 'I' }],
  [VirtualState.PENDING, { long: 'PENDING', short: 'PD' }],
  [VirtualState.RUNNING, { long: 'RUNNING', short: 'RU' }],
  [VirtualState.ACTIVE, { long: 'ACTIVE', short: 'A' }],
]);

export interface NameFormat {
  /** Short form (`R`, `PD`) instead of the long one (`RUN`, `PENDING`). */
  short?: boolean;
  /** Lower case (`run`, `r`). */
  lower?: boolean;
}

function fmt(names: Names | undefined, opts: NameFormat): string {
  if (!names) return '(unknown)';
  const s = opts.short ? names.short : names.long;
  return opts.lower ? s.toLowerCase() : s;
}

/** Name of a state or virtual state; `(unknown)` for anything else (like flux_job_statetostr). */
export function stateName(state: number, opts: NameFormat = {}): string {
  return fmt(STATE_NAMES.get(state), opts);
}

function buildParseTable(table: Map<number, Names>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [value, n] of table) {
    for (const s of [n.long, n.short]) {
      m.set(s, value);
      m.set(s.toLowerCase(), value);
    }
  }
  return m;
}

const STATE_PARSE = buildParseTable(STATE_NAMES);

/** Error for an unknown state/result name (errno EINVAL like flux_job_strtostate). */
export class StateParseError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'StateParseError';
  }
}

/**
 * Parse `NEW`, `new`, `N` or `n` (and the virtual `PENDING`/`pending`/`PD`/`pd`, `RUNNING`/`RU`,
 * `ACTIVE`/`A`). Mixed case such as `Run` is rejected, as in flux-core.
 */
export function parseState(str: string): number {
  const v = STATE_PARSE.get(str);
  if (v === undefined) throw new StateParseError(`invalid job state '${str}'`);
  return v;
}

/** True for one of the seven real states. */
export function isRealState(state: number): state is JobStateValue {
  return ALL_STATES.includes(state as JobStateValue);
}

/** True if the job is active (not NEW-only and not INACTIVE). */
export function isActiveState(state: number): boolean {
  return (state & VirtualState.ACTIVE) !== 0;
}

// ------------------------------------------------------------------------------------------
// Results

export const JobResult = {
  COMPLETED: 1,
  FAILED: 2,
  CANCELED: 4,
  TIMEOUT: 8,
} as const;
export type JobResultName = keyof typeof JobResult;
export type JobResultValue = (typeof JobResult)[JobResultName];

const RESULT_NAMES = new Map<number, Names>([
  [JobResult.COMPLETED, { long: 'COMPLETED', short: 'CD' }],
  [JobResult.FAILED, { long: 'FAILED', short: 'F' }],
  [JobResult.CANCELED, { long: 'CANCELED', short: 'CA' }],
  [JobResult.TIMEOUT, { long: 'TIMEOUT', short: 'TO' }],
]);
const RESULT_PARSE = buildParseTable(RESULT_NAMES);

/** Name of a result (`COMPLETED`, short `CD`); `(unknown)` otherwise. */
export function resultName(result: number, opts: NameFormat = {}): string {
  return fmt(RESULT_NAMES.get(result), opts);
}

/** Parse `COMPLETED`/`completed`/`CD`/`cd` etc. */
export function parseResult(str: string): number {
  const v = RESULT_PARSE.get(str);
  if (v === undefined) throw new StateParseError(`invalid job result '${str}'`);
  return v;
}
