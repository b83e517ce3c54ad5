/**
 * Waiting in tests: on the event itself, never for a duration. Where no notification exists (a
 * process that is not our child, a file another process writes) the condition is polled with no
 * deadline of its own; a condition that never comes is a hang, which the test's node:test
 * `timeout` (HANG_TIMEOUT) turns into a failure. Nothing here decides pass or fail by time.
 */
import fs from 'node:fs';

/**
 * node:test `timeout` for tests that wait on something a broken implementation might never
 * deliver. Minutes, so that no load ever reaches it: it only keeps a hang from hanging the run.
 */
export const HANG_TIMEOUT = 600_000;

const POLL_MS = 10;
const pause = (): Promise<void> => new Promise((r) => setTimeout(r, POLL_MS));

/** Resolves once `cond()` holds (polled; no deadline). */
export async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await pause();
}

/** Alive and not a zombie (a zombie has died: only its parent has not reaped it yet). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once process `pid` has died (gone, or a zombie). */
export function dead(pid: number): Promise<void> {
  return until(() => !alive(pid));
}

/**
 * Resolves with the first line of `file` once another process has written it whole (the file
 * can exist, empty or half written, before that): what `echo $$ > file` leaves.
 */
export async function lineOf(file: string): Promise<string> {
  let text = '';
  await until(() => {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    return text.includes('\n');
  });
  return text.slice(0, text.indexOf('\n'));
}
