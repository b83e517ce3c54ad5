/**
 * The job manager (`job-manager.*`): owns every job's state (RFC 21, docs/protocol.md §C.1),
 * appends its eventlog (§C.2), drives it through the scheduler and exec over topics
 * (contract.ts), and answers wait / raise / kill / urgency / events-journal (§B).
 */
import { Errno, FluxError, errnoName, errnoOf } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { deepFreeze, jobIdToWire, JOBID_ANY, parseJson } from '../../protocol/json.js';
import { redactJobspec } from '../../job/jobspec.js';
import { SubmitFlags } from '../../job/submit-flags.js';
import { encodeEvent, eventTime as now } from '../../job/eventlog.js';
import { waitErrstr, waitSuccess, type EndEvent } from '../../job/waitstatus.js';
import {
  INTERNAL_CONN,
  authorized,
  requestJobId,
  type BrokerContext,
  type Method,
  type Request,
  type Service,
} from '../service.js';
import type { Rv1 } from '../../job/rv1.js';
import type { ExecEvent, JournalEntry, ResourceRequest, SubmitJob } from '../contract.js';
import type { EventEntry } from '../store/store.js';
import { S, ACTIVE_MASK, priorityOf } from './transitions.js';
import { WaitRegistry, type WaitResult } from './wait.js';
import { JournalHub, type Backlog } from './journal.js';
import { AfterDependencies, type DependPlan } from './dependencies.js';
import { unsupported } from './unsupported.js';
import { applyEvent, noteException, stepState, type Job } from './job.js';
import { Pace, parseEventlog, replayJob, type Replayed } from './restart.js';
import { PURGE_BATCH_MAX, PurgeQueue, UNLIMITED, purgeLimits, type PurgeLimits } from './purge.js';
import { resourceRequest } from '../resource-request.js';

/** FLUX_USERID_UNKNOWN, the any-user wildcard of raiseall. */
const USERID_UNKNOWN = 0xffffffff;

/** Store key marking a waitable job reaped by job-manager.wait. */
const REAPED_KEY = 'job-manager.reaped';

/** Redacted jobspecs kept for the journal's backlog (redacted()). */
const REDACTED_CACHE = 64;

/** Jobs read from the store at a time for a journal's backlog. */
const BACKLOG_PAGE = 500;

/** FLUX_JOB_URGENCY_DEFAULT. */
const URGENCY_DEFAULT = 16;

export interface JobManagerOptions {
  /**
   * The names a job's `attributes.system.queue` may take (flux-core's configured queues). By
   * default there are none, and a job that names a queue is refused, as by a flux-core
   * instance without queues. Only the names are checked: every job shares one scheduler.
   */
  queues?: readonly string[];
  /** Purge limits that win over `[job-manager]` in the configuration (`tsflux start --purge-*`). */
  purge?: Partial<PurgeLimits>;
}

export class JobManager implements Service {
  readonly name = 'job-manager';
  private ctx!: BrokerContext;
  readonly jobs = new Map<bigint, Job>();
  /** Jobs still active (not INACTIVE), for quick scans. */
  private readonly active = new Set<Job>();
  private readonly waits: WaitRegistry;
  private readonly journal = new JournalHub();
  private readonly drainWaiters: Request[] = [];
  private readonly deps: AfterDependencies;
  private readonly queues: ReadonlySet<string>;
  private stopping = false;
  /** Jobs that held resources when the previous broker died: the scheduler never gave them R. */
  private readonly heldBeforeRestart = new Set<Job>();
  private readonly purgeQueue = new PurgeQueue();
  private limits: PurgeLimits = { age: UNLIMITED, num: UNLIMITED };
  private readonly purgeOverride: Partial<PurgeLimits>;
  private purgeTimer: NodeJS.Timeout | undefined;
  /**
   * Until the restart begins to read the store, a journal request is fed by that pass
   * (journal.ts `addFed`) rather than read from the store again once the restart is over.
   */
  private feedOpen = true;
  /** jobspec text → its redacted form (redacted()). */
  private readonly redactedOf = new Map<string, unknown>();
  /**
   * Roles as flux-core's job-manager: guests may wait on nothing (tsflux's wait reaps any
   * waitable job, and only the owner may submit one), raise / kill / change the urgency of their
   * own jobs (checked per job in the handlers), read the queues and stats; the journal and drain
   * are the owner's; submit comes from job-ingest in this process only.
   */
  readonly methods: Record<string, Method>;

