/**
 * job-list (docs/protocol.md §B; flux-core src/modules/job-list/{job_state,list,stats}.c):
 * its own view of every job, kept by consuming `job-manager.events-journal` in-process
 * (backlog, sentinel, then live events), answering
 *
 *   job-list.list       {max_entries, attrs, since?, constraint?}  streaming: one `{jobs:[job]}`
 *                       per job (`version:1` on the first), then ENODATA; else `{jobs:[…]}`
 *   job-list.list-id    {id, attrs, state?}   → {job}; waits for the job (and for `state`)
 *   job-list.list-attrs {}                    → {attrs:[…32 names…, "all"]}
 *   job-list.job-stats  {}                    → {job_states:{…}, successful, failed, canceled,
 *                                                 timeout, inactive_purged, queues:[…]}
 *   job-list.disconnect                       → drops the client's list-id waits
 *
 * Order of `list`: pending by priority (highest first) then id, running by t_run (newest
 * first), inactive by t_inactive (newest first). The pending and running orders are sorted
 * lazily (on the first list after a change); the inactive list is kept sorted as jobs finish
 * (they almost always finish in time order, so insertion is an append), and `since` stops the
 * walk at the first job that is too old.
 */
import { Errno } from '../../protocol/errno.js';
import { JOBID_ANY, toJobId } from '../../protocol/json.js';
import { Role } from '../../protocol/types.js';
import { JobResult, JobState, VirtualState } from '../../job/states.js';
import { requestJobId, type BrokerContext, type ConnId, type Method, type Request, type Service } from '../service.js';
import type { JournalEntry } from '../contract.js';
import type { EventEntry } from '../store/store.js';
import { AttrError, LIST_ATTRS, applyJobspec, applyR, compileAttrs, jobToObject } from './job.js';
import { ListJob } from './record.js';
import { ConstraintError, compileConstraint, type Compiled } from './constraint.js';

const S = JobState;
const PENDING = VirtualState.PENDING;
const RUNNING = VirtualState.RUNNING;

/** The context of an event that has none (read only). */
const NO_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/** State transition flags (job_state.c). */
const REVERT = 1;
const CONDITIONAL = 2;

/** Per-state counters (stats.c). Index = log2(state). */
class Stats {
  readonly count = [0, 0, 0, 0, 0, 0, 0];
  successful = 0;
  failed = 0;
  canceled = 0;
  timeout = 0;
  inactivePurged = 0;

  add(job: ListJob, state: number, sign: 1 | -1): void {
    if (state === S.NEW) return;
    this.count[31 - Math.clz32(state)]! += sign;
    if (state !== S.INACTIVE) return;
    if (job.success) this.successful += sign;
    else if (job.excOccurred && job.excType === 'cancel') this.canceled += sign;
    else if (job.excOccurred && job.excType === 'timeout') this.timeout += sign;
    else this.failed += sign;
  }

  /** A purged inactive job (flux-core stats.c job_stats_purge): counted as purged, no longer inactive. */
  purge(): void {
    this.count[6]!--;
    this.inactivePurged++;
  }

  encode(name?: string): Record<string, unknown> {
    const c = this.count;
    const job_states = {
      depend: c[1],
      priority: c[2],
      sched: c[3],
      run: c[4],
      cleanup: c[5],
      inactive: c[6],
      total: c[1]! + c[2]! + c[3]! + c[4]! + c[5]! + c[6]!,
    };
    const o: Record<string, unknown> = {
      job_states,
      successful: this.successful,
      failed: this.failed,
      canceled: this.canceled,
      timeout: this.timeout,
      inactive_purged: this.inactivePurged,
    };
    if (name !== undefined) o.name = name;
    return o;
  }
}

interface IdWait {
  req: Request;
  id: bigint;
  state: number;
  attrs: unknown[];
}

function pendingCmp(a: ListJob, b: ListJob): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function runningCmp(a: ListJob, b: ListJob): number {
  return b.t_run - a.t_run;
}

/** Recursively drop null members (jpath_clear_null). */
function clearNull(o: Record<string, unknown>): void {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === null) delete o[k];
    else if (typeof v === 'object' && !Array.isArray(v)) clearNull(v as Record<string, unknown>);
  }
}

