/**
 * Waiting in tests: on the event itself, never for a duration. Where no notification exists (a
 * process that is not our child, a file another process writes) the condition is polled. The
 * only limit is HANG_TIMEOUT, minutes, so that a condition that never comes fails the test (and
 * the poll stops) instead of hanging the run; no load comes near it.
 */
import fs from 'node:fs';

/**
 * node:test `timeout` for tests that wait on something a broken implementation might never
 * deliver. Minutes, so that no load ever reaches it: it only keeps a hang from hanging the run.
 */
export const HANG_TIMEOUT = 600_000;

const POLL_MS = 10;
const pause = (): Promise<void> => new Promise((r) => setTimeout(r, POLL_MS));

/** Resolves once `cond()` holds (polled); rejects naming `what` if it has not after HANG_TIMEOUT. */
export async function until(cond: () => boolean | Promise<boolean>, what = 'a condition'): Promise<void> {
  const giveUp = performance.now() + HANG_TIMEOUT;
  while (!(await cond())) {
    if (performance.now() > giveUp) throw new Error(`gave up waiting for ${what} after ${HANG_TIMEOUT / 60_000} min`);
    await pause();
  }
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
  return until(() => !alive(pid), `process ${pid} to die`);
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
  }, `a line in ${file}`);
  return text.slice(0, text.indexOf('\n'));
}
