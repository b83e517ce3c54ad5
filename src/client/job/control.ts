/** Cancel, kill, raise and urgency (docs/protocol.md §B, §D "Cancel and kill"). */
import { jobIdToWire } from '../../protocol/json.js';
import { VirtualState } from '../../job/states.js';
import type { Flux } from '../handle.js';

/** Raise an exception on a job (severity 0 ends it). */
export async function raise(h: Flux, id: bigint, type: string, severity = 0, note?: string): Promise<void> {
  const p: Record<string, unknown> = { id: jobIdToWire(id), type, severity };
  if (note !== undefined) p.note = note;
  await h.rpc('job-manager.raise', p);
}

export interface RaiseAllOptions {
  /** Whose jobs: a userid, or 'all' (instance owner only); default the caller's own. */
  userid?: number | 'all';
  /** A mask of job states (job/states.ts JobState / VirtualState); default pending and running. */
  states?: number;
  severity?: number;
  note?: string;
  /** Only count the jobs that would get it. */
  dryRun?: boolean;
}

/**
 * Raise an exception on every job matching the options (`flux cancel --all`,
 * `job-manager.raiseall`); resolves to how many jobs matched and how many raises failed.
 */
export async function raiseAll(
  h: Flux,
  type: string,
  o: RaiseAllOptions = {},
): Promise<{ count: number; errors: number }> {
  const userid = o.userid === 'all' ? 0xffffffff : (o.userid ?? process.getuid?.() ?? 0);
  const p: Record<string, unknown> = {
    dry_run: o.dryRun ?? false,
    userid,
    states: o.states ?? VirtualState.PENDING | VirtualState.RUNNING,
    severity: o.severity ?? 0,
    type,
  };
  if (o.note !== undefined) p.note = o.note;
  return await h.rpc<{ count: number; errors: number }>('job-manager.raiseall', p);
}

/** Cancel every job matching the options: raiseAll with a `cancel` exception of severity 0. */
export function cancelAll(
  h: Flux,
  o: Omit<RaiseAllOptions, 'severity'> = {},
): Promise<{ count: number; errors: number }> {
  return raiseAll(h, 'cancel', { ...o, severity: 0 });
}

/** Cancel a job: a `cancel` exception of severity 0, with the reason as note. */
export function cancel(h: Flux, id: bigint, reason?: string): Promise<void> {
  return raise(h, id, 'cancel', 0, reason);
}
export const cancelAsync = cancel;

/** Send a signal (default SIGTERM) to a running job's tasks. */
export async function kill(h: Flux, id: bigint, signum = 15): Promise<void> {
  await h.rpc('job-manager.kill', { id: jobIdToWire(id), signum });
}
export const killAsync = kill;

/** Change a pending job's urgency; resolves to the old urgency. */
export async function urgency(h: Flux, id: bigint, value: number): Promise<number> {
  const r = await h.rpc<{ old_urgency: number }>('job-manager.urgency', { id: jobIdToWire(id), urgency: value });
  return r.old_urgency;
}