  constructor(opts: JobManagerOptions = {}) {
    this.queues = new Set(opts.queues ?? []);
    this.purgeOverride = opts.purge ?? {};
    this.waits = new WaitRegistry(
      (id) => this.jobs.get(id),
      jobIdToWire,
      (id) => this.ctx.store.put(id, REAPED_KEY, '1'), // a restart does not hand it out again
    );
    this.deps = new AfterDependencies({
      lookup: (id) => this.jobs.get(id),
      remove: (job, description) => this.dependencyRemove(job, description),
      raise: (job, note) => this.postException(job, 'dependency', 0, note, this.ctx.owner),
    });
    this.methods = {
      submit: { roles: 'internal', handler: (r) => this.submit(r) },
      wait: { roles: Role.OWNER, handler: (r) => this.wait(r) },
      raise: { roles: Role.USER, handler: (r) => this.raise(r) },
      raiseall: { roles: Role.USER, handler: (r) => this.raiseAll(r) },
      kill: { roles: Role.USER, handler: (r) => this.kill(r) },
      urgency: { roles: Role.USER, handler: (r) => this.urgencyRpc(r) },
      'events-journal': {
        roles: Role.OWNER,
        handler: (r) => this.journalRpc(r),
        // job-list's (in-process), before the restart reads the store: that pass feeds it
        whileStarting: (r) => r.conn === INTERNAL_CONN && this.feedOpen,
      },
      'events-journal-cancel': {
        roles: Role.OWNER,
        handler: (r) => this.journal.cancel(r.conn, Number(r.payload?.matchtag)),
      },
      drain: { roles: Role.OWNER, handler: (r) => this.drain(r) },
      purge: { roles: Role.OWNER, handler: (r) => this.purgeRpc(r) },
      'config-reload': { roles: 'internal', handler: (r) => this.configReload(r) },
      'queue-status': { roles: Role.USER, handler: (r) => r.respond({ enable: true, start: true }) },
      'queue-list': { roles: Role.USER, handler: (r) => r.respond({ queues: [] }) },
      'stats-get': { roles: Role.USER, handler: (r) => r.respond(this.stats()) },
      disconnect: { roles: Role.OWNER, handler: (r) => this.disconnect(r.conn) },
    };
  }

  async start(ctx: BrokerContext): Promise<void> {
    this.ctx = ctx;
    // a broker without the config service (some tests) has an empty configuration
    const conf: unknown = await ctx.rpc('config.get').catch((e: FluxError) => {
      if (e.errno === Errno.ENOSYS) return {};
      throw e;
    });
    const limits = purgeLimits(conf);
    // requests for the job-manager wait until the restart is done (broker.ts), but for the
    // journal's consumers fed by it (its sentinel then, once every job is settled)
    await this.restart();
    this.journal.endFeed();
    this.setLimits(limits);
  }

  // ---- purge (purge.ts) ----------------------------------------------------------------------

