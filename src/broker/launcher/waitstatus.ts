/**
 * POSIX wait status helpers (docs/protocol.md §C.3).
 *
 * exited: `code << 8` (low 7 bits 0); signaled: the signal in the low 7 bits, 0x80 = core.
 * Flux's job shell exits with the largest task exit code, where a task killed by signal S
 * counts as 128 + S; the job's `finish.status` is the shell's wait status. So a task killed
 * by SIGALRM at its time limit (task status 14) gives finish.status 36352 (exit 142), and
 * `sh -c 'kill -9 $$'` (task status 9) gives 35072 (exit 137); a start failure is 32512
 * (exit 127).
 */

export const exitedStatus = (code: number): number => (code & 0xff) << 8;
export const signaledStatus = (signum: number, core = false): number => (signum & 0x7f) | (core ? 0x80 : 0);

export const wifexited = (ws: number): boolean => (ws & 0x7f) === 0;
export const wexitstatus = (ws: number): number => (ws >> 8) & 0xff;
export const wifsignaled = (ws: number): boolean => (ws & 0x7f) !== 0 && (ws & 0x7f) !== 0x7f;
export const wtermsig = (ws: number): number => ws & 0x7f;
export const wcoredump = (ws: number): boolean => wifsignaled(ws) && (ws & 0x80) !== 0;

/** `flux_job_waitstatus_to_exitcode`: exit code, or 128 + signal. */
export function waitStatusToExitCode(ws: number): number {
  if (wifsignaled(ws)) return 128 + wtermsig(ws);
  return wexitstatus(ws);
}

/** The job shell's wait status for a set of task wait statuses (largest exit code wins). */
export function shellStatus(taskStatuses: Iterable<number>): number {
  let code = 0;
  for (const ws of taskStatuses) code = Math.max(code, waitStatusToExitCode(ws));
  return exitedStatus(code);
}

/** Status Flux reports for a task that could not be started (exit 127). */
export const START_FAILED_STATUS = exitedStatus(127);
