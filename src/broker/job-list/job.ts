/**
 * job-list's record of one job and how its attributes are derived, as flux-core's job-list
 * does it (src/modules/job-list/job_data.c, job_util.c): jobspec → name, cwd, queue, project,
 * bank, duration, ntasks, ncores, nnodes; R → ranks, nodelist, nnodes, ncores, expiration;
 * events → times, state, result, exception, waitstatus, annotations, dependencies.
 *
 * The record itself is record.ts (small, one per job); strings that repeat across jobs (cwd,
 * queue, name, nodelist …) are shared through a small intern table.
 */
import { JobState } from '../../job/states.js';
import { decodeIdset, encodeIdset } from '../../job/idset.js';
import { jobShape } from '../../job/shape.js';
import { decodeHostlist, encodeHostlist } from '../../job/hostlist.js';
import { Errno, FluxError } from '../../protocol/errno.js';
import type { ListJob } from './record.js';

const S = JobState;

/** `job-list.list-attrs`, in flux-core's order (test/vectors/py-job-list-attrs.json). */
export const LIST_ATTRS: readonly string[] = Object.freeze([
  'userid',
  'urgency',
  'priority',
  't_submit',
  't_depend',
  't_priority',
  't_sched',
  't_run',
  't_cleanup',
  't_inactive',
  'state',
  'name',
  'cwd',
  'queue',
  'project',
  'bank',
  'ntasks',
  'ncores',
  'duration',
  'nnodes',
  'ranks',
  'nodelist',
  'success',
  'exception_occurred',
  'exception_type',
  'exception_severity',
  'exception_note',
  'result',
  'expiration',
  'annotations',
  'waitstatus',
  'dependencies',
]);

// ---- string interning -----------------------------------------------------------------------

const interned = new Map<string, string>();
const INTERN_MAX = 65536;

/** The shared copy of a string that many jobs carry (cwd, queue, name …). */
export function intern(s: string): string {
  const v = interned.get(s);
  if (v !== undefined) return v;
  if (interned.size >= INTERN_MAX) interned.clear();
  interned.set(s, s);
  return s;
}

// ---- jobspec ----------------------------------------------------------------------------------

/** basename of command[0], or the whole path when it ends in `/` (job_data.c parse_job_name). */
function jobName(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0 || i === path.length - 1) return path;
  return path.slice(i + 1);
}

/** Set the jobspec-derived fields (job_data.c parse_jobspec; errors leave fields unset). */
export function applyJobspec(job: ListJob, js: any): void {
  if (!js || typeof js !== 'object') return;
  const sys = js.attributes?.system;
  const sysObj = sys && typeof sys === 'object' ? sys : {};
  const jobname = sysObj.job?.name;
  if (typeof jobname === 'string') job.name = intern(jobname);
  else {
    const arg0 = js.tasks?.[0]?.command?.[0];
    job.name = typeof arg0 === 'string' ? intern(jobName(arg0)) : undefined;
  }
  job.cwd = typeof sysObj.cwd === 'string' ? intern(sysObj.cwd) : undefined;
  job.queue = typeof sysObj.queue === 'string' ? intern(sysObj.queue) : undefined;
  job.project = typeof sysObj.project === 'string' ? intern(sysObj.project) : undefined;
  job.bank = typeof sysObj.bank === 'string' ? intern(sysObj.bank) : undefined;
  if (typeof sysObj.duration === 'number' && Number.isFinite(sysObj.duration)) job.duration = sysObj.duration;

  const shape = js.version === 1 ? jobShape(js) : undefined; // jj_get_counts wants version 1
  if (!shape) return;
  job.nnodes = shape.nnodes ? shape.nnodes : -1;
  // ntasks (per-resource first, then tasks.count.total, else the slot count)
  job.ntasksPerNode = 0;
  job.ntasksPerCore = 0;
  const per = sysObj.shell?.options?.['per-resource'];
  let perType: string | undefined;
  let perCount = 1;
  if (per && typeof per === 'object' && typeof per.type === 'string') {
    perType = per.type;
    if (Number.isInteger(per.count) && per.count >= 1) perCount = per.count;
  }
  if (perType === 'node') {
    if (shape.nnodes) job.ntasks = shape.nnodes * perCount;
    else {
      job.ntasksPerNode = perCount;
      job.ntasks = -1;
    }
  } else if (perType === 'core') {
    if (!shape.nnodes) job.ntasks = shape.nslots * shape.coresPerSlot * perCount;
    else {
      job.ntasksPerCore = perCount;
      job.ntasks = -1;
    }
  } else {
    const total = js.tasks?.[0]?.count?.total;
    job.ntasks = Number.isInteger(total) ? total : shape.nslots; // job_data.c: per_slot is taken as 1
  }
  job.ncores = shape.nnodes && shape.exclusive ? -1 : shape.nslots * shape.coresPerSlot;
}

// ---- R ---------------------------------------------------------------------------------------