export class JobList implements Service {
  readonly name = 'job-list';
  /** Any user may list (flux-core job-list: FLUX_ROLE_USER). */
  readonly methods: Record<string, Method>;
  private ctx!: BrokerContext;
  private readonly jobs = new Map<bigint, ListJob>();
  private readonly pending = new Set<ListJob>();
  private pendingSorted: ListJob[] | undefined = [];
  private readonly running = new Set<ListJob>();
  private runningSorted: ListJob[] | undefined = [];
  /** Inactive jobs, ascending t_inactive (walked from the end: newest first). */
  private readonly inactive: ListJob[] = [];
  private readonly stats = new Stats();
  private readonly queueStats = new Map<string, Stats>();
  private readonly idWaits = new Map<bigint, IdWait[]>();
  private initialized = false;
  private unsubscribe: (() => void) | undefined;
  private deferred: Request[] = [];

  constructor() {
    this.methods = {
      list: { roles: Role.USER, handler: (r) => this.defer(r) || this.list(r) },
      'list-id': { roles: Role.USER, handler: (r) => this.defer(r) || this.listId(r) },
      'list-attrs': { roles: Role.USER, handler: (r) => this.defer(r) || r.respond({ attrs: [...LIST_ATTRS, 'all'] }) },
      'job-stats': { roles: Role.USER, handler: (r) => this.defer(r) || r.respond(this.encodeStats()) },
      disconnect: { roles: Role.USER, handler: (r) => this.disconnect(r.conn) },
    };
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
    this.unsubscribe = ctx.subscribe('job-purge-inactive', (_topic, payload: { jobs?: unknown }) =>
      this.purged(payload?.jobs),
    );
    ctx
      .rpc(
        'job-manager.events-journal',
        { full: true },
        { streaming: true, onResponse: (e: JournalEntry) => this.journal(e) },
      )
      .then(
        () => ctx.log('debug', 'job-list: journal: EOF'),
        (e: Error) => {
          ctx.log('err', `job-list: events journal: ${e.message}`);
          this.ready();
        },
      );
  }

  stop(): void {
    this.unsubscribe?.();
    for (const list of this.idWaits.values()) for (const w of list) w.req.error(Errno.ENOSYS);
    this.idWaits.clear();
    for (const r of this.deferred) r.error(Errno.ENOSYS);
    this.deferred = [];
  }

  disconnect(conn: ConnId): void {
    for (const [id, list] of this.idWaits) {
      const keep = list.filter((w) => w.req.conn !== conn);
      if (keep.length === 0) this.idWaits.delete(id);
      else if (keep.length !== list.length) this.idWaits.set(id, keep);
    }
    if (this.deferred.length) this.deferred = this.deferred.filter((r) => r.conn !== conn);
  }

  /** Number of jobs known (for tests and stats). */
  get size(): number {
    return this.jobs.size;
  }

  // ---- journal ---------------------------------------------------------------------------------

  /** Requests that arrive before the backlog has been read wait for it (as flux-core does). */
  private defer(req: Request): boolean {
    if (this.initialized) return false;
    this.deferred.push(req);
    return true;
  }

  private ready(): void {
    if (this.initialized) return;
    this.initialized = true;
    const reqs = this.deferred;
    this.deferred = [];
    for (const r of reqs) {
      const method = r.topic.slice(r.topic.indexOf('.') + 1);
      // already admitted by the broker when it first arrived
      this.methods[method]?.handler(r);
    }
  }

