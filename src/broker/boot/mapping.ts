/**
 * Where the processes of a job are: the PMI `PMI_process_mapping` value (MPICH's
 * `(vector,(start,nodes,ppn),...)`) as an RFC 34 task map (`broker.mapping`), and the node
 * each rank is on, which decides whether a broker's children share its node
 * (docs/protocol.md §F.2).
 */

/** One RFC 34 block: `nnodes` nodes from `start`, `ppn` tasks each, `repeat` times. */
export type TaskmapBlock = [start: number, nnodes: number, ppn: number, repeat: number];

/** Parse a PMI_process_mapping value; undefined when it is not one. */
export function parseProcessMapping(s: string): TaskmapBlock[] | undefined {
  const m = /^\s*\(\s*vector\s*,(.*)\)\s*$/.exec(s);
  if (!m) return undefined;
  const blocks: TaskmapBlock[] = [];
  const re = /\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s*(,|$)/y;
  const body = m[1]!.trim();
  re.lastIndex = 0;
  while (re.lastIndex < body.length) {
    const b = re.exec(body);
    if (!b) return undefined;
    const [start, nnodes, ppn] = [Number(b[1]), Number(b[2]), Number(b[3])];
    if (nnodes < 1 || ppn < 1) return undefined;
    blocks.push([start, nnodes, ppn, 1]);
  }
  return blocks.length > 0 ? blocks : undefined;
}

/** The node index of each of `size` ranks, tasks placed block by block (RFC 34). */
export function nodeOfRanks(map: readonly TaskmapBlock[], size: number): number[] {
  const out: number[] = [];
  let total = 0;
  for (const [, nnodes, ppn, repeat] of map) total += nnodes * ppn * repeat;
  if (total === 0) return out;
  while (out.length < size) {
    for (const [start, nnodes, ppn, repeat] of map) {
      for (let r = 0; r < repeat; r++) {
        for (let n = 0; n < nnodes; n++) {
          for (let t = 0; t < ppn && out.length < size; t++) out.push(start + n);
        }
      }
    }
  }
  return out;
}

/** The task map of `size` ranks on one node each (Slurm's `(vector,(0,N,1))`). */
export function onePerNode(size: number): TaskmapBlock[] {
  return [[0, size, 1, 1]];
}

/**
 * The task map of ranks whose node indexes are `nodes` (rank r on node nodes[r]), e.g. from a
 * rendezvous: runs of one node become blocks, consecutive nodes with the same count merge, and a
 * pattern that repeats (cyclic placement) becomes one block with a repeat count.
 */
export function taskmapOfNodes(nodes: readonly number[]): TaskmapBlock[] {
  const blocks: TaskmapBlock[] = [];
  for (let i = 0; i < nodes.length;) {
    let j = i;
    while (j < nodes.length && nodes[j] === nodes[i]) j++;
    const ppn = j - i;
    const last = blocks.at(-1);
    if (last && last[3] === 1 && last[2] === ppn && last[0] + last[1] === nodes[i]) last[1]++;
    else blocks.push([nodes[i]!, 1, ppn, 1]);
    i = j;
  }
  // [[a,n,p,1],[a,n,p,1],...] → [[a,n,p,k]]
  const out: TaskmapBlock[] = [];
  for (const b of blocks) {
    const last = out.at(-1);
    if (last && last[0] === b[0] && last[1] === b[1] && last[2] === b[2]) last[3] += b[3];
    else out.push([...b]);
  }
  return out;
}