/** Set the R-derived fields (job_data.c parse_R; an invalid R leaves what it could not read). */
export function applyR(job: ListJob, R: any): void {
  const ex = R?.execution;
  if (!ex || typeof ex !== 'object' || !Array.isArray(ex.R_lite)) return;
  job.expiration = typeof ex.expiration === 'number' ? ex.expiration : 0;
  const ranks: number[] = [];
  let cores = 0;
  try {
    for (const e of ex.R_lite) {
      const r = decodeIdset(String(e?.rank ?? ''));
      const core = e?.children?.core;
      const c = typeof core === 'string' ? decodeIdset(core).length : 0;
      for (const x of r) ranks.push(x);
      cores += r.length * c;
    }
  } catch {
    return;
  }
  const sorted = [...new Set(ranks)].sort((a, b) => a - b);
  job.nnodes = sorted.length;
  if (job.ntasksPerNode) job.ntasks = job.nnodes * job.ntasksPerNode;
  job.ranks = intern(encodeIdset(sorted, true));
  job.rankSet = undefined;
  job.hosts = undefined;
  if (Array.isArray(ex.nodelist)) {
    const list = ex.nodelist as unknown[];
    if (list.length === 1 && typeof list[0] === 'string' && !/[[\],]/.test(list[0])) {
      job.nodelist = intern(list[0]);
    } else {
      try {
        const hosts: string[] = [];
        for (const h of list) for (const x of decodeHostlist(String(h))) hosts.push(x);
        job.nodelist = intern(encodeHostlist(hosts));
      } catch {
        job.nodelist = undefined;
      }
    }
  }
  job.ncores = cores;
  if (job.ntasksPerCore) job.ntasks = cores * job.ntasksPerCore;
}

// ---- attributes (job_util.c store_attr) ------------------------------------------------------

type Getter = (j: ListJob) => unknown;

const has = (j: ListJob, s: number) => (j.statesMask & s) !== 0;

export const ATTR_GETTERS: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ['userid', (j) => j.userid],
  ['urgency', (j) => j.urgency],
  ['priority', (j) => (has(j, S.SCHED) ? j.priority : undefined)],
  ['t_submit', (j) => j.t_submit],
  ['t_depend', (j) => (j.submitVersion < 1 ? j.t_submit : has(j, S.DEPEND) ? j.t_depend : undefined)],
  ['t_priority', (j) => (has(j, S.PRIORITY) ? j.t_priority : undefined)],
  ['t_sched', (j) => (has(j, S.SCHED) ? j.t_sched : undefined)],
  ['t_run', (j) => (has(j, S.RUN) ? j.t_run : undefined)],
  ['t_cleanup', (j) => (has(j, S.CLEANUP) ? j.t_cleanup : undefined)],
  ['t_inactive', (j) => (has(j, S.INACTIVE) ? j.t_inactive : undefined)],
  ['state', (j) => j.state],
  ['name', (j) => j.name],
  ['cwd', (j) => j.cwd],
  ['queue', (j) => j.queue],
  ['project', (j) => j.project],
  ['bank', (j) => j.bank],
  ['ntasks', (j) => (j.ntasks >= 0 ? j.ntasks : undefined)],
  ['ncores', (j) => (j.ncores >= 0 ? j.ncores : undefined)],
  ['duration', (j) => (j.duration >= 0 ? j.duration : undefined)],
  ['nnodes', (j) => (j.nnodes >= 0 ? j.nnodes : undefined)],
  ['ranks', (j) => (has(j, S.RUN) ? j.ranks : undefined)],
  ['nodelist', (j) => (has(j, S.RUN) ? j.nodelist : undefined)],
  ['success', (j) => (has(j, S.INACTIVE) ? j.success : undefined)],
  ['exception_occurred', (j) => (has(j, S.INACTIVE) ? j.excOccurred : undefined)],
  ['exception_type', (j) => (has(j, S.INACTIVE) && j.excOccurred ? j.excType : undefined)],
  ['exception_severity', (j) => (has(j, S.INACTIVE) && j.excOccurred ? j.excSeverity : undefined)],
  ['exception_note', (j) => (has(j, S.INACTIVE) && j.excOccurred ? j.excNote : undefined)],
  ['result', (j) => (has(j, S.INACTIVE) ? j.result : undefined)],
  ['expiration', (j) => (has(j, S.RUN) && j.expiration >= 0 ? j.expiration : undefined)],
  ['annotations', (j) => j.annotations],
  ['waitstatus', (j) => (j.waitstatus >= 0 ? j.waitstatus : undefined)],
  ['dependencies', (j) => j.dependencies],
]);

const ALL_GETTERS: readonly Getter[] = LIST_ATTRS.map((a) => ATTR_GETTERS.get(a)!);

/** A non-string or unknown attribute name in a request's `attrs` (errno EINVAL). */
export class AttrError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'AttrError';
  }
}

/** A request's `attrs`, compiled: names and getters in parallel arrays (fast to run per job). */
export interface CompiledAttrs {
  readonly names: string[];
  readonly getters: Getter[];
}

/**
 * Compile a request's `attrs` into the getters to run, in order (`all` expands to every
 * attribute). Throws AttrError (EINVAL) for a non-string or unknown attribute.
 */
export function compileAttrs(attrs: readonly unknown[]): CompiledAttrs {
  const names: string[] = [];
  const getters: Getter[] = [];
  for (const a of attrs) {
    if (typeof a !== 'string') throw new AttrError('attr has no string value');
    if (a === 'all') {
      names.push(...LIST_ATTRS);
      getters.push(...ALL_GETTERS);
      continue;
    }
    if (a === 'id') continue; // always present (flux-core rejects it; accepting it is harmless)
    const g = ATTR_GETTERS.get(a);
    if (!g) throw new AttrError(`${a} is not a valid attribute`);
    names.push(a);
    getters.push(g);
  }
  return { names, getters };
}

/** The job object of a list response: `id` first, then the requested attributes that are set. */
export function jobToObject(j: ListJob, attrs: CompiledAttrs): Record<string, unknown> {
  const o: Record<string, unknown> = { id: j.id };
  const { names, getters } = attrs;
  for (let i = 0; i < getters.length; i++) {
    const v = getters[i]!(j);
    if (v !== undefined) o[names[i]!] = v;
  }
  return o;
}
