/** job-manager.wait (docs/protocol.md §B "Wait"): reap a waitable job, by id or any. */
import { JOBID_ANY, jobIdToWire, toJobId } from '../../protocol/json.js';
import type { Flux } from '../handle.js';

export interface JobWaitResult {
  jobid: bigint;
  success: boolean;
  /** "" on success, else why the job failed (Python gives bytes; here a string). */
  errstr: string;
}

/** Wait for job `id` (default: any waitable job) to become inactive. */
export async function waitAsync(h: Flux, id: bigint = JOBID_ANY): Promise<JobWaitResult> {
  const r = await h.rpc<{ id: unknown; success: boolean; errstr: string }>('job-manager.wait', { id: jobIdToWire(id) });
  return { jobid: toJobId(r.id), success: r.success === true, errstr: r.errstr ?? '' };
}

/** Same as waitAsync: the flow of the seed's `flux.job.wait(h)`. */
export function wait(h: Flux, id?: bigint): Promise<JobWaitResult> {
  return waitAsync(h, id);
}
