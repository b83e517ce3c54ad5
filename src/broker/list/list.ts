/**
 * job-list (flux-protocol.md §B; vectors cli-jobs-a, py-job-list-attrs, cli-jobs-stats):
 * list, list-id, list-attrs and job-stats over its own view of every job, kept up to date by
 * consuming the manager's events journal in-process.
 */
import { Errno } from '../../protocol/errno.js';
import { toJobId } from '../../protocol/json.js';
import type { BrokerContext, ConnId, Request, Service } from '../service.js';
import type { JournalEntry } from '../contract.js';
import { JobView, LIST_ATTRS, LIST_ATTR_SET } from './view.js';
import { compile, ConstraintError } from './constraint.js';

interface IdWaiter {
  req: Request;
  id: bigint;
  state: number;
  attrs: string[];
}

export class JobList implements Service {
  readonly name = 'job-list';
  private ctx!: BrokerContext;
  private readonly jobs = new Map<bigint, JobView>();
  private readonly idWaiters = new Set<IdWaiter>();
  readonly methods: Record<string, (req: Request) => void> = {
    list: (r) => this.list(r),
    'list-id': (r) => this.listId(r),
    'list-attrs': (r) => r.respond({ attrs: [...LIST_ATTRS, 'all'] }),
    'job-stats': (r) => r.respond(this.stats()),
    disconnect: (r) => this.disconnect(r.conn),
  };

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
    ctx
      .rpc('job-manager.events-journal', { full: true }, { streaming: true, onResponse: (e: JournalEntry) => this.journal(e) })
      .catch((e: Error) => ctx.log('err', `job-list: events journal ended: ${e.message}`));
  }

  private journal(e: JournalEntry): void {
    if (e.id === -1 || e.id === -1n) return; // sentinel
    const id = typeof e.id === 'bigint' ? e.id : BigInt(e.id);
    let j = this.jobs.get(id);
    if (!j) this.jobs.set(id, (j = new JobView(id)));
    if (e.jobspec) j.setJobspec(e.jobspec);
    if (e.R) j.setR(e.R);
    for (const ev of e.events) j.event(ev);
    if (this.idWaiters.size) {
      for (const w of this.idWaiters) {
        if (w.id === id && (j.state & w.state) !== 0) {
          this.idWaiters.delete(w);
          w.req.respond({ job: j.record(w.attrs, w.attrs.includes('all')) });
        }
      }
    }
  }

  private checkAttrs(req: Request, attrs: unknown): string[] | undefined {
    if (!Array.isArray(attrs) || attrs.some((a) => typeof a !== 'string')) {
      req.error(Errno.EPROTO, 'invalid payload: attrs must be an array of strings');
      return undefined;
    }
    for (const a of attrs as string[]) {
      if (a !== 'all' && a !== 'id' && !LIST_ATTR_SET.has(a)) {
        req.error(Errno.EINVAL, `attrs: unknown attribute ${a}`);
        return undefined;
      }
    }
    return attrs as string[];
  }

  /** pending by priority then submit time, running newest first, inactive newest first */
  private ordered(): JobView[] {
    const pending: JobView[] = [];
    const running: JobView[] = [];
    const inactive: JobView[] = [];
    for (const j of this.jobs.values()) {
      if (j.state === 64) inactive.push(j);
      else if (j.state & 48) running.push(j);
      else pending.push(j);
    }
    pending.sort((a, b) => b.priority - a.priority || a.t_submit - b.t_submit);
    const t = (j: JobView) => Number(j.attr('t_run') ?? j.t_submit);
    running.sort((a, b) => t(b) - t(a));
    inactive.sort((a, b) => b.t_inactive - a.t_inactive);
    return [...pending, ...running, ...inactive];
  }

  private list(req: Request): void {
    const p = req.payload ?? {};
    const attrs = this.checkAttrs(req, p.attrs ?? []);
    if (!attrs) return;
    const max = p.max_entries ?? 0;
    if (!Number.isInteger(max) || max < 0) return req.error(Errno.EPROTO, 'invalid payload: max_entries must be an integer >= 0');
    const since = Number(p.since ?? 0);
    let pred;
    try {
      pred = compile(p.constraint);
    } catch (e) {
      return req.error(Errno.EPROTO, `invalid payload: ${(e as ConstraintError).message}`);
    }
    const all = attrs.includes('all');
    const out: Record<string, unknown>[] = [];
    for (const j of this.ordered()) {
      if (since > 0 && !(j.state === 64 && j.t_inactive > since)) continue;
      if (!pred(j)) continue;
      out.push(j.record(attrs, all));
      if (max > 0 && out.length >= max) break;
    }
    if (!req.streaming) return req.respond({ jobs: out });
    out.forEach((job, i) => req.respond(i === 0 ? { jobs: [job], version: 1 } : { jobs: [job] }));
    req.error(Errno.ENODATA);
  }

  private listId(req: Request): void {
    let id: bigint;
    try {
      id = toJobId(req.payload?.id);
    } catch {
      return req.error(Errno.EPROTO, 'invalid payload: id');
    }
    const attrs = this.checkAttrs(req, req.payload?.attrs ?? []);
    if (!attrs) return;
    const state = req.payload?.state;
    const j = this.jobs.get(id);
    if (state !== undefined && Number.isInteger(state) && state > 0) {
      if (!j && !this.ctx.store.has(id)) return req.error(Errno.ENOENT, 'job id not found');
      if (!j || (j.state & state) === 0) {
        this.idWaiters.add({ req, id, state, attrs });
        return;
      }
    }
    if (!j) return req.error(Errno.ENOENT, 'job id not found');
    req.respond({ job: j.record(attrs, attrs.includes('all')) });
  }

  private stats(): Record<string, unknown> {
    const s = { depend: 0, priority: 0, sched: 0, run: 0, cleanup: 0, inactive: 0, total: 0 };
    let successful = 0;
    let failed = 0;
    let canceled = 0;
    let timeout = 0;
    for (const j of this.jobs.values()) {
      s.total++;
      switch (j.state) {
        case 1:
        case 2: s.depend++; break;
        case 4: s.priority++; break;
        case 8: s.sched++; break;
        case 16: s.run++; break;
        case 32: s.cleanup++; break;
        case 64: {
          s.inactive++;
          const r = j.attr('result');
          if (r === 1) successful++;
          else if (r === 4) canceled++;
          else if (r === 8) timeout++;
          else failed++;
          break;
        }
      }
    }
    return { job_states: s, successful, failed, canceled, timeout, inactive_purged: 0, queues: [] };
  }

  disconnect(conn: ConnId): void {
    for (const w of this.idWaiters) if (w.req.conn === conn) this.idWaiters.delete(w);
  }
}
