/**
 * job-manager.wait (flux-core job-manager/wait.c; docs/protocol.md §B "Wait"): waitable jobs
 * are reaped once, by id or "any" (-1). Zombies are finished waitable jobs nobody reaped yet.
 */
import { Errno } from '../../protocol/errno.js';
import type { ConnId, Request } from '../service.js';
import type { Job } from './job.js';
import { SubmitFlags } from '../../job/submit-flags.js';

export interface WaitResult {
  id: bigint;
  success: boolean;
  errstr: string;
}

export class WaitRegistry {
  /** Finished waitable jobs not yet reaped, in completion order. */
  private readonly zombies = new Map<bigint, WaitResult>();
  /** Outstanding wait-any requests, oldest first. */
  private readonly anyWaiters: Request[] = [];
  /** Active waitable jobs (not yet inactive). */
  private activeWaitable = 0;
  /** Active waitable jobs that have a waiter for their id. */
  private activeWithWaiter = 0;

  constructor(
    private readonly lookup: (id: bigint) => Job | undefined,
    private readonly encodeId: (id: bigint) => bigint | number,
    /** A job's result was handed to a waiter (it is never handed out again). */
    private readonly reaped: (id: bigint) => void = () => {},
  ) {}

  jobSubmitted(job: Job): void {
    if (job.flags & SubmitFlags.WAITABLE) this.activeWaitable++;
  }

  private reply(req: Request, r: WaitResult): void {
    this.reaped(r.id);
    req.respond({ id: this.encodeId(r.id), success: r.success, errstr: r.errstr });
  }

  /** A job became inactive: hand its result to a waiter, or keep it as a zombie. */
  jobInactive(job: Job, result: WaitResult): void {
    if (!(job.flags & SubmitFlags.WAITABLE)) return;
    this.activeWaitable--;
    if (job.waiter) {
      const w = job.waiter;
      job.waiter = undefined;
      this.activeWithWaiter--;
      this.reply(w, result);
      return;
    }
    const w = this.anyWaiters.shift();
    if (w) this.reply(w, result);
    else this.zombies.set(job.id, result);
  }

  /** A purged job: its result can no longer be reaped. */
  forget(id: bigint): void {
    this.zombies.delete(id);
  }

  isZombie(id: bigint): boolean {
    return this.zombies.has(id);
  }

  get zombieCount(): number {
    return this.zombies.size;
  }

  wait(req: Request, id: bigint, any: boolean): void {
    if (any) {
      const first = this.zombies.entries().next();
      if (!first.done) {
        this.zombies.delete(first.value[0]);
        return this.reply(req, first.value[1]);
      }
      if (this.activeWaitable - this.activeWithWaiter > this.anyWaiters.length) {
        this.anyWaiters.push(req);
        return;
      }
      return req.error(Errno.ECHILD, 'there are no more waitable jobs');
    }
    const z = this.zombies.get(id);
    if (z) {
      this.zombies.delete(id);
      return this.reply(req, z);
    }
    const job = this.lookup(id);
    if (!job || job.state === 64)
      return req.error(Errno.ECHILD, 'invalid job id, or job may be inactive and not waitable');
    if (!(job.flags & SubmitFlags.WAITABLE))
      return req.error(Errno.ECHILD, 'job was not submitted with FLUX_JOB_WAITABLE');
    if (job.waiter) return req.error(Errno.ECHILD, 'job id already has a waiter');
    job.waiter = req;
    this.activeWithWaiter++;
  }

  /** Drop every wait of a client that went away (wait_disconnect_rpc). */
  disconnect(conn: ConnId, activeJobs: Iterable<Job>): void {
    for (let i = this.anyWaiters.length - 1; i >= 0; i--) {
      if (this.anyWaiters[i]!.conn === conn) this.anyWaiters.splice(i, 1);
    }
    for (const job of activeJobs) {
      if (job.waiter?.conn === conn) {
        job.waiter = undefined;
        this.activeWithWaiter--;
      }
    }
  }

  /** At shutdown: fail every outstanding wait. */
  failAll(errnum: number, text: string): void {
    for (const w of this.anyWaiters.splice(0)) w.error(errnum, text);
  }
}
