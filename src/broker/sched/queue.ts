/**
 * The pending-job queue: an indexed binary heap ordered by priority (higher first), then
 * submit time (earlier first), then job id (smaller, i.e. older FLUID, first). Each entry
 * remembers its heap slot, so remove and reprioritize are O(log n) without searching;
 * peek is O(1), push/pop O(log n). `ordered()` walks the queue in order lazily (O(k log k) for
 * the first k), which is what a backfill policy needs to look past a blocked head.
 */
import type { ResourceRequest } from '../contract.js';

export interface QueuedJob {
  readonly id: bigint;
  priority: number;
  readonly t_submit: number;
  readonly request: ResourceRequest;
  /** Position in the heap; -1 once out of the queue. Owned by JobQueue. */
  pos: number;
}

export class JobQueue {
  private readonly heap: QueuedJob[] = [];
  private readonly byId = new Map<bigint, QueuedJob>();
  /** Comparisons made so far (tests check the asymptotics with it, never the clock). */
  compares = 0;

  get size(): number {
    return this.heap.length;
  }

  get(id: bigint): QueuedJob | undefined {
    return this.byId.get(id);
  }

  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  peek(): QueuedJob | undefined {
    return this.heap[0];
  }

  /** True if a runs before b. */
  before(a: QueuedJob, b: QueuedJob): boolean {
    this.compares++;
    if (a.priority !== b.priority) return a.priority > b.priority;
    if (a.t_submit !== b.t_submit) return a.t_submit < b.t_submit;
    return a.id < b.id;
  }

  push(job: QueuedJob): void {
    if (this.byId.has(job.id)) throw new Error(`job ${job.id} is already queued`);
    this.byId.set(job.id, job);
    job.pos = this.heap.length;
    this.heap.push(job);
    this.up(job.pos);
  }

  pop(): QueuedJob | undefined {
    const top = this.heap[0];
    if (top) this.removeAt(0);
    return top;
  }

  remove(id: bigint): QueuedJob | undefined {
    const job = this.byId.get(id);
    if (job) this.removeAt(job.pos);
    return job;
  }

  /** Change a queued job's priority and restore the heap order. False if it is not queued. */
  reprioritize(id: bigint, priority: number): boolean {
    const job = this.byId.get(id);
    if (!job) return false;
    const old = job.priority;
    job.priority = priority;
    if (priority > old) this.up(job.pos);
    else if (priority < old) this.down(job.pos);
    return true;
  }

  /** The queued jobs in scheduling order, lazily (a side heap of candidate slots). */
  *ordered(): Generator<QueuedJob> {
    if (this.heap.length === 0) return;
    const side: number[] = [0];
    const less = (i: number, j: number) => this.before(this.heap[i]!, this.heap[j]!);
    while (side.length > 0) {
      // pop the best slot from the side heap
      const top = side[0]!;
      const last = side.pop()!;
      if (side.length > 0) {
        side[0] = last;
        let k = 0;
        for (;;) {
          const l = 2 * k + 1;
          const r = l + 1;
          let m = k;
          if (l < side.length && less(side[l]!, side[m]!)) m = l;
          if (r < side.length && less(side[r]!, side[m]!)) m = r;
          if (m === k) break;
          [side[k], side[m]] = [side[m]!, side[k]!];
          k = m;
        }
      }
      const size = this.heap.length;
      yield this.heap[top]!;
      if (this.heap.length !== size) throw new Error('JobQueue modified during ordered()');
      for (const c of [2 * top + 1, 2 * top + 2]) {
        if (c >= this.heap.length) continue;
        side.push(c);
        let k = side.length - 1;
        while (k > 0) {
          const p = (k - 1) >> 1;
          if (!less(side[k]!, side[p]!)) break;
          [side[k], side[p]] = [side[p]!, side[k]!];
          k = p;
        }
      }
    }
  }

  private removeAt(i: number): void {
    const job = this.heap[i]!;
    this.byId.delete(job.id);
    job.pos = -1;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.pos = i;
      this.up(i);
      this.down(last.pos);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const job = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.before(job, parent)) break;
      h[i] = parent;
      parent.pos = i;
      i = p;
    }
    h[i] = job;
    job.pos = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const job = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, job)) break;
      h[i] = h[c]!;
      h[i]!.pos = i;
      i = c;
    }
    h[i] = job;
    job.pos = i;
  }
}
