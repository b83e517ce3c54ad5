/** The resources a jobspec asks for, in the scheduler's terms (contract.ts): ingest derives it at submit, the job manager again at a restart. */
import { Errno, FluxError } from '../protocol/errno.js';
import { jobShape } from '../job/shape.js';
import type { ResourceRequest } from './contract.js';

/** Throws FluxError EINVAL when the resources cannot be read (only an unvalidated jobspec). */
export function resourceRequest(jobspec: any): ResourceRequest {
  const shape = jobShape(jobspec);
  if (!shape) {
    throw new FluxError(
      Errno.EINVAL,
      'jobspec: resources: cannot read a request (node, slot, core and gpu vertices with counts >= 1, a slot with cores)',
    );
  }
  const duration = Number(jobspec.attributes?.system?.duration ?? 0) || 0;
  return {
    nnodes: shape.nnodes,
    nslots: shape.nslots,
    coresPerSlot: shape.coresPerSlot,
    gpusPerSlot: shape.gpusPerSlot,
    exclusive: shape.exclusive,
    duration,
  };
}