  private setLimits(fromConfig: PurgeLimits): void {
    this.limits = { ...fromConfig, ...this.purgeOverride };
    const on = this.limits.age !== UNLIMITED || this.limits.num !== UNLIMITED;
    if (on && this.purgeTimer === undefined) {
      this.purgeTimer = setInterval(() => this.purge(this.limits), 1000).unref();
    } else if (!on && this.purgeTimer !== undefined) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = undefined;
    }
  }

  private configReload(req: Request): void {
    try {
      this.setLimits(purgeLimits(req.payload));
    } catch (e) {
      const err = e as FluxError;
      return req.error(err.errno, err.message);
    }
    req.respond({});
  }

  /** Purge what `limits` let go (at most `max`): from memory, the store and job-list. */
  private purge(limits: PurgeLimits, max = Infinity): number {
    const jobs = this.purgeQueue.take(Date.now() / 1000, limits, max);
    if (jobs.length === 0) return 0;
    const ids = jobs.map((j) => j.id);
    for (const id of ids) {
      this.jobs.delete(id);
      this.waits.forget(id);
    }
    this.ctx.store
      .removeJobs(ids)
      .catch((e: Error) => this.ctx.log('err', `job-manager: purging ${ids.length} jobs: ${e.message}`));
    this.ctx.publish('job-purge-inactive', { jobs: ids.map(jobIdToWire) });
    this.ctx.log('debug', `purged ${ids.length} inactive jobs`);
    return ids.length;
  }

  /** `job-manager.purge` (flux job purge): purge now, or with force false count what would go. */
  private purgeRpc(req: Request): void {
    const p = req.payload ?? {};
    const { age_limit: age, num_limit: num, batch, force } = p;
    if (typeof age !== 'number' || !Number.isInteger(num) || !Number.isInteger(batch) || typeof force !== 'boolean') {
      return req.error(Errno.EPROTO, 'malformed request: age_limit, num_limit, batch and force are required');
    }
    if (age !== UNLIMITED && age < 0) return req.error(Errno.EINVAL, 'if set, age limit must be >= 0');
    if (num !== UNLIMITED && num < 0) return req.error(Errno.EINVAL, 'if set, num limit must be >= 0');
    if (batch < 1 || batch > PURGE_BATCH_MAX) {
      return req.error(Errno.EINVAL, `batch must be >= 1 and <= ${PURGE_BATCH_MAX}`);
    }
    const limits = { age, num };
    const count = force ? this.purge(limits, batch) : this.purgeQueue.count(Date.now() / 1000, limits);
    req.respond({ count });
  }

  // ---- restart (restart.ts) ----------------------------------------------------------------

  /**
   * Rebuild every stored job, then settle the active ones (restart.ts says how), a slice at a
   * time (restart.ts `Pace`): between slices the event loop turns, so the broker answers pings
   * and attributes and the store commits what the restart wrote so far.
   */
  private async restart(): Promise<void> {
    this.feedOpen = false;
    const store = this.ctx.store;
    const requests = new Map<string, ResourceRequest>();
    const depending: [Job, Set<string>][] = [];
    const active: Job[] = [];
    const fresh: Job[] = [];
    const zombies: Job[] = [];
    const inactive: Job[] = [];
    let lost = 0;
    const pace = new Pace();
    for (const stored of store.scan()) {
      if (pace.due()) await pace.next();
      let r: Replayed;
      try {
        let request = requests.get(stored.jobspecRef);
        if (request === undefined) {
          request = resourceRequest(parseJson(store.blob(stored.jobspecRef) ?? ''));
          if (requests.size >= 1024) requests.clear();
          requests.set(stored.jobspecRef, request);
        }
        r = replayJob(stored, request, () => store.get(stored.id, 'R'));
      } catch (e) {
        lost++;
        this.ctx.log('err', `job-manager: restart: job ${stored.id} left out: ${(e as Error).message}`);
        continue;
      }
      const job = r.job;
      this.jobs.set(job.id, job);
      if (this.journal.feeding) {
        const jobspec = this.redacted(store.blob(stored.jobspecRef));
        this.journal.feed(this.journalEntry(job, r.events, jobspec), job.state !== S.INACTIVE);
      }
      if (job.state === S.INACTIVE) {
        inactive.push(job);
        // reaped before the restart? (looked up for finished waitable jobs only)
        if (job.flags & SubmitFlags.WAITABLE && store.get(job.id, REAPED_KEY) === undefined) zombies.push(job);
        continue;
      }
      this.active.add(job);
      this.waits.jobSubmitted(job);
      if (job.state === S.DEPEND) depending.push([job, r.outstanding]);
      else if (job.state === S.NEW) fresh.push(job);
      else active.push(job);
    }
    if (this.jobs.size === 0 && lost === 0) return;
    this.purgeQueue.addAll(inactive);
    // finished waitable jobs nobody reaped: reapable again, in the order they finished
    zombies.sort((a, b) => (a.t_inactive ?? 0) - (b.t_inactive ?? 0));
    for (const job of zombies) {
      this.waits.jobSubmitted(job);
      this.waits.jobInactive(job, this.waitResult(job));
    }
    for (const [job, outstanding] of depending) {
      job.dependsOn = outstanding;
      this.deps.restore(job);
      if (job.state === S.DEPEND && (job.dependsOn?.size ?? 0) === 0) {
        // every dependency was met before the restart, the depend event was not posted
        job.dependsOn = undefined;
        this.deps.released(job);
        this.post(job, 'depend');
        this.prioritize(job);
      }
    }
    // committed but not yet taken in by the manager when the broker died: take it in now
    for (const job of fresh) {
      const plan = this.admit(job, this.redactedJobspec(job.id));
      if (typeof plan === 'string') {
        this.post(job, 'validate');
        this.postException(job, 'validate', 0, plan, this.ctx.owner);
      } else {
        this.enterDepend(job, plan);
      }
    }
    const note = 'instance restarted: the job was running and its tasks ended with the previous broker';
    let ts = now();
    const lines = new Map<number, string>();
    for (const job of active) {
      if (pace.due()) {
        await pace.next();
        ts = now();
        lines.clear();
      }
      if (job.state === S.PRIORITY) {
        this.prioritize(job);
      } else if (job.state === S.SCHED) {
        this.requeue(job, ts, lines);
      } else {
        // RUN or CLEANUP: nothing of it runs any more; the new scheduler never allocated R
        if (job.hasResources) this.heldBeforeRestart.add(job);
        if (job.state === S.RUN) this.postException(job, 'exec', 0, note, this.ctx.owner, false);
        else if (job.hasResources) this.freeResources(job);
        this.maybeClean(job);
      }
    }
    this.ctx.log(
      'info',
      `job-manager: restart: ${this.jobs.size} jobs from the store (${this.active.size} active, ${zombies.length} waitable unreaped)` +
        (lost > 0 ? `, ${lost} left out (see above)` : ''),
    );
  }

  /**
   * A job that was in SCHED: `flux-restart` (back to PRIORITY), then its priority again (SCHED),
   * at the restart slice's time `ts`. Every job of one priority gets the same two lines then:
   * they are encoded once (`lines`: priority → text).
   */
  private requeue(job: Job, ts: number, lines: Map<number, string>): void {
    job.priority = priorityOf(job.urgency);
    const events: EventEntry[] = [
      { timestamp: ts, name: 'flux-restart' },
      { timestamp: ts, name: 'priority', context: { priority: job.priority } },
    ];
    for (const e of events) stepState(job, e);
    let text = lines.get(job.priority);
    if (text === undefined) lines.set(job.priority, (text = events.map(encodeEvent).join('')));
    this.ctx.store.append(job.id, 'eventlog', text);
    if (this.journal.size > 0) this.journal.publish({ id: job.id, events });
    this.schedule(job);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.purgeTimer);
    // Running tasks are killed so that nothing is left behind. With a durable store the jobs
    // that have not started stay queued for the next start on it (as flux-core's with a
    // statedir); with a scratch store they are canceled.
    const keepPending = this.ctx.store.durable;
    for (const job of [...this.active]) {
      if (job.state === S.CLEANUP || job.state === S.INACTIVE) continue;
      if (keepPending && (job.state & (S.RUN | S.CLEANUP)) === 0) continue;
      this.postException(job, 'cancel', 0, 'instance is shutting down', this.ctx.owner);
    }
    this.waits.failAll(Errno.ENOSYS, 'instance is shutting down');
    this.journal.endAll();
    for (const r of this.drainWaiters.splice(0)) r.error(Errno.ENOSYS, 'instance is shutting down');
  }

  disconnect(conn: string): void {
    this.waits.disconnect(conn, this.active);
    this.journal.disconnect(conn);
    for (let i = this.drainWaiters.length - 1; i >= 0; i--) {
      if (this.drainWaiters[i]!.conn === conn) this.drainWaiters.splice(i, 1);
    }
  }

  // ---- events ----------------------------------------------------------------------------

  /** Append one event to the job's eventlog, advance its state, tell journal consumers. */
  private post(job: Job, name: string, context?: Record<string, unknown>, extra?: Partial<JournalEntry>): EventEntry {
    const entry: EventEntry = context === undefined ? { timestamp: now(), name } : { timestamp: now(), name, context };
    this.ctx.store.append(job.id, 'eventlog', this.advance(job, entry));
    if (this.journal.size > 0) this.journal.publish({ id: job.id, events: [entry], ...extra });
    return entry;
  }

  /**
   * Events that happen together (validate, depend and priority of a new job): one timestamp,
   * one eventlog append and one journal entry for all of them.
   */
  private postTogether(job: Job, events: readonly (readonly [string, Record<string, unknown>?])[]): void {
    const timestamp = now();
    const entries: EventEntry[] = [];
    const lines: string[] = [];
    for (const [name, context] of events) {
      const entry: EventEntry = context === undefined ? { timestamp, name } : { timestamp, name, context };
      entries.push(entry);
      lines.push(this.advance(job, entry));
    }
    this.ctx.store.append(job.id, 'eventlog', lines.join(''));
    if (this.journal.size > 0) this.journal.publish({ id: job.id, events: entries });
  }

  private advance(job: Job, entry: EventEntry): string {
    return applyEvent(job, entry);
  }

  // ---- submit and the job's way through the states -----------------------------------------

  /**
   * job-manager.submit from ingest: each job is accepted, or refused with a text that ingest
   * answers its submitter with (EINVAL), as flux-core's `{errors: [[id, text], ...]}`.
   */
  private submit(req: Request): void {
    const list = req.payload?.jobs as SubmitJob[] | undefined;
    if (!Array.isArray(list)) return req.error(Errno.EPROTO, 'malformed request: jobs must be an array');
    const errors: [bigint, string][] = [];
    for (const sj of list) {
      const refused = this.addJob(sj);
      if (refused !== undefined) errors.push([sj.id, refused]);
    }
    req.respond({ errors });
  }

  /** Add a submitted job, or return why it is refused (nothing of it is kept then). */
  private addJob(sj: SubmitJob): string | undefined {
    const job: Job = {
      id: sj.id,
      userid: sj.userid,
      urgency: sj.urgency,
      priority: 0,
      flags: sj.flags,
      state: S.NEW,
      t_submit: sj.t_submit,
      request: sj.request,
      allocPending: false,
      running: false,
      hasResources: false,
    };
    const plan = this.admit(job, sj.jobspec);
    if (typeof plan === 'string') return plan;
    this.jobs.set(job.id, job);
    this.active.add(job);
    this.waits.jobSubmitted(job);
    if (this.journal.size > 0) {
      const submit: EventEntry = {
        timestamp: sj.t_submit,
        name: 'submit',
        context: { userid: sj.userid, urgency: sj.urgency, flags: sj.flags, version: 1 },
      };
      this.journal.publish({ id: job.id, events: [submit], jobspec: sj.jobspec });
    }
    this.enterDepend(job, plan);
    return undefined;
  }

  /** The checks of a new job: its dependency plan, or why it is refused. */
  private admit(job: Job, jobspec: any): DependPlan | string {
    const system = jobspec?.attributes?.system;
    // flux-core's queue check (job-manager queue.c), before anything else
    const queue: unknown = system?.queue;
    if (typeof queue === 'string' && !this.queues.has(queue)) return `'${queue}' is not a valid queue`;
    // what the instance would store and not honour (unsupported.ts)
    const refused = unsupported(jobspec);
    if (refused !== undefined) return refused;
    return this.deps.plan(job, system?.dependencies);
  }

  /**
   * NEW → DEPEND with the job's dependency events before `validate` (flux-core posts them
   * while the job is NEW), then on to PRIORITY and SCHED unless a dependency is outstanding.
   */
  private enterDepend(job: Job, plan: DependPlan): void {
    if (plan.outstanding.size > 0) {
      this.postTogether(job, [...plan.events, ['validate']]);
      job.dependsOn = plan.outstanding;
      this.deps.commit(plan);
      return;
    }
    job.priority = priorityOf(job.urgency);
    this.postTogether(job, [...plan.events, ['validate'], ['depend'], ['priority', { priority: job.priority }]]);
    this.schedule(job);
  }

  /** A dependency of a job in DEPEND is met: remove it, and release the job after the last. */
  private dependencyRemove(job: Job, description: string): void {
    if (job.state !== S.DEPEND || !job.dependsOn?.has(description)) return;
    job.dependsOn.delete(description);
    this.post(job, 'dependency-remove', { description });
    if (job.dependsOn.size > 0) return;
    job.dependsOn = undefined;
    this.deps.released(job);
    this.post(job, 'depend');
    this.prioritize(job);
  }

  /** PRIORITY → SCHED: compute the priority, post it, and ask for resources. */
  private prioritize(job: Job): void {
    job.priority = priorityOf(job.urgency);
    this.post(job, 'priority', { priority: job.priority });
    this.schedule(job);
  }

  private schedule(job: Job): void {
    if (job.state !== S.SCHED) return;
    if (job.priority === 0) {
      if (job.allocPending) {
        job.allocPending = false;
        this.tell(job, 'sched.cancel', { id: job.id });
      }
      return;
    }
    if (job.allocPending) {
      // ENOENT: the alloc was granted while this was on its way (allocated() follows)
      this.tell(job, 'sched.priority', { id: job.id, priority: job.priority }, [Errno.ENOENT]);
      return;
    }
    job.allocPending = true;
    if (job.flags & SubmitFlags.DEBUG) this.post(job, 'debug.alloc-request');
    this.ctx
      .rpc<{ R: Rv1; annotations?: Record<string, unknown> }>('sched.alloc', {
        id: job.id,
        priority: job.priority,
        userid: job.userid,
        t_submit: job.t_submit,
        request: job.request,
      })
      .then(
        (r) => this.allocated(job, r.R, r.annotations),
        (e: FluxError) => {
          job.allocPending = false;
          if (e.errno === Errno.ECANCELED || this.stopping) return; // we asked for it, or shutdown
          if (job.state === S.SCHED) this.postException(job, 'alloc', 0, e.message, this.ctx.owner);
        },
      );
  }

  private allocated(job: Job, R: Rv1, annotations?: Record<string, unknown>): void {
    job.allocPending = false;
    if (job.state !== S.SCHED) {
      // canceled while the reply was on its way: give the resources back
      this.tell(job, 'sched.free', { id: job.id, R });
      return;
    }
    job.R = R;
    job.hasResources = true;
    this.ctx.store.put(job.id, 'R', JSON.stringify(R));
    this.post(job, 'alloc', annotations ? { annotations } : undefined, { R });
    this.startExec(job);
  }

  private startExec(job: Job): void {
    job.running = true;
    this.ctx
      .rpc(
        'job-exec.start',
        { id: job.id, userid: job.userid, R: job.R },
        {
          streaming: true,
          onResponse: (ev: ExecEvent) => this.execEvent(job, ev),
        },
      )
      .then(
        () => this.execDone(job),
        (e: FluxError) => {
          if (job.state === S.RUN) this.postException(job, 'exec', 0, e.message, this.ctx.owner);
          this.execDone(job);
        },
      );
  }

  private execEvent(job: Job, ev: ExecEvent): void {
    switch (ev.type) {
      case 'start':
        this.post(job, 'start');
        job.started = true;
        this.deps.started(job);
        break;
      case 'exception':
        // exec raised it and is already ending the tasks (SIGALRM for a timeout, SIGKILL after
        // a failed start): do not send our own SIGTERM on top
        this.postException(job, ev.exc_type, ev.severity, ev.note, this.ctx.owner, false);
        break;
      case 'finish':
        if (job.waitStatus === undefined) job.waitStatus = ev.status;
        {
          const e = this.post(job, 'finish', { status: ev.status });
          job.endEvent ??= e;
        }
        break;
      case 'release':
        this.post(job, 'release', { ranks: ev.ranks, final: ev.final });
        if (ev.final) this.freeResources(job);
        break;
    }
  }

  private execDone(job: Job): void {
    job.running = false;
    if (job.hasResources) this.freeResources(job);
    this.maybeClean(job);
  }

  private freeResources(job: Job): void {
    if (!job.hasResources) return;
    job.hasResources = false;
    const R = job.R;
    if (!this.heldBeforeRestart.delete(job)) this.tell(job, 'sched.free', { id: job.id, R });
    if (job.flags & SubmitFlags.DEBUG) this.post(job, 'debug.free-request');
    this.post(job, 'free');
    this.maybeClean(job);
  }

  /**
   * A request about `job` whose answer the manager does not wait for. A failure is never
   * dropped: it is logged with the topic, the job and the error, at debug when its errno is in
   * `expected` (a known race, the other side has already let the job go), else as an error.
   * sched.cancel and sched.free succeed for a job the scheduler no longer holds (it logs a
   * double free itself), so any failure of theirs is a fault.
   */
  private tell(job: Job, topic: string, payload: object, expected: readonly number[] = []): void {
    this.ctx.rpc(topic, payload).catch((e: unknown) => {
      const errno = errnoOf(e, Errno.EIO);
      const level = expected.includes(errno) ? 'debug' : 'err';
      this.ctx.log(level, `job-manager: ${topic} id=${job.id}: ${(e as Error).message} (${errnoName(errno) ?? errno})`);
    });
  }

  private maybeClean(job: Job): void {
    if (job.state !== S.CLEANUP || job.running || job.hasResources || job.allocPending) return;
    this.post(job, 'clean');
    this.inactive(job);
  }

  private inactive(job: Job): void {
    this.active.delete(job);
    this.purgeQueue.add(job);
    this.deps.inactive(job);
    this.waits.jobInactive(job, this.waitResult(job));
    if (this.active.size === 0) for (const r of this.drainWaiters.splice(0)) r.respond();
  }

  /** success / errstr of a finished job (docs/protocol.md §B "Wait"). */
  waitResult(job: Job): WaitResult {
    const e = job.endEvent;
    const ctx = (e?.context ?? {}) as Record<string, any>;
    const end: EndEvent =
      e?.name === 'exception'
        ? { name: 'exception', type: String(ctx.type), note: String(ctx.note ?? ''), severity: 0 }
        : { name: 'finish', status: job.waitStatus ?? 0 };
    return { id: job.id, success: waitSuccess(end), errstr: waitErrstr(end) };
  }

  private postException(job: Job, type: string, severity: number, note: string, userid: number, kill = true): void {
    const wasState = job.state;
    const e = this.post(job, 'exception', { type, severity, note, userid });
    noteException(job, e);
    if (severity !== 0) return;
    if (wasState === S.CLEANUP || wasState === S.INACTIVE) return;
    if (job.allocPending) {
      job.allocPending = false;
      this.tell(job, 'sched.cancel', { id: job.id });
    }
    if (job.running) {
      // EINVAL: exec ended the job's tasks while this was on its way (execDone follows)
      if (kill) this.tell(job, 'job-exec.kill', { id: job.id, signum: 15, exception: true }, [Errno.EINVAL]);
    } else if (job.hasResources) {
      this.freeResources(job);
    }
    this.maybeClean(job);
  }

  // ---- RPCs ------------------------------------------------------------------------------

  private wait(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    this.waits.wait(req, id, id === JOBID_ANY);
  }

  private lookupActive(req: Request, errnum: number, unknownText: string): Job | undefined {
    const id = requestJobId(req);
    if (id === undefined) return undefined;
    const job = this.jobs.get(id);
    if (!job) {
      req.error(errnum, unknownText);
      return undefined;
    }
    if (job.state === S.INACTIVE) {
      req.error(errnum, 'job is inactive');
      return undefined;
    }
    return job;
  }

  /** The severity, type and note of a raise / raiseall request; answers the error itself. */
  private exceptionOf(req: Request): { severity: number; type: string; note: string } | undefined {
    const p = req.payload ?? {};
    const severity = p.severity;
    if (!Number.isInteger(severity) || severity < 0 || severity > 7)
      return void req.error(Errno.EPROTO, 'invalid exception severity');
    const type = p.type;
    if (typeof type !== 'string' || type === '' || /[\s=]/.test(type))
      return void req.error(Errno.EPROTO, 'invalid exception type');
    if (p.note !== undefined && typeof p.note !== 'string')
      return void req.error(Errno.EPROTO, 'note must be a string');
    return { severity, type, note: p.note ?? '' };
  }

  private raise(req: Request): void {
    const x = this.exceptionOf(req);
    if (!x) return;
    const job = this.lookupActive(req, Errno.ENOENT, 'unknown job id');
    if (!job) return;
    if (!authorized(req, job.userid))
      return req.error(Errno.EPERM, 'guests can only raise exceptions on their own jobs');
    this.postException(job, x.type, x.severity, x.note, req.userid);
    req.respond();
  }

  /**
   * `job-manager.raiseall` (flux cancel --all): an exception on every active job of `userid`
   * (4294967295 or -1: every user, instance owner only) whose state is in the `states` mask;
   * answers `{count, errors}`, and with `dry_run` only counts.
   */
  private raiseAll(req: Request): void {
    const p = req.payload ?? {};
    const { dry_run: dryRun, userid, states } = p;
    if (typeof dryRun !== 'boolean' || !Number.isInteger(userid) || !Number.isInteger(states)) {
      return req.error(Errno.EPROTO, 'malformed request: dry_run (boolean), userid and states (integers) are required');
    }
    const anyUser = userid === USERID_UNKNOWN || userid === -1;
    if (anyUser ? (req.rolemask & Role.OWNER) === 0 : !authorized(req, userid)) {
      return req.error(Errno.EPERM, 'guests can only raise exceptions on their own jobs');
    }
    const x = this.exceptionOf(req);
    if (!x) return;
    const targets = [...this.active].filter((j) => (j.state & states) !== 0 && (anyUser || j.userid === userid));
    let errors = 0;
    if (!dryRun) {
      for (const job of targets) {
        try {
          this.postException(job, x.type, x.severity, x.note, req.userid);
        } catch (e) {
          errors++;
          this.ctx.log('err', `error raising exception on id=${job.id}: ${(e as Error).message}`);
        }
      }
    }
    req.respond({ count: targets.length, errors });
  }

  private kill(req: Request): void {
    const signum = req.payload?.signum;
    if (!Number.isInteger(signum) || signum <= 0 || signum > 64)
      return req.error(Errno.EINVAL, 'Invalid signal number');
    const job = this.lookupActive(req, Errno.EINVAL, 'unknown job id');
    if (!job) return;
    if (!authorized(req, job.userid)) return req.error(Errno.EPERM, 'guests can only kill their own jobs');
    if (job.state !== S.RUN && job.state !== S.CLEANUP) return req.error(Errno.EINVAL, 'job is not running');
    this.ctx.rpc('job-exec.kill', { id: job.id, signum }).then(
      () => req.respond(),
      (e: FluxError) => req.error(e.errno, e.message),
    );
  }

  private urgencyRpc(req: Request): void {
    const urgency = req.payload?.urgency;
    if (!Number.isInteger(urgency) || urgency < 0 || urgency > 31)
      return req.error(Errno.EINVAL, 'urgency range is [0:31]');
    const job = this.lookupActive(req, Errno.EINVAL, 'unknown job id');
    if (!job) return;
    if (!authorized(req, job.userid)) return req.error(Errno.EPERM, 'guests can only reprioritize their own jobs');
    // flux-core urgency.c: a guest may lower its urgency, or raise it up to the default
    if ((req.rolemask & Role.OWNER) === 0 && urgency > Math.max(URGENCY_DEFAULT, job.urgency))
      return req.error(Errno.EPERM, 'guests can only adjust urgency <= default');
    if (job.state & (S.RUN | S.CLEANUP))
      return req.error(Errno.EINVAL, 'urgency cannot be changed once resources are allocated');
    const old = job.urgency;
    job.urgency = urgency;
    this.post(job, 'urgency', { userid: req.userid, urgency });
    if (job.state === S.PRIORITY) this.prioritize(job);
    req.respond({ old_urgency: old });
  }

  private journalRpc(req: Request): void {
    // flux-core: the backlog holds every job with full, the active ones without; then the
    // sentinel, then live events.
    const full = req.payload?.full === true;
    if (this.feedOpen) return this.journal.addFed(req, full); // the restart, about to read the store, feeds it
    this.journal.add(req, full ? this.fullBacklog() : this.activeBacklog());
  }

  /** Every job, read from the store a page at a time in id order (not two lookups per job). */
  private fullBacklog(): Backlog {
    const store = this.ctx.store;
    let after: bigint | undefined;
    let done = false;
    return {
      next: () => {
        if (done) return undefined;
        const page = store.scanPage(after, BACKLOG_PAGE);
        if (page.length < BACKLOG_PAGE) done = true;
        else after = page[page.length - 1]!.id;
        const entries: JournalEntry[] = [];
        for (const stored of page) {
          const job = this.jobs.get(stored.id);
          if (!job) continue;
          const jobspec = this.redacted(store.blob(stored.jobspecRef));
          entries.push(this.journalEntry(job, parseEventlog(stored.eventlog), jobspec));
        }
        return entries;
      },
      covers: (id) => done || (after !== undefined && id <= after),
    };
  }

  /** The jobs active now, in id order; jobs newer than these are live. */
  private activeBacklog(): Backlog {
    const store = this.ctx.store;
    const jobs = [...this.active];
    if (jobs.some((j, i) => i > 0 && jobs[i - 1]!.id > j.id)) jobs.sort((a, b) => (a.id < b.id ? -1 : 1));
    const last = jobs.length > 0 ? jobs[jobs.length - 1]!.id : -1n;
    let i = 0;
    return {
      next: () => {
        if (i >= jobs.length) return undefined;
        const entries: JournalEntry[] = [];
        for (const end = Math.min(i + BACKLOG_PAGE, jobs.length); i < end; i++) {
          const job = jobs[i]!;
          const events = parseEventlog(store.get(job.id, 'eventlog') ?? '');
          entries.push(this.journalEntry(job, events, this.redactedJobspec(job.id)));
        }
        return entries;
      },
      covers: (id) => id > last || (i > 0 && id <= jobs[i - 1]!.id),
    };
  }

  private journalEntry(job: Job, events: EventEntry[], jobspec: unknown): JournalEntry {
    const e: JournalEntry = { id: job.id, events, jobspec };
    if (job.R) e.R = job.R;
    return e;
  }

  /**
   * The job's jobspec without its environment, read back from the store: the manager does not
   * keep a parsed jobspec per job (thousands of small objects per job are what makes the
   * broker's garbage collector slow with many jobs queued).
   */
  private redactedJobspec(id: bigint): unknown {
    return this.redacted(this.ctx.store.get(id, 'jobspec'));
  }

  /**
   * A jobspec text without its environment. Jobs that share a jobspec share its text (the
   * store's content-addressed blobs), and the last few texts' redacted forms are kept, frozen,
   * so a backlog of a million such jobs parses it once.
   */
  private redacted(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    let r = this.redactedOf.get(text);
    if (r === undefined) {
      try {
        r = deepFreeze(redactJobspec(parseJson(text)));
      } catch {
        r = undefined;
      }
      if (this.redactedOf.size >= REDACTED_CACHE) this.redactedOf.clear();
      this.redactedOf.set(text, r);
    }
    return r;
  }

  private drain(req: Request): void {
    if (this.active.size === 0) return req.respond();
    this.drainWaiters.push(req);
  }

  private stats(): Record<string, unknown> {
    const counts: Record<string, number> = { depend: 0, priority: 0, sched: 0, run: 0, cleanup: 0, inactive: 0 };
    for (const j of this.jobs.values()) {
      const k =
        j.state === S.NEW
          ? 'depend'
          : (Object.keys(S) as (keyof typeof S)[]).find((n) => S[n] === j.state)!.toLowerCase();
      counts[k] = (counts[k] ?? 0) + 1;
    }
    return {
      journal: { listeners: this.journal.size },
      active_jobs: this.active.size,
      inactive_jobs: this.jobs.size - this.active.size,
      state_count: counts,
    };
  }

  get activeCount(): number {
    return this.active.size;
  }

  isActive(id: bigint): boolean {
    const j = this.jobs.get(id);
    return j !== undefined && (j.state & ACTIVE_MASK) !== 0;
  }
}
