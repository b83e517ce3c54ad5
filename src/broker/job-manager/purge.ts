/**
 * Purging old inactive jobs (flux-core job-manager/purge.c): from the manager's memory, from the
 * store, and from job-list (the `job-purge-inactive` event, `{jobs: [id, ...]}`).
 *
 * Limits, from `[job-manager]` in the configuration or `tsflux start --purge-age/--purge-count`
 * (which win):
 *   inactive-age-limit = "FSD"   purge a job this long after it became inactive
 *   inactive-num-limit = N       keep at most N inactive jobs (the oldest go first)
 * A job is purged when either limit is exceeded. With a limit set, a pass runs every second
 * (flux-core: every heartbeat). `job-manager.purge` `{age_limit, num_limit, batch, force}` →
 * `{count}` purges on demand (`tsflux job purge`), or with force false only counts.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { parseFsd } from '../../job/fsd.js';
import type { Job } from './job.js';

export const UNLIMITED = -1;
/** Most jobs purged by one `job-manager.purge` request (flux-core's purge_batch_max). */
export const PURGE_BATCH_MAX = 100;

export interface PurgeLimits {
  /** Seconds, or UNLIMITED. */
  age: number;
  /** Jobs, or UNLIMITED. */
  num: number;
}

/** The keys of `[job-manager]` tsflux acts on; any other is refused, naming it. */
const KNOWN_KEYS = ['inactive-age-limit', 'inactive-num-limit'];

/** `[job-manager]` of a configuration object → limits; FluxError EINVAL naming the bad key. */
export function purgeLimits(conf: unknown): PurgeLimits {
  const limits: PurgeLimits = { age: UNLIMITED, num: UNLIMITED };
  const t = (conf as Record<string, unknown> | undefined)?.['job-manager'];
  if (t === undefined) return limits;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) {
    throw new FluxError(Errno.EINVAL, 'job-manager: must be a table');
  }
  const table = t as Record<string, unknown>;
  for (const k of Object.keys(table)) {
    if (!KNOWN_KEYS.includes(k)) {
      throw new FluxError(
        Errno.EINVAL,
        `job-manager.${k}: tsflux does not implement this key (it reads ${KNOWN_KEYS.join(', ')})`,
      );
    }
  }
  const age = table['inactive-age-limit'];
  if (age !== undefined) {
    if (typeof age !== 'string') throw new FluxError(Errno.EINVAL, 'job-manager.inactive-age-limit: invalid FSD');
    try {
      limits.age = parseFsd(age);
    } catch {
      throw new FluxError(Errno.EINVAL, 'job-manager.inactive-age-limit: invalid FSD');
    }
  }
  const num = table['inactive-num-limit'];
  if (num !== undefined) {
    const n = typeof num === 'bigint' ? Number(num) : num;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      throw new FluxError(Errno.EINVAL, 'job-manager.inactive-num-limit: must be an integer');
    }
    if (n < 0) throw new FluxError(Errno.EINVAL, 'job-manager.inactive-num-limit: must be >= 0');
    limits.num = n;
  }
  return limits;
}

/** Inactive jobs in the order they became inactive, and which of them the limits let go. */
export class PurgeQueue {
  private queue: Job[] = [];
  private head = 0;

  get size(): number {
    return this.queue.length - this.head;
  }

  add(job: Job): void {
    this.queue.push(job);
  }

  /** After a restart: every inactive job, oldest first. */
  addAll(jobs: Job[]): void {
    jobs.sort((a, b) => (a.t_inactive ?? 0) - (b.t_inactive ?? 0));
    for (const j of jobs) this.queue.push(j);
  }

  private eligible(job: Job, now: number, remaining: number, limits: PurgeLimits): boolean {
    if (limits.age !== UNLIMITED && now - (job.t_inactive ?? 0) > limits.age) return true;
    return limits.num !== UNLIMITED && remaining > limits.num;
  }

  /** How many jobs the limits would purge now. */
  count(now: number, limits: PurgeLimits): number {
    let n = 0;
    while (n < this.size && this.eligible(this.queue[this.head + n]!, now, this.size - n, limits)) n++;
    return n;
  }

  /** Take up to `max` jobs the limits let go, oldest first. */
  take(now: number, limits: PurgeLimits, max = Infinity): Job[] {
    const out: Job[] = [];
    while (out.length < max && this.size > 0 && this.eligible(this.queue[this.head]!, now, this.size, limits)) {
      out.push(this.queue[this.head++]!);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
