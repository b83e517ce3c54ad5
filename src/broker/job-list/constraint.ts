/**
 * RFC 31 job constraints as flux-core's job-list matches them (src/modules/job-list/match.c,
 * match_util.c, state_match.c): a tree of `and` / `or` / `not` over leaves `userid`, `name`,
 * `queue`, `states`, `results`, `hostlist`, `ranks`, `t_submit` / `t_depend` / `t_run` /
 * `t_cleanup` / `t_inactive`. Compiled once per request into a predicate, plus the set of
 * states a matching job can be in (so the lists that cannot match are skipped).
 * Error texts are flux-core's; job-list prefixes them with
 * `invalid payload: constraint object invalid: `.
 */
import { JobResult, JobState, VirtualState, parseResult, parseState } from '../../job/states.js';
import { decodeIdset } from '../../job/idset.js';
import { decodeHostlist } from '../../job/hostlist.js';
import type { ListJob } from './record.js';
import { Errno, FluxError } from '../../protocol/errno.js';

export type Predicate = (j: ListJob) => boolean;

/** A malformed RFC 31 constraint: part of the request payload, so errno EPROTO as job-list answers. */
export class ConstraintError extends FluxError {
  constructor(message: string) {
    super(Errno.EPROTO, message);
    this.name = 'ConstraintError';
  }
}

export interface Compiled {
  match: Predicate;
  /** States a matching job may be in (a superset; ALL when unknown). */
  states: number;
}

const USERID_UNKNOWN = 0xffffffff;
const ALL_STATES = JobState.NEW | VirtualState.PENDING | VirtualState.RUNNING | JobState.INACTIVE;
const ALL_RESULTS = JobResult.COMPLETED | JobResult.FAILED | JobResult.CANCELED | JobResult.TIMEOUT;
const MAX_HOSTS = 1024;

const TRUE: Compiled = { match: () => true, states: ALL_STATES };

function hexh(n: number): string {
  return `${(n >>> 0).toString(16).toUpperCase()}h`;
}

function bitmask(op: 'states' | 'results', values: unknown[]): number {
  const valid = op === 'states' ? ALL_STATES : ALL_RESULTS;
  let mask = 0;
  for (const v of values) {
    if (typeof v === 'string') {
      try {
        mask |= op === 'states' ? parseState(v) : parseResult(v);
      } catch {
        throw new ConstraintError(`invalid ${op} value '${v}' specified`);
      }
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      if (v & ~valid) throw new ConstraintError(`invalid ${op} value '${hexh(v)}' specified`);
      mask |= v;
    } else {
      throw new ConstraintError(`${op} value invalid type`);
    }
  }
  return mask;
}

function strings(op: string, values: unknown[]): string[] {
  for (const v of values) if (typeof v !== 'string') throw new ConstraintError(`${op} value must be a string`);
  return values as string[];
}

const TS_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function timestamp(op: string, values: unknown[]): Compiled {
  const v = values[0];
  if (v === undefined) throw new ConstraintError('timestamp value not specified');
  if (typeof v !== 'string') throw new ConstraintError(`${op} value must be a string`);
  let cmp: '>=' | '<=' | '>' | '<';
  if (v.startsWith('>=')) cmp = '>=';
  else if (v.startsWith('<=')) cmp = '<=';
  else if (v.startsWith('>')) cmp = '>';
  else if (v.startsWith('<')) cmp = '<';
  else throw new ConstraintError('timestamp comparison operator not specified');
  const rest = v.slice(cmp.length);
  if (!TS_RE.test(rest)) throw new ConstraintError('Invalid timestamp value specified');
  const t = Number(rest);
  if (t < 0) throw new ConstraintError('timestamp value must be >= 0.0');
  let get: (j: ListJob) => number | undefined;
  switch (op) {
    case 't_submit':
      get = (j) => j.t_submit;
      break;
    case 't_depend':
      get = (j) => (j.submitVersion < 1 ? j.t_submit : j.statesMask & JobState.DEPEND ? j.t_depend : undefined);
      break;
    case 't_run':
      get = (j) => (j.statesMask & JobState.RUN ? j.t_run : undefined);
      break;
    case 't_cleanup':
      get = (j) => (j.statesMask & JobState.CLEANUP ? j.t_cleanup : undefined);
      break;
    default:
      get = (j) => (j.statesMask & JobState.INACTIVE ? j.t_inactive : undefined);
  }
  let test: (x: number) => boolean;
  if (cmp === '>=') test = (x) => x >= t;
  else if (cmp === '<=') test = (x) => x <= t;
  else if (cmp === '>') test = (x) => x > t;
  else test = (x) => x < t;
  return {
    match: (j) => {
      const x = get(j);
      return x !== undefined && test(x);
    },
    states: ALL_STATES,
  };
}

