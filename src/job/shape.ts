/**
 * The shape of what a job asks for, read from its version 1 jobspec (RFC 25 resources and
 * tasks) the way flux-core's libjob/jj.c `jj_get_counts` reads it: nodes, task slots, cores and
 * GPUs per slot, whole nodes or not, and the number of tasks. Ingest turns it into the
 * scheduler's request, job-exec into the tasks it starts, job-list into ntasks / ncores /
 * nnodes, JobspecV1 into its getters.
 *
 * It reads what a validator may not have checked (a submit with FLUX_JOB_NOVALIDATE, a record
 * job-list is given): anything it cannot read makes the shape undefined, never a guess.
 */

export interface JobShape {
  /** Nodes asked for; 0 when the request has no node level (slots may go anywhere). */
  nnodes: number;
  /** Task slots in all (slots per node × nodes). */
  nslots: number;
  coresPerSlot: number;
  /** 0 when the slot holds no GPU. */
  gpusPerSlot: number;
  /** Whole nodes: the node vertex is `exclusive`. */
  exclusive: boolean;
}

/**
 * The shape of a jobspec's `resources`, or undefined when they cannot be read: not an array of
 * vertices, a vertex without a string type or an integer count >= 1, a type other than node,
 * slot, core or gpu, or no slot or no core at all.
 */
export function jobShape(jobspec: unknown): JobShape | undefined {
  const shape: JobShape = { nnodes: 0, nslots: 0, coresPerSlot: 0, gpusPerSlot: 0, exclusive: false };
  const level = (vertices: unknown): boolean => {
    if (!Array.isArray(vertices)) return false;
    for (const v of vertices) {
      if (!v || typeof v !== 'object') return false;
      const { type, count, with: children, exclusive } = v as Record<string, unknown>;
      if (typeof type !== 'string' || !Number.isInteger(count) || (count as number) <= 0) return false;
      const n = count as number;
      if (type === 'node') {
        shape.nnodes = n;
        if (exclusive === true) shape.exclusive = true;
      } else if (type === 'slot') shape.nslots = n;
      else if (type === 'core') shape.coresPerSlot = n;
      else if (type === 'gpu') shape.gpusPerSlot = n;
      else return false;
      if (children !== undefined && !level(children)) return false;
    }
    return true;
  };
  if (!jobspec || typeof jobspec !== 'object') return undefined;
  if (!level((jobspec as { resources?: unknown }).resources)) return undefined;
  if (shape.nslots <= 0 || shape.coresPerSlot <= 0) return undefined;
  if (shape.nnodes) shape.nslots *= shape.nnodes;
  return shape;
}

/**
 * Number of tasks: `tasks[0].count.total`, or `per_slot` (1 when absent) × the slots (1 when
 * the resources cannot be read).
 */
export function taskCount(jobspec: unknown, shape: JobShape | undefined = jobShape(jobspec)): number {
  const count = (jobspec as { tasks?: { count?: { total?: unknown; per_slot?: unknown } }[] } | null)?.tasks?.[0]
    ?.count ?? { per_slot: 1 };
  if (typeof count.total === 'number') return count.total;
  const per = typeof count.per_slot === 'number' ? count.per_slot : 1;
  return per * (shape?.nslots ?? 1);
}
