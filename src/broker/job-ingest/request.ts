/** The resources a validated RFC 25 jobspec asks for, in the scheduler's terms (contract.ts). */
import type { ResourceRequest } from '../contract.js';

interface Vertex {
  type: string;
  count: number;
  with?: Vertex[];
  exclusive?: boolean;
}

function slotShape(slot: Vertex): { cores: number; gpus: number } {
  let cores = 0;
  let gpus = 0;
  for (const v of slot.with ?? []) {
    if (v.type === 'core') cores += v.count;
    else if (v.type === 'gpu') gpus += v.count;
  }
  return { cores, gpus };
}

export function resourceRequest(jobspec: any): ResourceRequest {
  const top = jobspec.resources[0] as Vertex;
  const duration = Number(jobspec.attributes?.system?.duration ?? 0) || 0;
  if (top.type === 'node') {
    const slot = (top.with ?? []).find((v) => v.type === 'slot') as Vertex;
    const s = slotShape(slot);
    return {
      nnodes: top.count,
      nslots: top.count * slot.count,
      coresPerSlot: s.cores,
      gpusPerSlot: s.gpus,
      exclusive: top.exclusive === true,
      duration,
    };
  }
  const s = slotShape(top);
  return { nnodes: 0, nslots: top.count, coresPerSlot: s.cores, gpusPerSlot: s.gpus, exclusive: false, duration };
}
