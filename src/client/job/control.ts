/** Cancel, kill, raise and urgency (flux-protocol.md §B, §D "Cancel and kill"). */
import { jobIdToWire } from '../../protocol/json.js';
import type { Flux } from '../handle.js';

/** Raise an exception on a job (severity 0 ends it). */
export async function raise(h: Flux, id: bigint, type: string, severity = 0, note?: string): Promise<void> {
  const p: Record<string, unknown> = { id: jobIdToWire(id), type, severity };
  if (note !== undefined) p.note = note;
  await h.rpc('job-manager.raise', p);
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
