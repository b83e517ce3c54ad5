/**
 * job-list's view of one job, built from the manager's events journal the way flux-core's
 * job-list (job_state.c, job_data.c) builds it. Attributes are those of `job-list.list-attrs`.
 */
import { jobOutcome } from '../../job/waitstatus.js';
import type { EventEntry } from '../store/store.js';

/** `job-list.list-attrs`, in flux-core's order (test/vectors/py-job-list-attrs.json). */
export const LIST_ATTRS = [
  'userid', 'urgency', 'priority', 't_submit', 't_depend', 't_priority', 't_sched', 't_run', 't_cleanup',
  't_inactive', 'state', 'name', 'cwd', 'queue', 'project', 'bank', 'ntasks', 'ncores', 'duration', 'nnodes',
  'ranks', 'nodelist', 'success', 'exception_occurred', 'exception_type', 'exception_severity', 'exception_note',
  'result', 'expiration', 'annotations', 'waitstatus', 'dependencies',
] as const;
export const LIST_ATTR_SET: ReadonlySet<string> = new Set(LIST_ATTRS);

const STATE_OF: Record<string, number> = { validate: 2, depend: 4, priority: 8, alloc: 16, finish: 32, clean: 64 };
const TIME_OF: Record<number, string> = { 2: 't_depend', 4: 't_priority', 8: 't_sched', 16: 't_run', 32: 't_cleanup', 64: 't_inactive' };

export class JobView {
  readonly a: Record<string, unknown> = {};
  state = 1;
  priority = 0;
  t_submit = 0;
  t_inactive = 0;
  private readonly events: EventEntry[] = [];

  constructor(readonly id: bigint) {}

  setJobspec(js: any): void {
    const sys = js?.attributes?.system ?? {};
    const cmd = js?.tasks?.[0]?.command;
    const name = sys.job?.name ?? (Array.isArray(cmd) && typeof cmd[0] === 'string' ? cmd[0].split('/').pop() : undefined);
    if (name !== undefined) this.a.name = name;
    if (typeof sys.cwd === 'string') this.a.cwd = sys.cwd;
    if (typeof sys.queue === 'string') this.a.queue = sys.queue;
    if (typeof sys.project === 'string') this.a.project = sys.project;
    if (typeof sys.bank === 'string') this.a.bank = sys.bank;
    this.a.duration = typeof sys.duration === 'number' ? sys.duration : 0;
    const top = js?.resources?.[0];
    const slotOf = (v: any) => (v?.type === 'slot' ? v : (v?.with ?? []).find((w: any) => w.type === 'slot'));
    const slot = slotOf(top);
    const nslots = (top?.type === 'node' ? top.count : 1) * (slot?.count ?? 1);
    const cores = (slot?.with ?? []).filter((w: any) => w.type === 'core').reduce((n: number, w: any) => n + w.count, 0);
    const count = js?.tasks?.[0]?.count ?? {};
    this.a.ntasks = typeof count.total === 'number' ? count.total : (count.per_slot ?? 1) * nslots;
    this.a.ncores = nslots * cores;
    if (top?.type === 'node') this.a.nnodes = top.count;
    if (Array.isArray(sys.dependencies) && sys.dependencies.length) this.a.dependencies = sys.dependencies.map((d: any) => d?.value ?? String(d));
  }

  setR(R: any): void {
    const rl = R?.execution?.R_lite ?? [];
    this.a.ranks = rl.map((r: any) => r.rank).join(',');
    this.a.nnodes = rl.length;
    const nodelist: string[] = R?.execution?.nodelist ?? [];
    this.a.nodelist = nodelist.join(',');
    const exp = R?.execution?.expiration;
    this.a.expiration = typeof exp === 'number' ? exp : 0;
  }

  event(e: EventEntry): void {
    const ctx = (e.context ?? {}) as Record<string, any>;
    switch (e.name) {
      case 'submit':
        this.t_submit = e.timestamp;
        this.a.t_submit = e.timestamp;
        this.a.userid = ctx.userid;
        this.a.urgency = ctx.urgency;
        break;
      case 'urgency':
        this.a.urgency = ctx.urgency;
        if (this.state === 8) this.state = 4;
        break;
      case 'priority':
        this.priority = ctx.priority;
        this.a.priority = ctx.priority;
        break;
      case 'annotations':
        if (ctx.annotations && Object.keys(ctx.annotations).length) this.a.annotations = ctx.annotations;
        else delete this.a.annotations;
        return; // live-only, not part of the outcome
      case 'exception':
        if (ctx.severity === 0 && this.state !== 32 && this.state !== 64) this.enter(32, e.timestamp);
        break;
    }
    const next = STATE_OF[e.name];
    if (next !== undefined && !(e.name === 'priority' && this.state === 8)) this.enter(next, e.timestamp);
    this.events.push(e);
    if (e.name === 'finish' || e.name === 'exception' || e.name === 'clean') this.outcome();
    if (this.state === 64) this.events.length = 0; // nothing more will change
  }

  private enter(state: number, t: number): void {
    if (state <= this.state && state !== 8) return;
    this.state = state;
    const k = TIME_OF[state];
    if (k) this.a[k] = t;
    if (state === 64) this.t_inactive = t;
  }

  private outcome(): void {
    const o = jobOutcome(this.events);
    if (o.waitstatus !== undefined) this.a.waitstatus = o.waitstatus;
    this.a.success = o.success;
    this.a.exception_occurred = o.exception !== undefined;
    if (o.exception) {
      this.a.exception_type = o.exception.type;
      this.a.exception_severity = o.exception.severity;
      this.a.exception_note = o.exception.note;
    }
    if (this.state === 64 || o.fatalException || o.waitstatus !== undefined) this.a.result = o.result;
  }

  /** The record for a response: id first, then the requested attributes that are set. */
  record(attrs: readonly string[], all: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { id: this.id };
    const names = all ? LIST_ATTRS : attrs;
    for (const k of names) {
      if (k === 'state') out.state = this.state;
      else if (k === 'result' || k === 'success') {
        if (this.state === 64 && this.a[k] !== undefined) out[k] = this.a[k];
      } else if (this.a[k] !== undefined) out[k] = this.a[k];
    }
    return out;
  }

  attr(k: string): unknown {
    return k === 'state' ? this.state : this.a[k];
  }
}
