/**
 * Resource accounting over the instance's ranks: which cores and GPUs are free, where a request
 * fits, taking and giving back. Pure data, no I/O.
 *
 * Placement (`plan`), for a request of nslots slots × (coresPerSlot cores + gpusPerSlot GPUs):
 * - a slot never spans ranks;
 * - nnodes = 0: slots go to the lowest ranks with room (first fit), as many per rank as fit;
 * - nnodes > 0: exactly nnodes distinct ranks, nslots / nnodes slots on each (when it does not
 *   divide, the first nslots % nnodes ranks chosen get one more), lowest ranks first;
 * - exclusive: only ranks with nothing allocated are used, and the job gets the whole rank
 *   (every core and GPU), however few slots it places there.
 * Within a rank the lowest free core and GPU ids are taken. Offline ranks (setDown) take nothing.
 *
 * Cost of a fit: O(1) to reject on the free totals, else O(ranks + cores of the ranks used).
 */
import type { ResourceRequest } from '../contract.js';
import type { RankAlloc } from '../../job/rv1.js';

interface RankState {
  readonly rank: number;
  readonly cores: readonly number[];
  readonly gpus: readonly number[];
  readonly coreIndex: Map<number, number>;
  readonly gpuIndex: Map<number, number>;
  /** 1 = free, by index into cores / gpus. */
  readonly coreFree: Uint8Array;
  readonly gpuFree: Uint8Array;
  nfreeCores: number;
  nfreeGpus: number;
  /** Offline (its broker was lost): nothing new is placed on it. */
  down: boolean;
}

/** One rank of a placement: how many slots go there, or the whole rank (exclusive). */
export interface PlanEntry {
  index: number;
  slots: number;
  whole: boolean;
}

