/**
 * RFC 20 R version 1, the format in which the resource service describes the instance and the
 * scheduler hands a job its resources. R is built from per-rank core / GPU lists, shaped like
 * flux-core's output
 * (test/vectors/cli-resource-list.json): ranks with identical children share one R_lite entry
 * (`{"rank":"0-3","children":{"core":"0-7"}}`), key order `R_lite, starttime, expiration,
 * nodelist`, and the empty set is `{"R_lite":[], …, "nodelist":[""]}`.
 */
import { decodeIdset, encodeIdset } from './idset.js';
import { encodeHostlist } from './hostlist.js';

/** RFC 20 resource set, version 1. */
export interface Rv1 {
  version: 1;
  execution: {
    R_lite: { rank: string; children: { core?: string; gpu?: string } }[];
    nodelist: string[];
    starttime: number;
    expiration: number;
  };
}

/** One broker rank's resources. Ids are ascending and distinct. */
export interface RankResources {
  rank: number;
  hostname: string;
  cores: number[];
  gpus: number[];
}

/** The instance's resource set: every rank, in rank order. */
export interface InstanceResources {
  ranks: RankResources[];
}

/** Cores and GPUs of one rank (a whole rank, or the part of it a job holds). */
export interface RankAlloc {
  rank: number;
  cores: number[];
  gpus: number[];
}

/**
 * Rv1 of the given ranks (empty core/GPU lists are left out of `children`; ranks with neither
 * are skipped). `hostname(rank)` names each rank's node for `nodelist`.
 */
export function toRv1(
  ranks: readonly RankAlloc[],
  hostname: (rank: number) => string,
  starttime = 0,
  expiration = 0,
): Rv1 {
  const sorted = ranks.filter((r) => r.cores.length > 0 || r.gpus.length > 0).sort((a, b) => a.rank - b.rank);
  const groups = new Map<string, { ranks: number[]; children: { core?: string; gpu?: string } }>();
  for (const r of sorted) {
    const children: { core?: string; gpu?: string } = {};
    if (r.cores.length > 0) children.core = encodeIdset(r.cores);
    if (r.gpus.length > 0) children.gpu = encodeIdset(r.gpus);
    const key = `${children.core ?? ''}/${children.gpu ?? ''}`;
    const g = groups.get(key);
    if (g) g.ranks.push(r.rank);
    else groups.set(key, { ranks: [r.rank], children });
  }
  return {
    version: 1,
    execution: {
      R_lite: [...groups.values()].map((g) => ({ rank: encodeIdset(g.ranks), children: g.children })),
      starttime,
      expiration,
      nodelist: [encodeHostlist(sorted.map((r) => hostname(r.rank)))],
    },
  } as Rv1;
}

/** The ranks of an Rv1 (inverse of toRv1's R_lite). Throws IdsetError on malformed idsets. */
export function fromRv1(R: Rv1): RankAlloc[] {
  const out = new Map<number, RankAlloc>();
  for (const e of R?.execution?.R_lite ?? []) {
    const cores = e.children?.core ? decodeIdset(e.children.core) : [];
    const gpus = e.children?.gpu ? decodeIdset(e.children.gpu) : [];
    for (const rank of decodeIdset(e.rank)) out.set(rank, { rank, cores, gpus });
  }
  return [...out.values()].sort((a, b) => a.rank - b.rank);
}

/**
 * sched-simple's `resource_summary` annotation (rlist_dumps): `rank0/core0`,
 * `rank0/core[0-1],gpu0`, `rank[0-1]/core[0-3]`; groups separated by a space.
 */
export function resourceSummary(ranks: readonly RankAlloc[]): string {
  const groups = new Map<string, number[]>();
  for (const r of [...ranks].sort((a, b) => a.rank - b.rank)) {
    const parts: string[] = [];
    if (r.cores.length > 0) parts.push(`core${encodeIdset(r.cores, true)}`);
    if (r.gpus.length > 0) parts.push(`gpu${encodeIdset(r.gpus, true)}`);
    const key = parts.join(',');
    const g = groups.get(key);
    if (g) g.push(r.rank);
    else groups.set(key, [r.rank]);
  }
  return [...groups.entries()].map(([k, rs]) => `rank${encodeIdset(rs, true)}/${k}`).join(' ');
}