  private journal(e: JournalEntry): void {
    const id = toJobId(e.id);
    if (id === JOBID_ANY) {
      this.ready();
      return;
    }
    const events = e.events;
    if (!Array.isArray(events)) return;
    // the job is looked up once per entry, not per event (a restart feeds a million entries)
    let job = this.jobs.get(id);
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      try {
        if (ev.name === 'submit') job = this.submitted(id, job, ev, e.jobspec);
        else if (job !== undefined) job = this.event(job, ev, e.R);
        // else an event for a job we never saw submitted: ignored (flux logs it)
      } catch (err) {
        this.ctx.log('err', `job-list: job ${id}: event ${ev?.name}: ${(err as Error).message}`);
      }
    }
  }

  private submitted(id: bigint, job: ListJob | undefined, e: EventEntry, jobspec: unknown): ListJob {
    const ctx = (e.context ?? NO_CONTEXT) as Record<string, any>;
    if (!job) {
      job = new ListJob(id);
      this.jobs.set(id, job);
    }
    job.userid = ctx.userid;
    job.urgency = ctx.urgency;
    job.submitVersion = Number.isInteger(ctx.version) ? ctx.version : -1;
    job.t_submit = e.timestamp;
    applyJobspec(job, jobspec ?? this.storedJobspec(id));
    return job;
  }

  /** Apply one event (not `submit`) to the job; undefined once the job is gone (invalidate). */
  private event(job: ListJob, e: EventEntry, R: unknown): ListJob | undefined {
    const name = e.name;
    const ts = e.timestamp;
    const ctx = (e.context ?? NO_CONTEXT) as Record<string, any>;
    switch (name) {
      case 'invalidate':
        this.remove(job);
        return undefined;
      case 'validate':
        this.transition(job, S.DEPEND, ts);
        break;
      case 'depend':
        this.transition(job, S.PRIORITY, ts);
        break;
      case 'priority': {
        const p = ctx.priority;
        if (typeof p === 'number' && p !== job.priority) {
          job.priority = p;
          if (job.state & PENDING) this.pendingSorted = undefined;
        }
        this.transition(job, S.SCHED, ts, CONDITIONAL, S.PRIORITY);
        break;
      }
      case 'urgency':
        if (Number.isInteger(ctx.urgency)) job.urgency = ctx.urgency;
        break;
      case 'alloc':
        // flux-core takes annotations only from `annotations` events; the tsflux manager does
        // not publish those, so the alloc context's annotations are used too.
        if (ctx.annotations && typeof ctx.annotations === 'object') job.annotations = ctx.annotations;
        if (!(job.eventsMask & S.RUN)) applyR(job, R ?? this.storedR(job.id));
        this.transition(job, S.RUN, ts);
        break;
      case 'finish':
        if (Number.isInteger(ctx.status)) {
          job.waitstatus = ctx.status;
          if (ctx.status === 0 && !(job.excOccurred && job.excSeverity === 0)) job.success = true;
        }
        this.transition(job, S.CLEANUP, ts);
        break;
      case 'exception': {
        const sev = ctx.severity;
        if (typeof ctx.type !== 'string' || !Number.isInteger(sev)) break;
        if (!job.excOccurred || sev < job.excSeverity) {
          job.excOccurred = true;
          job.excSeverity = sev;
          job.excType = ctx.type;
          job.excNote = typeof ctx.note === 'string' ? ctx.note : undefined;
        }
        if (sev === 0) this.transition(job, S.CLEANUP, ts);
        break;
      }
      case 'clean':
        this.transition(job, S.INACTIVE, ts);
        break;
      case 'annotations':
        if ('annotations' in ctx) {
          const a = ctx.annotations;
          job.annotations = a && typeof a === 'object' && Object.keys(a).length ? a : undefined;
        }
        break;
      case 'memo':
        this.memo(job, ctx);
        break;
      case 'dependency-add':
      case 'dependency-remove': {
        const d = ctx.description;
        if (typeof d !== 'string') break;
        if (name === 'dependency-add') {
          if (!job.dependencies) job.dependencies = [d];
          else if (!job.dependencies.includes(d)) job.dependencies.push(d);
        } else if (job.dependencies) {
          const i = job.dependencies.indexOf(d);
          if (i >= 0) job.dependencies.splice(i, 1);
        }
        break;
      }
      case 'jobspec-update':
        if (job.state < S.RUN) this.jobspecUpdate(job);
        break;
      case 'resource-update':
        if (job.state === S.RUN && typeof ctx.expiration === 'number') job.expiration = ctx.expiration;
        break;
      case 'flux-restart':
        this.transition(job, S.PRIORITY, ts, REVERT, S.SCHED);
        break;
      default:
        break;
    }
    return job;
  }

  private memo(job: ListJob, ctx: Record<string, unknown>): void {
    const a: Record<string, unknown> = job.annotations ? { ...job.annotations } : {};
    const user = a.user && typeof a.user === 'object' ? { ...(a.user as Record<string, unknown>) } : {};
    Object.assign(user, ctx);
    a.user = user;
    clearNull(a);
    if (a.user && Object.keys(a.user as object).length === 0) delete a.user;
    job.annotations = Object.keys(a).length ? a : undefined;
  }

  private storedJobspec(id: bigint): unknown {
    try {
      const t = this.ctx.store.get(id, 'jobspec');
      return t === undefined ? undefined : JSON.parse(t);
    } catch {
      return undefined;
    }
  }

  private storedR(id: bigint): unknown {
    try {
      const t = this.ctx.store.get(id, 'R');
      return t === undefined ? undefined : JSON.parse(t);
    } catch {
      return undefined;
    }
  }

  /** Re-derive the jobspec fields from the stored jobspec and every jobspec-update so far. */
  private jobspecUpdate(job: ListJob): void {
    const js = this.storedJobspec(job.id) as any;
    if (!js || typeof js !== 'object') return;
    const log = this.ctx.store.get(job.id, 'eventlog') ?? '';
    for (const line of log.split('\n')) {
      if (!line.includes('jobspec-update')) continue;
      let e: any;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      if (e?.name !== 'jobspec-update' || !e.context || typeof e.context !== 'object') continue;
      for (const [path, value] of Object.entries(e.context as Record<string, unknown>)) {
        if (!/^(resources|tasks|attributes)(\.|$)/.test(path)) continue;
        const parts = path.split('.');
        let cur = js;
        for (let i = 0; i < parts.length - 1; i++) {
          if (!cur[parts[i]!] || typeof cur[parts[i]!] !== 'object') cur[parts[i]!] = {};
          cur = cur[parts[i]!];
        }
        cur[parts[parts.length - 1]!] = value;
      }
    }
    const oldQueue = job.queue;
    this.queueAdd(job, job.state, -1);
    applyJobspec(job, js);
    this.queueAdd(job, job.state, 1);
    if (oldQueue !== job.queue) this.pendingSorted = undefined;
  }

  // ---- states and lists ------------------------------------------------------------------------

  private transition(job: ListJob, state: number, ts: number, flags = 0, expected = 0): void {
    if (!(flags & (REVERT | CONDITIONAL)) && state & job.eventsMask) return;
    job.eventsMask |= state;
    if (flags & REVERT) {
      if (job.state !== expected) return;
      job.statesMask &= ~(job.state | state);
    } else if (flags & CONDITIONAL) {
      if (job.state !== expected) return;
    }
    if (state === S.INACTIVE) {
      if (job.success) job.result = JobResult.COMPLETED;
      else if (job.excOccurred && job.excType === 'cancel') job.result = JobResult.CANCELED;
      else if (job.excOccurred && job.excType === 'timeout') job.result = JobResult.TIMEOUT;
      else job.result = JobResult.FAILED;
    }
    const old = job.state;
    this.stats.add(job, old, -1);
    this.queueAdd(job, old, -1);
    job.state = state;
    switch (state) {
      case S.DEPEND:
        job.t_depend = ts;
        break;
      case S.PRIORITY:
        job.t_priority = ts;
        break;
      case S.SCHED:
        job.t_sched = ts;
        break;
      case S.RUN:
        job.t_run = ts;
        break;
      case S.CLEANUP:
        job.t_cleanup = ts;
        break;
      case S.INACTIVE:
        job.t_inactive = ts;
        break;
    }
    job.statesMask |= state;
    this.stats.add(job, state, 1);
    this.queueAdd(job, state, 1);
    this.move(job, old, state);
    if (this.idWaits.size) this.checkWaits(job);
  }

  private queueAdd(job: ListJob, state: number, sign: 1 | -1): void {
    if (job.queue === undefined || state === S.NEW) return;
    let st = this.queueStats.get(job.queue);
    if (!st) this.queueStats.set(job.queue, (st = new Stats()));
    st.add(job, state, sign);
  }

  private move(job: ListJob, from: number, to: number): void {
    const fromList = from & PENDING ? 1 : from & RUNNING ? 2 : from === S.INACTIVE ? 3 : 0;
    const toList = to & PENDING ? 1 : to & RUNNING ? 2 : to === S.INACTIVE ? 3 : 0;
    if (fromList === toList) {
      if (toList === 1) this.pendingSorted = undefined;
      return;
    }
    if (fromList === 1) {
      this.pending.delete(job);
      this.pendingSorted = undefined;
    } else if (fromList === 2) {
      this.running.delete(job);
      this.runningSorted = undefined;
    } else if (fromList === 3) {
      const i = this.inactive.lastIndexOf(job);
      if (i >= 0) this.inactive.splice(i, 1);
    }
    if (toList === 1) {
      this.pending.add(job);
      this.pendingSorted = undefined;
    } else if (toList === 2) {
      this.running.add(job);
      this.runningSorted = undefined;
    } else if (toList === 3) {
      this.insertInactive(job);
    }
  }

  private insertInactive(job: ListJob): void {
    const a = this.inactive;
    const t = job.t_inactive;
    if (a.length === 0 || a[a.length - 1]!.t_inactive <= t) {
      a.push(job);
      return;
    }
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.t_inactive <= t) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, job);
  }

  private remove(job: ListJob): void {
    this.move(job, job.state, S.NEW);
    this.stats.add(job, job.state, -1);
    this.queueAdd(job, job.state, -1);
    this.jobs.delete(job.id);
    const waits = this.idWaits.get(job.id);
    if (waits) {
      this.idWaits.delete(job.id);
      for (const w of waits) w.req.error(Errno.ENOENT);
    }
  }

  /** `job-purge-inactive` {jobs: [id, ...]}: the job manager purged these inactive jobs. */
  private purged(ids: unknown): void {
    if (!Array.isArray(ids)) return;
    const gone = new Set<ListJob>();
    for (const raw of ids) {
      let id: bigint;
      try {
        id = toJobId(raw);
      } catch {
        continue;
      }
      const job = this.jobs.get(id);
      if (!job || job.state !== S.INACTIVE) continue;
      gone.add(job);
      this.jobs.delete(id);
      this.stats.purge();
      if (job.queue !== undefined) this.queueStats.get(job.queue)?.purge();
    }
    if (gone.size === 0) return;
    let w = 0;
    for (const j of this.inactive) if (!gone.has(j)) this.inactive[w++] = j;
    this.inactive.length = w;
  }

  private pendingOrder(): ListJob[] {
    if (!this.pendingSorted) this.pendingSorted = [...this.pending].sort(pendingCmp);
    return this.pendingSorted;
  }

  private runningOrder(): ListJob[] {
    if (!this.runningSorted) this.runningSorted = [...this.running].sort(runningCmp);
    return this.runningSorted;
  }

  // ---- list ------------------------------------------------------------------------------------

  private list(req: Request): void {
    const p = req.payload;
    if (!p || typeof p !== 'object') return req.error(Errno.EPROTO, 'invalid payload: payload must be an object');
    const max = p.max_entries;
    const attrs = p.attrs;
    const since = p.since ?? 0;
    let constraint = p.constraint;
    if (constraint === undefined) {
      const legacy = this.legacy(p);
      if (legacy) constraint = legacy;
    }
    if (!Number.isInteger(max)) return req.error(Errno.EPROTO, 'invalid payload: max_entries must be an integer');
    if (max < 0) return req.error(Errno.EPROTO, 'invalid payload: max_entries < 0 not allowed');
    if (typeof since !== 'number') return req.error(Errno.EPROTO, 'invalid payload: since must be a number');
    if (since < 0) return req.error(Errno.EPROTO, 'invalid payload: since < 0.0 not allowed');
    if (!Array.isArray(attrs)) return req.error(Errno.EPROTO, 'invalid payload: attrs must be an array');
    let c: Compiled;
    try {
      c = compileConstraint(constraint);
    } catch (e) {
      return req.error(Errno.EPROTO, `invalid payload: constraint object invalid: ${(e as ConstraintError).message}`);
    }
    let getters;
    try {
      getters = compileAttrs(attrs);
    } catch (e) {
      return req.error(Errno.EINVAL, (e as AttrError).message);
    }
    // Collect first, answer after: a response callback (in-process consumer) may change state.
    const found: ListJob[] = [];
    const full = () => max > 0 && found.length >= max;
    const match = c.match;
    if (c.states & PENDING) {
      for (const j of this.pendingOrder()) {
        if (match(j)) found.push(j);
        if (full()) break;
      }
    }
    if (c.states & RUNNING && !full()) {
      for (const j of this.runningOrder()) {
        if (match(j)) found.push(j);
        if (full()) break;
      }
    }
    if (c.states & S.INACTIVE && !full()) {
      const a = this.inactive;
      for (let i = a.length - 1; i >= 0; i--) {
        const j = a[i]!;
        if (j.t_inactive <= since) break;
        if (match(j)) found.push(j);
        if (full()) break;
      }
    }
    if (!req.streaming) {
      req.respond({ jobs: found.map((j) => jobToObject(j, getters)) });
      return;
    }
    for (let i = 0; i < found.length; i++) {
      const o = jobToObject(found[i]!, getters);
      req.respond(i === 0 ? { jobs: [o], version: 1 } : { jobs: [o] });
      if (req.finished) return;
    }
    req.error(Errno.ENODATA);
  }

  /** The pre-constraint request form `{userid, states, results, name?, queue?}` (list.c). */
  private legacy(p: Record<string, any>): object | undefined {
    if (!Number.isInteger(p.userid) || !Number.isInteger(p.states) || !Number.isInteger(p.results)) return undefined;
    const and: object[] = [];
    if (p.userid >>> 0 !== 0xffffffff) and.push({ userid: [p.userid] });
    if (typeof p.name === 'string') and.push({ name: [p.name] });
    if (typeof p.queue === 'string') and.push({ queue: [p.queue] });
    if (p.states) and.push({ states: [p.states] });
    if (p.results) and.push({ results: [p.results] });
    return { and };
  }

  // ---- list-id ---------------------------------------------------------------------------------

  private listId(req: Request): void {
    const p = req.payload;
    if (!p || typeof p !== 'object' || p.id === undefined)
      return req.error(Errno.EPROTO, 'invalid payload: id is required');
    const id = requestJobId(req);
    if (id === undefined) return;
    if (!Array.isArray(p.attrs)) return req.error(Errno.EPROTO, 'invalid payload: attrs must be an array');
    const state = p.state ?? 0;
    if (!Number.isInteger(state) || (state & ~(VirtualState.ACTIVE | S.INACTIVE)) !== 0) {
      return req.error(Errno.EPROTO, 'invalid payload: invalid state specified');
    }
    try {
      compileAttrs(p.attrs);
    } catch (e) {
      return req.error(Errno.EINVAL, (e as AttrError).message);
    }
    const w: IdWait = { req, id, state, attrs: p.attrs };
    const job = this.jobs.get(id);
    if (!job) {
      // a valid id job-list has not seen yet (ingest stores the job before the manager posts it)
      if (!this.ctx.store.has(id)) return req.error(Errno.ENOENT);
      this.addWait(w);
      return;
    }
    if (!this.waitDone(job, w)) this.addWait(w);
    else this.answerId(job, w);
  }

  /** Inactive jobs are always returned, even if `state` was never reached (list.c). */
  private waitDone(job: ListJob, w: IdWait): boolean {
    if (job.state === S.INACTIVE) return true;
    if (job.state === S.NEW) return false;
    return !w.state || (job.statesMask & w.state) !== 0;
  }

  private addWait(w: IdWait): void {
    const list = this.idWaits.get(w.id);
    if (list) list.push(w);
    else this.idWaits.set(w.id, [w]);
  }

  private checkWaits(job: ListJob): void {
    const list = this.idWaits.get(job.id);
    if (!list) return;
    const done = list.filter((w) => this.waitDone(job, w));
    if (done.length === 0) return;
    if (done.length === list.length) this.idWaits.delete(job.id);
    else
      this.idWaits.set(
        job.id,
        list.filter((w) => !done.includes(w)),
      );
    for (const w of done) this.answerId(job, w);
  }

  private answerId(job: ListJob, w: IdWait): void {
    try {
      w.req.respond({ job: jobToObject(job, compileAttrs(w.attrs)) });
    } catch (e) {
      w.req.error(Errno.EINVAL, (e as Error).message);
    }
  }

  // ---- job-stats -------------------------------------------------------------------------------

  private encodeStats(): Record<string, unknown> {
    const o = this.stats.encode();
    o.queues = [...this.queueStats].map(([name, st]) => st.encode(name));
    return o;
  }
}
