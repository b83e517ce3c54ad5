/**
 * What a task of a Slurm job step knows without PMI (`srun --mpi=none`; docs/protocol.md §F.1):
 * `SLURM_PROCID` (its rank), `SLURM_STEP_NUM_TASKS` (the size), `SLURM_JOB_ID`.`SLURM_STEP_ID`,
 * `SLURM_STEP_NODELIST` (a Slurm hostlist expression, e.g. `n[1-3]`) and
 * `SLURM_STEP_TASKS_PER_NODE` (`2(x3),1`).
 *
 * Slurm's hostlist expressions are wider than RFC 29's (src/job/hostlist.ts): a host may hold
 * several bracket groups, expanded as a product with the last one varying fastest
 * (`r[1-2]n[1-2]` → r1n1 r1n2 r2n1 r2n2), and ranges keep their zero padding (`n[01-10]`).
 */
import { Errno, FluxError } from '../../protocol/errno.js';

type Env = Record<string, string | undefined>;

const MAX_HOSTS = 1 << 20;

function bad(expr: string, why: string): FluxError {
  return new FluxError(Errno.EINVAL, `hostlist '${expr}': ${why}`);
}

/** Split at commas outside brackets. */
function topLevel(expr: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '[') {
      if (depth++ > 0) throw bad(expr, 'nested brackets');
    } else if (c === ']') {
      if (--depth < 0) throw bad(expr, "a ']' without its '['");
    } else if (c === ',' && depth === 0) {
      out.push(expr.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw bad(expr, "a '[' without its ']'");
  out.push(expr.slice(start));
  return out;
}

/** The numbers of one bracket group (`1-3,7,09-11`), as strings with their padding. */
function group(expr: string, body: string): string[] {
  const out: string[] = [];
  for (const r of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r.trim());
    if (!m) throw bad(expr, `'${r}' is not a number or a range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw bad(expr, `the range ${r} runs backwards`);
    if (hi - lo + 1 > MAX_HOSTS) throw bad(expr, 'too many hosts');
    const width = m[1]!.length;
    for (let n = lo; n <= hi; n++) out.push(String(n).padStart(width, '0'));
  }
  return out;
}

/** Expand a Slurm hostlist expression into host names, in order. */
export function expandSlurmHostlist(expr: string): string[] {
  const hosts: string[] = [];
  for (const item of topLevel(expr.trim())) {
    if (item === '') throw bad(expr, 'an empty host name');
    // literal text and bracket groups alternate: a product, the last group fastest
    let names = [''];
    const re = /([^[\]]*)(?:\[([^\]]*)\])?/y;
    let pos = 0;
    while (pos < item.length) {
      re.lastIndex = pos;
      const m = re.exec(item)!;
      pos = re.lastIndex;
      const text = m[1]!;
      const nums = m[2] === undefined ? [''] : group(expr, m[2]);
      if (names.length * nums.length > MAX_HOSTS) throw bad(expr, 'too many hosts');
      names = names.flatMap((n) => nums.map((d) => n + text + d));
    }
    if (hosts.length + names.length > MAX_HOSTS) throw bad(expr, 'too many hosts');
    hosts.push(...names);
  }
  return hosts;
}

/** `SLURM_STEP_TASKS_PER_NODE`: `2(x3),1` → [2, 2, 2, 1]. */
export function expandTasksPerNode(expr: string): number[] {
  const out: number[] = [];
  for (const item of expr.split(',')) {
    const m = /^\s*(\d+)(?:\(x(\d+)\))?\s*$/.exec(item);
    if (!m) throw new FluxError(Errno.EINVAL, `tasks per node '${expr}': '${item}' is not N or N(xM)`);
    const n = Number(m[1]);
    const times = m[2] === undefined ? 1 : Number(m[2]);
    if (out.length + times > MAX_HOSTS) throw new FluxError(Errno.EINVAL, `tasks per node '${expr}': too many nodes`);
    for (let i = 0; i < times; i++) out.push(n);
  }
  return out;
}

export interface SlurmStep {
  /** `<jobid>.<stepid>`: Slurm's own PMI kvsname for the step. */
  step: string;
  rank: number;
  size: number;
  /** The step's nodes, in order; rank 0 runs on the first. */
  nodes: string[];
  /** This task's node: its index in `nodes` (SLURM_NODEID). */
  nodeid: number;
  /** SLURMD_NODENAME, when set. */
  nodename: string | undefined;
  /** SLURM_STEP_RESV_PORTS (MpiParams=ports=…), when set: the ports the step may use. */
  resvPorts: number[] | undefined;
}

function num(env: Env, name: string): number {
  const v = env[name]!;
  if (!/^\d+$/.test(v.trim())) throw new FluxError(Errno.EINVAL, `bootstrap (slurm): ${name}=${v} is not a number`);
  return Number(v.trim());
}

/** The variables the `slurm` method needs; all present means this is a task of a job step. */
export const SLURM_VARS = ['SLURM_JOB_ID', 'SLURM_STEP_ID', 'SLURM_PROCID', 'SLURM_STEP_NODELIST'] as const;

/** Whether the Slurm-environment bootstrap can be used, and if not, the first variable missing. */
export function slurmMissingVar(env: Env): string | undefined {
  for (const v of SLURM_VARS) if ((env[v] ?? '') === '') return v;
  if ((env.SLURM_STEP_NUM_TASKS ?? env.SLURM_NTASKS ?? '') === '') return 'SLURM_STEP_NUM_TASKS';
  return undefined;
}

/** The job step this process is a task of, from the environment srun gives it. */
export function slurmStep(env: Env): SlurmStep {
  const missing = slurmMissingVar(env);
  if (missing !== undefined) throw new FluxError(Errno.EINVAL, `bootstrap (slurm): ${missing} is not set`);
  const size = num(env, (env.SLURM_STEP_NUM_TASKS ?? '') !== '' ? 'SLURM_STEP_NUM_TASKS' : 'SLURM_NTASKS');
  const rank = num(env, 'SLURM_PROCID');
  if (size < 1 || rank >= size) {
    throw new FluxError(Errno.EINVAL, `bootstrap (slurm): SLURM_PROCID=${rank} is not a rank of ${size} tasks`);
  }
  const nodes = expandSlurmHostlist(env.SLURM_STEP_NODELIST!);
  const nodeid = (env.SLURM_NODEID ?? '') !== '' ? num(env, 'SLURM_NODEID') : 0;
  let resvPorts: number[] | undefined;
  if ((env.SLURM_STEP_RESV_PORTS ?? '') !== '') {
    resvPorts = [];
    for (const r of env.SLURM_STEP_RESV_PORTS!.split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(r.trim());
      if (!m)
        throw new FluxError(Errno.EINVAL, `bootstrap (slurm): SLURM_STEP_RESV_PORTS=${env.SLURM_STEP_RESV_PORTS}`);
      for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]) && resvPorts.length < 64; p++) resvPorts.push(p);
    }
  }
  return {
    step: `${env.SLURM_JOB_ID!.trim()}.${env.SLURM_STEP_ID!.trim()}`,
    rank,
    size,
    nodes,
    nodeid,
    nodename: env.SLURMD_NODENAME || undefined,
    resvPorts,
  };
}