/** How many slots of a shape fit in so many cores and GPUs. */
function slotsIn(cores: number, gpus: number, cps: number, gps: number): number {
  const a = cps > 0 ? Math.floor(cores / cps) : Infinity;
  const b = gps > 0 ? Math.floor(gpus / gps) : Infinity;
  return Math.min(a, b);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function gpuWord(n: number): string {
  return `${n} GPU${n === 1 ? '' : 's'}`;
}

/** "2 cores", "1 core and 1 GPU", "1 GPU". */
export function slotShape(cps: number, gps: number): string {
  if (gps === 0) return plural(cps, 'core');
  if (cps === 0) return gpuWord(gps);
  return `${plural(cps, 'core')} and ${gpuWord(gps)}`;
}

/**
 * Is this a well-formed ResourceRequest? undefined if so, else what is wrong (a protocol
 * error, not an unsatisfiable request).
 */
export function checkRequest(r: unknown): string | undefined {
  if (r === null || typeof r !== 'object') return 'request must be an object';
  const q = r as Record<string, unknown>;
  const int = (k: string, min: number): string | undefined => {
    const v = q[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      return `request.${k} must be an integer >= ${min}`;
    return undefined;
  };
  const err = int('nslots', 1) ?? int('coresPerSlot', 0) ?? int('gpusPerSlot', 0) ?? int('nnodes', 0);
  if (err) return err;
  if (typeof q.exclusive !== 'boolean') return 'request.exclusive must be a boolean';
  if (typeof q.duration !== 'number' || !(q.duration >= 0) || !Number.isFinite(q.duration)) {
    return 'request.duration must be a number >= 0';
  }
  if ((q.coresPerSlot as number) === 0 && (q.gpusPerSlot as number) === 0)
    return 'a slot must request at least one core or GPU';
  if ((q.nnodes as number) > (q.nslots as number)) {
    return `request has fewer slots (${q.nslots}) than nodes (${q.nnodes})`;
  }
  return undefined;
}

export class ResourcePool {
  private readonly ranks: RankState[];
  private readonly byRank = new Map<number, RankState>();
  readonly totalCores: number;
  readonly totalGpus: number;
  readonly maxCoresPerRank: number;
  readonly maxGpusPerRank: number;
  freeCores: number;
  freeGpus: number;
  /** Fit attempts that got past the O(1) totals check (tests count work with it). */
  scans = 0;

  constructor(ranks: readonly RankAlloc[]) {
    this.ranks = [...ranks]
      .sort((a, b) => a.rank - b.rank)
      .map((r) => {
        const cores = [...new Set(r.cores)].sort((a, b) => a - b);
        const gpus = [...new Set(r.gpus)].sort((a, b) => a - b);
        return {
          rank: r.rank,
          cores,
          gpus,
          coreIndex: new Map(cores.map((id, i) => [id, i])),
          gpuIndex: new Map(gpus.map((id, i) => [id, i])),
          coreFree: new Uint8Array(cores.length).fill(1),
          gpuFree: new Uint8Array(gpus.length).fill(1),
          nfreeCores: cores.length,
          nfreeGpus: gpus.length,
          down: false,
        };
      });
    for (const r of this.ranks) {
      if (this.byRank.has(r.rank)) throw new Error(`rank ${r.rank} is listed twice`);
      this.byRank.set(r.rank, r);
    }
    this.totalCores = this.freeCores = this.ranks.reduce((n, r) => n + r.cores.length, 0);
    this.totalGpus = this.freeGpus = this.ranks.reduce((n, r) => n + r.gpus.length, 0);
    this.maxCoresPerRank = this.ranks.reduce((n, r) => Math.max(n, r.cores.length), 0);
    this.maxGpusPerRank = this.ranks.reduce((n, r) => Math.max(n, r.gpus.length), 0);
  }

  get nranks(): number {
    return this.ranks.length;
  }

  /**
   * Where the request would go: against what is free now, or (capacity) against the whole
   * instance as if nothing were allocated. undefined = does not fit.
   */
  plan(req: ResourceRequest, capacity = false): PlanEntry[] | undefined {
    const { nslots, coresPerSlot: cps, gpusPerSlot: gps, nnodes, exclusive } = req;
    if (!capacity) {
      if (this.freeCores < nslots * cps || this.freeGpus < nslots * gps) return undefined;
      this.scans++;
    }
    const freeC = (r: RankState) => (capacity ? r.cores.length : r.nfreeCores);
    const freeG = (r: RankState) => (capacity ? r.gpus.length : r.nfreeGpus);
    const whollyFree = (r: RankState) => capacity || (r.nfreeCores === r.cores.length && r.nfreeGpus === r.gpus.length);
    /** Slots this rank can take now. */
    const room = (r: RankState) =>
      !capacity && r.down
        ? 0
        : exclusive
          ? whollyFree(r)
            ? slotsIn(r.cores.length, r.gpus.length, cps, gps)
            : 0
          : slotsIn(freeC(r), freeG(r), cps, gps);

    const out: PlanEntry[] = [];
    if (nnodes === 0) {
      let remaining = nslots;
      for (let i = 0; i < this.ranks.length && remaining > 0; i++) {
        const k = Math.min(room(this.ranks[i]!), remaining);
        if (k <= 0) continue;
        out.push({ index: i, slots: k, whole: exclusive });
        remaining -= k;
      }
      return remaining > 0 ? undefined : out;
    }
    if (nnodes > this.ranks.length) return undefined;
    const base = Math.floor(nslots / nnodes);
    const extra = nslots % nnodes;
    const used = new Uint8Array(this.ranks.length);
    // the ranks taking base+1 slots first, then those taking base
    for (const [want, count] of [
      [base + 1, extra],
      [base, nnodes - extra],
    ] as const) {
      let got = 0;
      for (let i = 0; i < this.ranks.length && got < count; i++) {
        if (used[i] || room(this.ranks[i]!) < want) continue;
        used[i] = 1;
        out.push({ index: i, slots: want, whole: exclusive });
        got++;
      }
      if (got < count) return undefined;
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Plan against what is free and take it: the allocation, or undefined if it does not fit now. */
  fit(req: ResourceRequest): RankAlloc[] | undefined {
    const plan = this.plan(req);
    return plan ? this.take(plan, req) : undefined;
  }

  /** Mark a plan's cores and GPUs allocated (the lowest free ids of each rank). */
  take(plan: readonly PlanEntry[], req: ResourceRequest): RankAlloc[] {
    const out: RankAlloc[] = [];
    for (const e of plan) {
      const r = this.ranks[e.index]!;
      const nc = e.whole ? r.cores.length : e.slots * req.coresPerSlot;
      const ng = e.whole ? r.gpus.length : e.slots * req.gpusPerSlot;
      if (nc > r.nfreeCores || ng > r.nfreeGpus) throw new Error(`internal: plan over-allocates rank ${r.rank}`);
      const cores = pick(r.cores, r.coreFree, nc);
      const gpus = pick(r.gpus, r.gpuFree, ng);
      r.nfreeCores -= nc;
      r.nfreeGpus -= ng;
      this.freeCores -= nc;
      this.freeGpus -= ng;
      out.push({ rank: r.rank, cores, gpus });
    }
    return out;
  }

  /** Give an allocation back. Throws if any of it is not allocated (accounting would break). */
  release(alloc: readonly RankAlloc[]): void {
    // check everything first, so a bad release changes nothing
    for (const a of alloc) {
      const r = this.byRank.get(a.rank);
      if (!r) throw new Error(`release: unknown rank ${a.rank}`);
      for (const c of a.cores) {
        const i = r.coreIndex.get(c);
        if (i === undefined || r.coreFree[i]) throw new Error(`release: core ${c} of rank ${a.rank} is not allocated`);
      }
      for (const g of a.gpus) {
        const i = r.gpuIndex.get(g);
        if (i === undefined || r.gpuFree[i]) throw new Error(`release: gpu ${g} of rank ${a.rank} is not allocated`);
      }
    }
    for (const a of alloc) {
      const r = this.byRank.get(a.rank)!;
      for (const c of a.cores) r.coreFree[r.coreIndex.get(c)!] = 1;
      for (const g of a.gpus) r.gpuFree[r.gpuIndex.get(g)!] = 1;
      r.nfreeCores += a.cores.length;
      r.nfreeGpus += a.gpus.length;
      this.freeCores += a.cores.length;
      this.freeGpus += a.gpus.length;
    }
  }

  /**
   * Take ranks offline (their brokers were lost): nothing new is placed on them; what jobs hold
   * there is still given back by release(); `down` false puts them back in use (a torpid broker
   * that answers again). Feasibility still counts them (as Flux's
   * sched-simple does: a job that needs them waits). Unknown ranks are ignored.
   */
  setDown(ranks: readonly number[], down = true): void {
    for (const rank of ranks) {
      const r = this.byRank.get(rank);
      if (r) r.down = down;
    }
  }

  /** The offline ranks' cores and GPUs. */
  down(): RankAlloc[] {
    return this.ranks.filter((r) => r.down).map((r) => ({ rank: r.rank, cores: [...r.cores], gpus: [...r.gpus] }));
  }

  /** Every rank's cores and GPUs. */
  all(): RankAlloc[] {
    return this.ranks.map((r) => ({ rank: r.rank, cores: [...r.cores], gpus: [...r.gpus] }));
  }

  /** What is allocated now, per rank (ranks with nothing allocated are left out). */
  allocated(): RankAlloc[] {
    const out: RankAlloc[] = [];
    for (const r of this.ranks) {
      if (r.nfreeCores === r.cores.length && r.nfreeGpus === r.gpus.length) continue;
      out.push({
        rank: r.rank,
        cores: r.cores.filter((_, i) => !r.coreFree[i]),
        gpus: r.gpus.filter((_, i) => !r.gpuFree[i]),
      });
    }
    return out;
  }

  /**
   * Could the request ever run here (on the whole instance, nothing else allocated)? undefined
   * if so, else an `unsatisfiable request: …` message naming the numbers. The request must have
   * passed checkRequest.
   */
  feasible(req: ResourceRequest): string | undefined {
    const { nslots, coresPerSlot: cps, gpusPerSlot: gps, nnodes } = req;
    const why = (s: string) => `unsatisfiable request: ${s}`;
    if (cps > this.maxCoresPerRank) {
      return why(`${plural(cps, 'core')} per slot, but a node has at most ${plural(this.maxCoresPerRank, 'core')}`);
    }
    if (nslots * cps > this.totalCores) {
      return why(`${plural(nslots * cps, 'core')} requested, instance has ${this.totalCores}`);
    }
    if (nslots * gps > this.totalGpus) {
      return why(`${gpuWord(nslots * gps)} requested, instance has ${this.totalGpus}`);
    }
    if (gps > this.maxGpusPerRank) {
      return why(`${gpuWord(gps)} per slot, but a node has at most ${gpuWord(this.maxGpusPerRank)}`);
    }
    if (nnodes > this.ranks.length) {
      return why(`${plural(nnodes, 'node')} requested, instance has ${this.ranks.length}`);
    }
    if (this.plan(req, true)) return undefined;
    const shape = slotShape(cps, gps);
    if (nnodes > 0) {
      const per = Math.ceil(nslots / nnodes);
      const best = this.ranks.reduce((n, r) => Math.max(n, slotsIn(r.cores.length, r.gpus.length, cps, gps)), 0);
      return why(
        `${plural(per, 'slot')} of ${shape} per node on ${plural(nnodes, 'node')}, but a node holds at most ${plural(best, 'slot')}` +
          (per * cps > this.maxCoresPerRank && cps > 0
            ? ` (it has at most ${plural(this.maxCoresPerRank, 'core')})`
            : ''),
      );
    }
    const cap = this.ranks.reduce((n, r) => n + slotsIn(r.cores.length, r.gpus.length, cps, gps), 0);
    return why(
      `${plural(nslots, 'slot')} of ${shape}, but the instance holds at most ${cap} (a slot cannot span nodes)`,
    );
  }
}

/** The n lowest free ids (and mark them taken). */
function pick(ids: readonly number[], free: Uint8Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length && out.length < n; i++) {
    if (free[i]) {
      free[i] = 0;
      out.push(ids[i]!);
    }
  }
  return out;
}
