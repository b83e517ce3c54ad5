/**
 * The tree overlay's shape (docs/protocol.md §F.3): `kary:K`, where the parent of rank i ≥ 1
 * is floor((i-1)/K) and the children of i are K*i+1 .. K*i+K; `kary:0` makes rank 0 the parent
 * of every other rank. Flux's default is kary:32 (`-Stbon.topo`); the legacy `-Stbon.fanout=K`
 * means kary:K.
 */
import { Errno, FluxError } from '../../protocol/errno.js';

export const DEFAULT_TOPO = 'kary:32';

export class Topology {
  constructor(
    readonly size: number,
    /** K of kary:K (0: flat). */
    readonly k: number,
  ) {}

  /** From the `tbon.topo` and `tbon.fanout` attributes (either, or neither: kary:32). */
  static fromAttrs(size: number, topo: string | undefined, fanout: string | undefined): Topology {
    let k: number | undefined;
    if (fanout !== undefined) {
      if (!/^\d+$/.test(fanout)) throw new FluxError(Errno.EINVAL, `tbon.fanout=${fanout}: not a number >= 0`);
      k = Number(fanout);
    }
    if (topo !== undefined) {
      const m = /^kary:(\d+)$/.exec(topo);
      if (!m) {
        throw new FluxError(
          Errno.EINVAL,
          `tbon.topo=${topo}: tsflux knows only kary:K (mincrit, binomial and custom are not implemented)`,
        );
      }
      if (k !== undefined && Number(m[1]) !== k) {
        throw new FluxError(Errno.EINVAL, `tbon.topo=${topo} and tbon.fanout=${fanout} disagree`);
      }
      k = Number(m[1]);
    }
    return new Topology(size, k ?? 32);
  }

  get name(): string {
    return `kary:${this.k}`;
  }

  parent(rank: number): number | undefined {
    if (rank <= 0 || rank >= this.size) return undefined;
    return this.k === 0 ? 0 : Math.floor((rank - 1) / this.k);
  }

  children(rank: number): number[] {
    const out: number[] = [];
    if (this.k === 0) {
      if (rank === 0) for (let i = 1; i < this.size; i++) out.push(i);
      return out;
    }
    for (let i = this.k * rank + 1; i <= this.k * rank + this.k && i < this.size; i++) out.push(i);
    return out;
  }

  level(rank: number): number {
    let n = 0;
    for (let r = this.parent(rank); r !== undefined; r = this.parent(r)) n++;
    return n;
  }

  /** Depth of the tree: the level of the last rank (levels do not decrease with rank). */
  get maxlevel(): number {
    return this.level(this.size - 1);
  }

  /** Ranks below `rank`. */
  descendants(rank: number): number {
    let n = 0;
    const todo = this.children(rank);
    while (todo.length > 0) {
      const r = todo.pop()!;
      n++;
      todo.push(...this.children(r));
    }
    return n;
  }

  /** The child of `me` on the way down to `target`, or undefined if `target` is not below `me`. */
  childToward(me: number, target: number): number | undefined {
    if (target <= me || target >= this.size) return undefined;
    let r = target;
    for (;;) {
      const p = this.parent(r);
      if (p === undefined) return undefined;
      if (p === me) return r;
      if (p < me) return undefined;
      r = p;
    }
  }

  /** Rank 0 and every rank with children (Flux's default `broker.critical-ranks`). */
  criticalRanks(): number[] {
    const out = [0];
    for (let r = 1; r < this.size; r++) if (this.children(r).length > 0) out.push(r);
    return out;
  }
}
