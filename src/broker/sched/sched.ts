/**
 * The `sched` service: the job manager's scheduler (contract.ts; flux-core RFC 27 alloc/free
 * in spirit). It owns the policy core (core.ts) and does the I/O around it:
 *
 *   sched.alloc     AllocRequest        → {R, annotations} once allocated (pends until then);
 *                                          ECANCELED "alloc canceled" after sched.cancel;
 *                                          ENOSPC if it can never fit; ENOSYS at shutdown
 *   sched.cancel    {id}                → {} (the pending alloc fails with ECANCELED)
 *   sched.priority  {id, priority}      → {} (ENOENT if not pending)
 *   sched.free      {id, R}             → {} (a second free of a job is logged and ignored)
 *   sched.feasible  {request}           → {} | ENOSPC "unsatisfiable request: …"
 *                   {requests: [...]}   → {errors: [null | {errnum, errstr}, ...]} (batched)
 *   sched.status    (none)              → {all, down, allocated} as Rv1 (for resource.sched-status;
 *                                          also answered as sched.resource-status, flux-core's name)
 *   sched.resources {ranks}             → {} the instance's resources, from the resource service
 *                                          once every rank has said what it has (an instance of
 *                                          several brokers); allocs and feasibility checks that
 *                                          come before wait for it
 *   sched.down      {ranks: number[]}   → {} those ranks are offline (their brokers were lost):
 *                                          nothing new is placed on them
 *
 * alloc/cancel/priority/free/feasible/resources/down are internal: for the job manager and ingest in this
 * process only (the broker refuses clients, broker.ts). Any user may ask the status.
 * Scheduling runs at most once per event-loop turn (setImmediate), however many allocs,
 * frees, cancels and priority changes arrived in that turn.
 */
import { Errno } from '../../protocol/errno.js';
import type { ResourceRequest } from '../contract.js';
import { Role } from '../../protocol/types.js';
import { requestJobId, type BrokerContext, type Method, type Request, type Service } from '../service.js';
import { resourceSummary, toRv1, type InstanceResources, type RankAlloc } from '../../job/rv1.js';
import { FcfsPolicy, type SchedPolicy } from './core.js';
import { checkRequest } from './pool.js';

export interface SchedulerOptions {
  /** The policy; default strict FCFS over the resource set. */
  policy?: SchedPolicy;
  /** Clock in seconds since the epoch (for starttime / expiration). */
  now?: () => number;
}

interface PendingAlloc {
  req: Request;
  duration: number;
}

export class Scheduler implements Service {
  readonly name = 'sched';
  readonly methods: Record<string, Method>;
  /** The policy; undefined until the resources are known (sched.resources). */
  policy!: SchedPolicy;
  /** Requests that came before the resources were known, replayed once they are. */
  private early: Request[] | undefined;
  /** Scheduling passes run so far (one per event-loop turn at most). */
  passes = 0;
  private ctx: BrokerContext | undefined;
  private readonly pending = new Map<bigint, PendingAlloc>();
  private readonly hostnames = new Map<number, string>();
  private readonly now: () => number;
  private timer: NodeJS.Immediate | undefined;
  private stopped = false;

  /** `resources` undefined: they come later through sched.resources (an instance of several brokers). */
  constructor(resources: InstanceResources | undefined, opts: SchedulerOptions = {}) {
    if (resources !== undefined) this.setResources(resources, opts.policy);
    else this.early = [];
    this.now = opts.now ?? (() => Date.now() / 1000);
    const early = (f: (r: Request) => void) => (r: Request) => (this.early ? this.early.push(r) : f(r));
    this.methods = {
      resources: { roles: 'internal', handler: (r) => this.resources(r) },
      down: { roles: 'internal', handler: (r) => this.down(r) },
      up: { roles: 'internal', handler: (r) => this.down(r, false) },
      alloc: { roles: 'internal', handler: early((r) => this.alloc(r)) },
      cancel: { roles: 'internal', handler: (r) => this.cancel(r) },
      priority: { roles: 'internal', handler: (r) => this.priority(r) },
      free: { roles: 'internal', handler: (r) => this.free(r) },
      feasible: { roles: 'internal', handler: early((r) => this.feasible(r)) },
      status: { roles: Role.USER, handler: early((r) => r.respond(this.status())) },
      'resource-status': { roles: Role.USER, handler: early((r) => r.respond(this.status())) },
      disconnect: { roles: Role.USER, handler: () => {} },
    };
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
  }

  private setResources(resources: InstanceResources, policy?: SchedPolicy): void {
    for (const r of resources.ranks) this.hostnames.set(r.rank, r.hostname);
    this.policy = policy ?? new FcfsPolicy(resources.ranks);
  }

  /** sched.resources {ranks}: the whole instance's resources, once (then the early requests run). */
  private resources(req: Request): void {
    const ranks = req.payload?.ranks;
    if (!Array.isArray(ranks)) return req.error(Errno.EPROTO, 'malformed request: ranks must be an array');
    if (this.early === undefined) return req.error(Errno.EEXIST, 'the scheduler already has its resources');
    const early = this.early;
    this.early = undefined;
    this.setResources({ ranks });
    this.log('info', `resources of ${ranks.length} ranks`);
    req.respond({});
    for (const r of early) if (!r.finished) this.dispatchEarly(r);
  }

  private dispatchEarly(r: Request): void {
    const method = r.topic.slice(r.topic.indexOf('.') + 1);
    this.methods[method]!.handler(r);
  }