function hostlist(values: unknown[]): Compiled {
  const want: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string') throw new ConstraintError('host value must be a string');
    let hosts: string[];
    try {
      hosts = decodeHostlist(v, MAX_HOSTS + 1);
    } catch {
      throw new ConstraintError('host value not in valid Hostlist format');
    }
    if (hosts.length === 0) throw new ConstraintError('host value not in valid Hostlist format');
    want.push(...hosts);
    if (want.length > MAX_HOSTS) throw new ConstraintError('too many hosts specified');
  }
  return {
    match: (j) => {
      if (j.nodelist === undefined) return false;
      if (!j.hosts) {
        try {
          j.hosts = new Set(decodeHostlist(j.nodelist));
        } catch {
          return false;
        }
      }
      for (const h of want) if (j.hosts.has(h)) return true;
      return false;
    },
    states: ALL_STATES,
  };
}

function ranks(values: unknown[]): Compiled {
  const want: number[] = [];
  for (const v of values) {
    if (typeof v !== 'string') throw new ConstraintError('ranks value must be a string');
    try {
      want.push(...decodeIdset(v));
    } catch {
      throw new ConstraintError('ranks value not in valid idset format');
    }
  }
  return {
    match: (j) => {
      if (j.ranks === undefined) return false;
      if (!j.rankSet) {
        try {
          j.rankSet = new Set(decodeIdset(j.ranks));
        } catch {
          return false;
        }
      }
      for (const r of want) if (j.rankSet.has(r)) return true;
      return false;
    },
    states: ALL_STATES,
  };
}

/** Compile a constraint object (undefined/null = match everything). Throws ConstraintError. */
export function compileConstraint(c: unknown): Compiled {
  if (c === undefined || c === null) return TRUE;
  if (typeof c !== 'object' || Array.isArray(c)) throw new ConstraintError('constraint must be JSON object');
  const keys = Object.keys(c);
  if (keys.length > 1) throw new ConstraintError('constraint must only contain 1 element');
  if (keys.length === 0) return TRUE;
  const op = keys[0]!;
  const values = (c as Record<string, unknown>)[op];
  if (!Array.isArray(values)) throw new ConstraintError(`operator ${op} values not an array`);
  switch (op) {
    case 'userid': {
      const ids: number[] = [];
      for (const v of values) {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConstraintError('userid value must be an integer');
        ids.push(v >>> 0); // uint32, so -1 is FLUX_USERID_UNKNOWN
      }
      if (ids.includes(USERID_UNKNOWN)) return TRUE;
      if (ids.length === 1) {
        const u = ids[0]!;
        return { match: (j) => j.userid === u, states: ALL_STATES };
      }
      return { match: (j) => ids.includes(j.userid), states: ALL_STATES };
    }
    case 'name': {
      const names = strings('name', values);
      return { match: (j) => j.name !== undefined && names.includes(j.name), states: ALL_STATES };
    }
    case 'queue': {
      const queues = strings('queue', values);
      return { match: (j) => j.queue !== undefined && queues.includes(j.queue), states: ALL_STATES };
    }
    case 'states': {
      const mask = bitmask('states', values);
      return { match: (j) => (j.state & mask) !== 0, states: mask };
    }
    case 'results': {
      const mask = bitmask('results', values);
      return { match: (j) => j.state === JobState.INACTIVE && (j.result & mask) !== 0, states: JobState.INACTIVE };
    }
    case 'hostlist':
      return hostlist(values);
    case 'ranks':
      return ranks(values);
    case 't_submit':
    case 't_depend':
    case 't_run':
    case 't_cleanup':
    case 't_inactive':
      return timestamp(op, values);
    case 'and':
    case 'or':
    case 'not': {
      const subs = values.map((v) => compileConstraint(v));
      const ms = subs.map((s) => s.match);
      if (op === 'and') {
        let states = ALL_STATES;
        for (const s of subs) states &= s.states;
        if (ms.length === 1) return { match: ms[0]!, states };
        return { match: (j) => ms.every((m) => m(j)), states };
      }
      if (op === 'or') {
        // no values in "or" is true (RFC 31)
        if (ms.length === 0) return TRUE;
        let states = 0;
        for (const s of subs) states |= s.states;
        return { match: (j) => ms.some((m) => m(j)), states };
      }
      return { match: (j) => !ms.every((m) => m(j)), states: ALL_STATES };
    }
    default:
      throw new ConstraintError(`unknown constraint operator: ${op}`);
  }
}
