/**
 * RFC 31 job constraints as job-list matches them: `and` / `or` / `not` over leaves
 * `userid`, `states`, `results`, `name`, `queue`, `hostlist`, `ranks`, `t_submit` … .
 * Compiled once per request into a predicate; a malformed constraint is an error naming it.
 */
import type { JobView } from './view.js';

export type Predicate = (j: JobView) => boolean;

export class ConstraintError extends Error {}

const USERID_ANY = 0xffffffff;
const TIME_KEYS = new Set(['t_submit', 't_depend', 't_run', 't_cleanup', 't_inactive']);

function values(op: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new ConstraintError(`${op} operator requires an array`);
  return v;
}

function timeCmp(key: string, s: unknown): Predicate {
  if (typeof s !== 'string' && typeof s !== 'number') throw new ConstraintError(`${key}: expected a comparison string`);
  const m = /^\s*(>=|<=|>|<)?\s*([0-9.eE+-]+)\s*$/.exec(String(s));
  if (!m) throw new ConstraintError(`${key}: invalid comparison ${String(s)}`);
  const op = m[1] ?? '>=';
  const t = Number(m[2]);
  return (j) => {
    const v = Number(j.attr(key) ?? 0);
    if (!v) return false;
    return op === '>' ? v > t : op === '>=' ? v >= t : op === '<' ? v < t : v <= t;
  };
}

export function compile(c: unknown): Predicate {
  if (c === undefined || c === null) return () => true;
  if (typeof c !== 'object' || Array.isArray(c)) throw new ConstraintError('constraint must be an object');
  const keys = Object.keys(c);
  if (keys.length !== 1) throw new ConstraintError('constraint must have exactly one operator');
  const op = keys[0]!;
  const v = (c as Record<string, unknown>)[op];
  switch (op) {
    case 'and': {
      const ps = values(op, v).map(compile);
      return (j) => ps.every((p) => p(j));
    }
    case 'or': {
      const ps = values(op, v).map(compile);
      return (j) => ps.some((p) => p(j));
    }
    case 'not': {
      const ps = values(op, v).map(compile);
      return (j) => !ps.every((p) => p(j));
    }
    case 'userid': {
      const ids = values(op, v).map((x) => {
        if (!Number.isInteger(x)) throw new ConstraintError('userid value must be an integer');
        return x as number;
      });
      if (ids.includes(USERID_ANY)) return () => true;
      return (j) => ids.includes(j.attr('userid') as number);
    }
    case 'states':
    case 'results': {
      let mask = 0;
      for (const x of values(op, v)) {
        if (!Number.isInteger(x)) throw new ConstraintError(`${op} value must be an integer mask`);
        mask |= x as number;
      }
      if (op === 'states') return (j) => (j.state & mask) !== 0;
      return (j) => j.state === 64 && ((j.attr('result') as number) & mask) !== 0;
    }
    case 'name':
    case 'queue':
    case 'project':
    case 'bank': {
      const names = values(op, v).map(String);
      return (j) => names.includes(String(j.attr(op) ?? ''));
    }
    case 'hostlist': {
      const hosts = values(op, v).map(String);
      return (j) => String(j.attr('nodelist') ?? '').split(',').some((h) => hosts.includes(h));
    }
    case 'ranks': {
      const ranks = values(op, v).map(String);
      return (j) => String(j.attr('ranks') ?? '').split(',').some((r) => ranks.includes(r));
    }
    default:
      if (TIME_KEYS.has(op)) {
        const ps = values(op, v).map((s) => timeCmp(op, s));
        return (j) => ps.every((p) => p(j));
      }
      throw new ConstraintError(`unknown constraint operator: ${op}`);
  }
}
