/**
 * job-ingest.submit (docs/protocol.md §B): unwrap J, validate the jobspec (and, with the
 * feasibility validator configured, check that the job can ever run here: config.ts), assign a
 * FLUID, commit the batch to the store, hand it to the manager, and only then answer `{id}`
 * (docs/architecture.md: durable before acknowledged).
 *
 * Work is batched per event-loop turn: a burst of pipelined submits becomes one store commit
 * and one job-manager.submit.
 */
import { Errno, FluxError, errnoOf } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { jobIdToWire } from '../../protocol/json.js';
import { FluidGenerator, fluidTimestamp } from '../../job/fluid.js';
import { SUBMIT_REQUEST_FLAGS, SubmitFlags } from '../../job/submit-flags.js';
import { encodeEvent, eventTime as now } from '../../job/eventlog.js';
import type { BrokerContext, Method, Request, Service } from '../service.js';
import type { ResourceRequest, SubmitJob } from '../contract.js';
import type { NewJobRecord } from '../store/store.js';
import { JDecoder, type Decoded } from './decode.js';
import { ingestSettings, type IngestSettings } from './config.js';

/** Largest jobspec accepted (bytes); the broker keeps every jobspec, so bound it. */
export const MAX_JOBSPEC_SIZE = 8 * 1024 * 1024;

interface Pending {
  req: Request;
  urgency: number;
  flags: number;
  d: Decoded;
  /** The validators run on it (not with FLUX_JOB_NOVALIDATE or `disable`). */
  validated: boolean;
}

export class JobIngest implements Service {
  readonly name = 'job-ingest';
  private ctx!: BrokerContext;
  private fluid!: FluidGenerator;
  private batch: Pending[] = [];
  private readonly decoder = new JDecoder();
  private flushScheduled = false;
  private shuttingDown = false;
  private settings!: IngestSettings;
  /** Why jobs cannot run here now (job-exec has no task launcher), or undefined. */
  private disabled: string | undefined;
  /** Any user may submit; what only the owner may ask for is checked per request. */
  readonly methods: Record<string, Method> = {
    submit: { roles: Role.USER, handler: (req) => this.submit(req) },
    'config-reload': { roles: 'internal', handler: (req) => this.configReload(req) },
  };

  async start(ctx: BrokerContext): Promise<void> {
    this.ctx = ctx;
    // After a restart, ids go on above every id the store has seen (flux-core's checkpoint)
    const last = ctx.store.maxJobId();
    this.fluid = new FluidGenerator({ generator: ctx.rank, startTs: last > 0n ? fluidTimestamp(last) + 1 : 0 });
    this.settings = ingestSettings(await ctx.rpc('config.get'));
    // job-exec says when it cannot start tasks (its launcher died and no new one starts)
    ctx.subscribe('job-exec.launcher', (_topic, p: { running?: boolean; reason?: string }) => {
      this.disabled = p?.running === false ? String(p.reason ?? 'no task launcher') : undefined;
    });
  }

  /** A new configuration (from the config service): take it, or refuse it and keep ours. */
  private configReload(req: Request): void {
    try {
      this.settings = ingestSettings(req.payload);
    } catch (e) {
      const err = e as FluxError;
      return req.error(err.errno, err.message);
    }
    req.respond({});
  }

  stop(): void {
    this.shuttingDown = true;
  }