  /** sched.down {ranks}: offline ranks take nothing new; sched.up {ranks}: they do again. */
  private down(req: Request, down = true): void {
    const ranks = req.payload?.ranks;
    if (!Array.isArray(ranks) || !ranks.every((r) => Number.isInteger(r))) {
      return req.error(Errno.EPROTO, 'malformed request: ranks must be an array of integers');
    }
    if (this.early !== undefined) return req.error(Errno.EAGAIN, 'the scheduler has no resources yet');
    this.policy.setDown(ranks, down);
    this.log(
      'info',
      down ? `rank ${ranks.join(',')} offline: nothing new is placed there` : `rank ${ranks.join(',')} back in use`,
    );
    if (!down) this.kick();
    req.respond({});
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.req.error(Errno.ENOSYS, 'scheduler is shutting down');
    for (const r of this.early ?? []) r.error(Errno.ENOSYS, 'scheduler is shutting down');
    this.early = undefined;
  }

  /** Allocs waiting for resources. */
  get npending(): number {
    return this.pending.size;
  }

  private log(level: 'err' | 'warning' | 'info' | 'debug', text: string): void {
    this.ctx?.log(level, `sched: ${text}`);
  }

  private hostname = (rank: number): string => this.hostnames.get(rank) ?? '';

  /** {all, down, allocated} as Rv1, like flux-core's sched.resource-status. */
  status(): { all: object; down: object; allocated: object } {
    const s = this.policy.status();
    return {
      all: toRv1(s.all, this.hostname),
      down: toRv1(s.down, this.hostname),
      allocated: toRv1(s.allocated, this.hostname),
    };
  }

  // ---- handlers ----------------------------------------------------------------------------

  private alloc(req: Request): void {
    if (this.stopped) return req.error(Errno.ENOSYS, 'scheduler is shutting down');
    const id = requestJobId(req);
    if (id === undefined) return;
    const p = req.payload;
    const priority = p.priority ?? 16;
    if (typeof priority !== 'number' || !Number.isFinite(priority) || priority < 0) {
      return req.error(Errno.EPROTO, 'malformed request: priority must be a number >= 0');
    }
    const t_submit = p.t_submit ?? this.now();
    if (typeof t_submit !== 'number' || !Number.isFinite(t_submit)) {
      return req.error(Errno.EPROTO, 'malformed request: t_submit must be a number');
    }
    const request = p.request as ResourceRequest;
    const bad = checkRequest(request);
    if (bad) return req.error(Errno.EPROTO, `malformed request: ${bad}`);
    const state = this.policy.state(id);
    if (state) return req.error(Errno.EEXIST, `job ${id} is already ${state}`);
    const why = this.policy.feasible(request);
    if (why) return req.error(Errno.ENOSPC, why);
    this.policy.enqueue({ id, priority, t_submit, request });
    this.pending.set(id, { req, duration: request.duration });
    this.kick();
  }

  private cancel(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    if (this.policy.remove(id)) {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.req.error(Errno.ECANCELED, 'alloc canceled');
      this.kick(); // the head may have gone: the next job may fit
    }
    req.respond({});
  }

  private priority(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    const priority = req.payload.priority;
    if (typeof priority !== 'number' || !Number.isFinite(priority) || priority < 0) {
      return req.error(Errno.EPROTO, 'malformed request: priority must be a number >= 0');
    }
    if (!this.policy.reprioritize(id, priority)) return req.error(Errno.ENOENT, `job ${id} has no pending alloc`);
    this.kick();
    req.respond({});
  }

  private free(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    if (this.policy.free(id)) this.kick();
    else this.log('warning', `free of job ${id}, which holds no resources (freed twice?): ignored`);
    req.respond({});
  }

  private feasible(req: Request): void {
    const requests = req.payload?.requests;
    if (Array.isArray(requests)) {
      // The batched form ingest uses: one answer per request, null when feasible.
      const errors = requests.map((r: unknown) => {
        const bad = checkRequest(r);
        if (bad) return { errnum: Errno.EPROTO, errstr: `malformed request: ${bad}` };
        const why = this.policy.feasible(r as ResourceRequest);
        return why ? { errnum: Errno.ENOSPC, errstr: why } : null;
      });
      return req.respond({ errors });
    }
    const request = req.payload?.request;
    const bad = checkRequest(request);
    if (bad) return req.error(Errno.EPROTO, `malformed request: ${bad}`);
    const why = this.policy.feasible(request);
    if (why) return req.error(Errno.ENOSPC, why);
    req.respond({});
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /** Schedule once, on the next turn of the event loop. */
  private kick(): void {
    if (this.timer || this.stopped) return;
    this.timer = setImmediate(() => {
      this.timer = undefined;
      this.run();
    });
  }

  /** One scheduling pass: hand out every allocation the policy makes now. */
  run(): void {
    this.passes++;
    const allocs = this.policy.schedule();
    const starttime = this.now();
    for (const a of allocs) {
      const p = this.pending.get(a.id);
      this.pending.delete(a.id);
      if (!p) {
        this.log('err', `allocated job ${a.id} with no pending alloc: freeing it`);
        this.policy.free(a.id);
        this.kick();
        continue;
      }
      p.req.respond(this.allocResponse(a.ranks, starttime, p.duration));
    }
  }

  private allocResponse(ranks: RankAlloc[], starttime: number, duration: number): object {
    const expiration = duration > 0 ? starttime + duration : 0;
    return {
      R: toRv1(ranks, this.hostname, starttime, expiration),
      annotations: { sched: { resource_summary: resourceSummary(ranks) } },
    };
  }
}
