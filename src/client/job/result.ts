/**
 * A job's result from its eventlog (Python's `flux.job.result`): works for any job, waitable or
 * not, by following the eventlog to its end.
 */
import { jobOutcome } from '../../job/waitstatus.js';
import { resultName } from '../../job/states.js';
import type { EventlogEvent } from '../../job/eventlog.js';
import type { Flux } from '../handle.js';
import { eventWatch } from './events.js';

export interface JobResultInfo {
  id: bigint;
  /** 'COMPLETED' | 'FAILED' | 'CANCELED' | 'TIMEOUT' */
  result: string;
  success: boolean;
  /** Exit code (flux jobs RC); null when the job never ran. */
  returncode: number | null;
  waitstatus?: number;
  exception?: { type: string; severity: number; note: string };
  t_submit?: number;
  t_run?: number;
  t_cleanup?: number;
  events: EventlogEvent[];
}

export async function result(h: Flux, id: bigint): Promise<JobResultInfo> {
  const events: EventlogEvent[] = [];
  for await (const ev of eventWatch(h, id)) events.push(ev);
  const o = jobOutcome(events);
  const at = (n: string) => events.find((e) => e.name === n)?.timestamp;
  return {
    id,
    result: resultName(o.result),
    success: o.success,
    returncode: o.returncode,
    waitstatus: o.waitstatus,
    exception: o.exception,
    t_submit: at('submit'),
    t_run: at('alloc'),
    t_cleanup: at('finish') ?? at('exception'),
    events,
  };
}
export const resultAsync = result;