  private submit(req: Request): void {
    if (this.shuttingDown) return req.error(Errno.ENOSYS, 'job-ingest is shutting down');
    if (this.disabled !== undefined) return req.error(Errno.EAGAIN, `job submission is disabled: ${this.disabled}`);
    const p = req.payload;
    if (!p || typeof p.J !== 'string') return req.error(Errno.EPROTO, 'malformed request: J must be a string');
    const urgency = p.urgency ?? 16;
    const flags = p.flags ?? 0;
    if (!Number.isInteger(urgency) || urgency < 0 || urgency > 31)
      return req.error(Errno.EINVAL, 'urgency range is [0:31]');
    if (!Number.isInteger(flags) || (flags & ~SUBMIT_REQUEST_FLAGS) !== 0)
      return req.error(Errno.EINVAL, `invalid submit flags 0x${Number(flags).toString(16)}`);
    const isOwner = (req.rolemask & Role.OWNER) !== 0;
    if (!isOwner && urgency > 16) return req.error(Errno.EINVAL, 'only the instance owner can submit with urgency >16');
    if (!isOwner && flags & SubmitFlags.WAITABLE)
      return req.error(Errno.EINVAL, 'only the instance owner can submit with FLUX_JOB_WAITABLE');
    if (p.J.length > (MAX_JOBSPEC_SIZE * 4) / 3 + 1024) {
      return req.error(
        Errno.E2BIG,
        `jobspec is too large: about ${Math.round((p.J.length * 3) / 4)} bytes, the limit is ${MAX_JOBSPEC_SIZE}`,
      );
    }
    let d: Decoded;
    const validate = !this.settings.disabled && (!(flags & SubmitFlags.NOVALIDATE) || !isOwner);
    try {
      d = this.decoder.decode(p.J, req.userid, validate);
    } catch (e) {
      return req.error(errnoOf(e, Errno.EINVAL), (e as Error).message);
    }
    this.batch.push({ req, urgency, flags, d, validated: validate });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /**
   * The scheduler's verdict on each request: null (can run here) or the error to answer. One
   * question per distinct request object: jobs whose J was decoded once (decode.ts) share one.
   */
  private async feasibility(requests: ResourceRequest[]): Promise<(FluxError | null)[]> {
    const index = new Map<ResourceRequest, number>();
    const distinct: ResourceRequest[] = [];
    const which = requests.map((r) => {
      let i = index.get(r);
      if (i === undefined) {
        i = distinct.length;
        index.set(r, i);
        distinct.push(r);
      }
      return i;
    });
    const res = await this.ctx.rpc<{ errors: ({ errnum: number; errstr: string } | null)[] }>('sched.feasible', {
      requests: distinct,
    });
    const errs = distinct.map((_, i) => {
      const e = res.errors?.[i];
      return e ? new FluxError(e.errnum, e.errstr) : null;
    });
    return which.map((i) => errs[i]!);
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    // With the feasibility validator (not Flux's default), reject what can never run here (more
    // cores or GPUs than the instance has): one question to the scheduler per batch, about each
    // distinct request. Without it such a job is accepted and the scheduler raises an alloc
    // exception on it, as flux-core's does.
    const feasible: (FluxError | null)[] = batch.map(() => null);
    const asked = this.settings.feasibility ? batch.flatMap((p, i) => (p.validated ? [i] : [])) : [];
    if (asked.length > 0) {
      let answers: (FluxError | null)[];
      try {
        answers = await this.feasibility(asked.map((i) => batch[i]!.d.request));
      } catch (e) {
        answers = asked.map(() => e as FluxError);
      }
      asked.forEach((i, k) => (feasible[i] = answers[k]!));
    }
    const accepted: { p: Pending; job: SubmitJob }[] = [];
    const records: NewJobRecord[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const err = feasible[i];
      if (err) {
        // flux-core's scheduler answers feasibility.check with EOVERFLOW for a request it can never
        // satisfy (ENOSPC is "not now" in its terms and in sched's)
        p.req.error(err.errno === Errno.ENOSPC ? Errno.EOVERFLOW : err.errno, err.message);
        continue;
      }
      const id = this.fluid.next();
      const t_submit = now();
      const job: SubmitJob = {
        id,
        userid: p.d.userid,
        urgency: p.urgency,
        flags: p.flags,
        t_submit,
        jobspec: p.d.redacted,
        request: p.d.request,
      };
      accepted.push({ p, job });
      records.push({
        id,
        userid: p.d.userid,
        jobspec: p.d.jobspecText,
        eventlog: encodeEvent({
          timestamp: t_submit,
          name: 'submit',
          context: { userid: p.d.userid, urgency: p.urgency, flags: p.flags, version: 1 },
        }),
      });
    }
    if (accepted.length === 0) return;
    let refused: Map<bigint, string>;
    try {
      await this.ctx.store.createJobs(records);
      const r = await this.ctx.rpc<{ errors?: [bigint, string][] }>('job-manager.submit', {
        jobs: accepted.map((a) => a.job),
      });
      refused = new Map(r.errors ?? []);
    } catch (e) {
      const errno = errnoOf(e, Errno.EIO);
      for (const a of accepted) a.p.req.error(errno, `job commit failed: ${(e as Error).message}`);
      return;
    }
    // The manager refused some (a queue, a dependency): EINVAL with its text, as flux-core's
    // ingest answers, and their records leave the store.
    for (const a of accepted) {
      const text = refused.get(a.job.id);
      if (text === undefined) a.p.req.respond({ id: jobIdToWire(a.job.id) });
      else a.p.req.error(Errno.EINVAL, text);
    }
    if (refused.size > 0) {
      this.ctx.store
        .removeJobs([...refused.keys()])
        .catch((e: Error) => this.ctx.log('err', `job-ingest: removing refused jobs: ${e.message}`));
    }
  }
}
