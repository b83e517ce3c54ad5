/**
 * The scheduler's policy core: pure state transitions, no I/O, no timers, no broker (the
 * HyperQueue way: docs/architecture.md). The `sched` service (sched.ts) feeds it requests and turns its
 * allocations into Rv1 responses; tests drive it directly.
 *
 * `SchedPolicy` is the seam between the service and a policy. `FcfsPolicy` is strict FCFS,
 * flux sched-simple's default: jobs run in queue order (priority, higher first; then submit
 * time, earlier first), and a head that does not fit blocks everything behind it.
 *
 * A backfill policy slots in behind the same interface and reuses the two building blocks:
 * `JobQueue` (queue.ts: ordered, O(log n) updates, `ordered()` to walk past a blocked head)
 * and `ResourcePool` (pool.ts: accounting, `plan()` to probe without taking). It would keep
 * the head's reservation (from running jobs' expirations) and start later jobs from
 * `queue.ordered()` that fit now and end before it — overriding only what FcfsPolicy does
 * in `schedule()` when the head is blocked (see `whenBlocked`).
 */
import type { ResourceRequest } from '../contract.js';
import type { RankAlloc } from '../../job/rv1.js';
import { JobQueue, type QueuedJob } from './queue.js';
import { ResourcePool, checkRequest } from './pool.js';

/** A job waiting for resources. */
export interface PendingJob {
  id: bigint;
  /** Higher runs first (RFC 27 priority, 0 .. 2^32-1). */
  priority: number;
  /** Submit time (s); earlier runs first among equal priorities. */
  t_submit: number;
  request: ResourceRequest;
}

/** Resources handed to a job: per rank, the cores and GPUs it holds. */
export interface Allocation {
  id: bigint;
  ranks: RankAlloc[];
}

export interface ResourceStatus {
  /** Every rank's resources. */
  all: RankAlloc[];
  /** What is allocated now (ranks with nothing allocated are left out). */
  allocated: RankAlloc[];
  /** The offline ranks' resources. */
  down: RankAlloc[];
}

export interface SchedPolicy {
  /** Queue a job. Throws if the id is already pending or allocated. */
  enqueue(job: PendingJob): void;
  /** Take a pending job out of the queue. False if it was not pending. */
  remove(id: bigint): boolean;
  /** Change a pending job's priority. False if it was not pending. */
  reprioritize(id: bigint, priority: number): boolean;
  /** Give back an allocated job's resources. False (nothing changes) if it holds none. */
  free(id: bigint): boolean;
  /** Allocations to hand out now, in the order they were made. */
  schedule(): Allocation[];
  /** Take ranks offline: nothing new is placed on them (ResourcePool.setDown); or back online. */
  setDown(ranks: readonly number[], down?: boolean): void;
  /** undefined if the request could ever run on this instance, else the reason. */
  feasible(request: ResourceRequest): string | undefined;
  status(): ResourceStatus;
  /** 'pending', 'allocated' or undefined (unknown to the policy). */
  state(id: bigint): 'pending' | 'allocated' | undefined;
  readonly npending: number;
  readonly nallocated: number;
}

/** Work counters (tests check complexity with them, never with the clock). */
export interface PolicyCounters {
  /** Queue comparisons (heap operations). */
  compares: number;
  /** Placement attempts that scanned ranks (not rejected on the free totals). */
  scans: number;
  /** schedule() calls that did anything beyond O(1) checks. */
  passes: number;
  /** Placement attempts on a queue head, successful or not. */
  attempts: number;
}

export class FcfsPolicy implements SchedPolicy {
  protected readonly queue = new JobQueue();
  protected readonly pool: ResourcePool;
  protected readonly allocs = new Map<bigint, RankAlloc[]>();
  /**
   * The head that did not fit last time, while nothing has been freed since: schedule() skips
   * it in O(1). (A backfill subclass, which also looks behind the head, clears it on enqueue.)
   */
  protected blockedHead: QueuedJob | undefined;
  private attempts = 0;
  private passes = 0;

  constructor(ranks: readonly RankAlloc[]) {
    this.pool = new ResourcePool(ranks);
  }

  get npending(): number {
    return this.queue.size;
  }

  get nallocated(): number {
    return this.allocs.size;
  }

  get counters(): PolicyCounters {
    return { compares: this.queue.compares, scans: this.pool.scans, passes: this.passes, attempts: this.attempts };
  }

  state(id: bigint): 'pending' | 'allocated' | undefined {
    if (this.queue.has(id)) return 'pending';
    if (this.allocs.has(id)) return 'allocated';
    return undefined;
  }

  enqueue(job: PendingJob): void {
    if (this.queue.has(job.id)) throw new Error(`job ${job.id} is already pending`);
    if (this.allocs.has(job.id)) throw new Error(`job ${job.id} is already allocated`);
    this.queue.push({ id: job.id, priority: job.priority, t_submit: job.t_submit, request: job.request, pos: -1 });
  }

  remove(id: bigint): boolean {
    const job = this.queue.remove(id);
    if (job && job === this.blockedHead) this.blockedHead = undefined;
    return job !== undefined;
  }

  reprioritize(id: bigint, priority: number): boolean {
    return this.queue.reprioritize(id, priority);
  }

  free(id: bigint): boolean {
    const a = this.allocs.get(id);
    if (!a) return false;
    this.allocs.delete(id);
    this.pool.release(a);
    this.blockedHead = undefined;
    return true;
  }

  schedule(): Allocation[] {
    const out: Allocation[] = [];
    let head = this.queue.peek();
    // Nothing freed since this same head failed to fit: it still does not (O(1) per turn).
    if (!head || head === this.blockedHead) return out;
    this.passes++;
    while (head) {
      this.attempts++;
      const got = this.pool.fit(head.request);
      if (!got) {
        this.blockedHead = head;
        out.push(...this.whenBlocked(head));
        break;
      }
      this.queue.pop();
      this.allocs.set(head.id, got);
      out.push({ id: head.id, ranks: got });
      head = this.queue.peek();
    }
    return out;
  }

  /**
   * The seam for backfill: called when `head` does not fit; may allocate jobs behind it (and
   * must then take them out of the queue and record them in `allocs`). Strict FCFS: none.
   */
  protected whenBlocked(_head: QueuedJob): Allocation[] {
    return [];
  }

  feasible(request: ResourceRequest): string | undefined {
    return checkRequest(request) ?? this.pool.feasible(request);
  }

  status(): ResourceStatus {
    return { all: this.pool.all(), allocated: this.pool.allocated(), down: this.pool.down() };
  }

  setDown(ranks: readonly number[], down = true): void {
    this.pool.setDown(ranks, down);
  }

  /** The allocation a job holds (for checks and the service's bookkeeping). */
  allocationOf(id: bigint): RankAlloc[] | undefined {
    return this.allocs.get(id);
  }
}
