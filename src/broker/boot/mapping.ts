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
