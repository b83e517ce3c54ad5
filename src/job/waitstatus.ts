/**
 * POSIX wait(2) statuses, job exit codes and the texts Flux derives from them
 * (docs/protocol.md §B "Wait", §C.3; flux-core libjob/job.c flux_job_waitstatus_to_exitcode,
 * job-manager/wait.c, job-list result computation, Python flux.job.info returncode).
 */
import { JobResult, type JobResultValue } from './states.js';

// ---- glibc <sys/wait.h> macros ----------------------------------------------------------

/** WIFEXITED */
export function exited(status: number): boolean {
  return (status & 0x7f) === 0;
}
/** WEXITSTATUS */
export function exitCode(status: number): number {
  return (status >> 8) & 0xff;
}
/** WIFSIGNALED: low 7 bits neither 0 (exited) nor 0x7f (stopped). */
export function signaled(status: number): boolean {
  const low = status & 0x7f;
  return low !== 0 && low !== 0x7f;
}
/** WTERMSIG */
export function termSig(status: number): number {
  return status & 0x7f;
}
/** WCOREDUMP */
export function coreDump(status: number): boolean {
  return (status & 0x80) !== 0;
}
/** WIFSTOPPED */
export function stopped(status: number): boolean {
  return (status & 0xff) === 0x7f;
}
/** W_EXITCODE(code, 0) */
export function makeExitStatus(code: number): number {
  return (code & 0xff) << 8;
}
/** W_EXITCODE(0, sig) with optional core-dump bit. */
export function makeSignalStatus(sig: number, core = false): number {
  return (sig & 0x7f) | (core ? 0x80 : 0);
}

// ---- the job shell's status, from its tasks' -----------------------------------------------

/**
 * A task's exit code as the job shell counts it: WEXITSTATUS, or 128 + the signal for a task
 * a signal killed (flux-shell's `shell.task-exit` `exitcode`).
 */
export function taskExitCode(status: number): number {
  return signaled(status) ? 128 + termSig(status) : exitCode(status);
}

/**
 * The job shell's wait status for its tasks' wait statuses: it exits with the largest task
 * exit code (taskExitCode), and the job's `finish.status` is that. So a task killed by SIGALRM
 * at its time limit (status 14) gives 36352 (exit 142), `sh -c 'kill -9 $$'` (status 9) gives
 * 35072 (exit 137).
 */
export function shellStatus(taskStatuses: Iterable<number>): number {
  let code = 0;
  for (const status of taskStatuses) code = Math.max(code, taskExitCode(status));
  return makeExitStatus(code);
}

/** The status of a task that could not be started: the shell reports exit 127 (32512). */
export const START_FAILED_STATUS = makeExitStatus(127);

// ---- strsignal --------------------------------------------------------------------------

const SIGNAL_TEXT: readonly string[] = [
  '', // 0
  'Hangup',
  'Interrupt',
  'Quit',
  'Illegal instruction',
  'Trace/breakpoint trap',
  'Aborted',
  'Bus error',
  'Floating point exception',
  'Killed',
  'User defined signal 1',
  'Segmentation fault',
  'User defined signal 2',
  'Broken pipe',
  'Alarm clock',
  'Terminated',
  'Stack fault',
  'Child exited',
  'Continued',
  'Stopped (signal)',
  'Stopped',
  'Stopped (tty input)',
  'Stopped (tty output)',
  'Urgent I/O condition',
  'CPU time limit exceeded',
  'File size limit exceeded',
  'Virtual timer expired',
  'Profiling timer expired',
  'Window changed',
  'I/O possible',
  'Power failure',
  'Bad system call',
];

/** glibc (NPTL) SIGRTMIN/SIGRTMAX as seen by applications. */
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** glibc `strsignal(3)` text for Linux x86-64. */
export function strsignal(sig: number): string {
  if (Number.isInteger(sig) && sig >= 1 && sig < SIGNAL_TEXT.length) return SIGNAL_TEXT[sig]!;
  if (Number.isInteger(sig) && sig >= SIGRTMIN && sig <= SIGRTMAX) {
    return `Real-time signal ${sig - SIGRTMIN}`;
  }
  return `Unknown signal ${sig}`;
}

// ---- exit codes ---------------------------------------------------------------------------

export interface ExitcodeResult {
  /** Job exit code; -1 for a status that is neither exited nor signaled. */
  exitcode: number;
  /** `""` for exit code 0, otherwise the explanation Flux prints. */
  errstr: string;
}

/**
 * flux_job_waitstatus_to_exitcode: a signaled status means the *job shell* was signaled
 * (128+sig, `job shell <strsignal>`); an exit code > 128 means tasks were killed by a signal
 * (`task(s) <strsignal(code-128)>`); otherwise `task(s) exited with exit code N`.
 */
export function waitstatusToExitcode(status: number): ExitcodeResult {
  if (Number.isInteger(status) && status >= 0 && signaled(status)) {
    const sig = termSig(status);
    return { exitcode: 128 + sig, errstr: `job shell ${strsignal(sig)}` };
  }
  if (Number.isInteger(status) && status >= 0 && exited(status)) {
    const code = exitCode(status);
    if (code > 128) return { exitcode: code, errstr: `task(s) ${strsignal(code - 128)}` };
    if (code > 0) return { exitcode: code, errstr: `task(s) exited with exit code ${code}` };
    return { exitcode: 0, errstr: '' };
  }
  return { exitcode: -1, errstr: `unexpected wait(2) status ${status}` };
}

// ---- job outcome ---------------------------------------------------------------------------

/** The job's end event as the job manager keeps it: the first `finish` or fatal `exception`. */
export type EndEvent =
  { name: 'finish'; status: number } | { name: 'exception'; type: string; note: string; severity?: number };

/** errstr of a `job-manager.wait` response. */
export function waitErrstr(end: EndEvent): string {
  if (end.name === 'exception') return `Fatal exception type=${end.type} ${end.note}`;
  return waitstatusToExitcode(end.status).errstr;
}

/** `success` of a `job-manager.wait` response. */
export function waitSuccess(end: EndEvent): boolean {
  return end.name === 'finish' && waitstatusToExitcode(end.status).exitcode === 0;
}

/** Minimal eventlog entry shape (see eventlog.ts). */
interface EntryLike {
  name: string;
  timestamp?: number;
  context?: Record<string, unknown>;
}

export interface JobOutcome {
  /** Finish status (the largest job-shell wait status), if a `finish` event was posted. */
  waitstatus?: number;
  /** The job's end event (first `finish` or severity-0 `exception`), if any yet. */
  end?: EndEvent;
  /** job-list `success`: finish status 0 and no severity-0 exception. */
  success: boolean;
  /** job-list result (only meaningful once the job is inactive). */
  result: JobResultValue;
  /** The most severe exception seen (lowest severity; first wins a tie). */
  exception?: { type: string; severity: number; note: string };
  /** True once a severity-0 exception was seen. */
  fatalException: boolean;
  /**
   * `flux jobs` RC column (Python JobInfo.returncode): exit code, or -signal when the shell was
   * signaled, or -128 for a job canceled before it ran; null when there is nothing to report.
   */
  returncode: number | null;
  /** `job-manager.wait` response fields, once the job has an end event. */
  wait?: { success: boolean; errstr: string };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Compute result/success/exit information from a job's main eventlog
 * (works on a partial log too: fields fill in as events arrive).
 */
export function jobOutcome(events: readonly EntryLike[]): JobOutcome {
  let waitstatus: number | undefined;
  let end: EndEvent | undefined;
  let exception: JobOutcome['exception'];
  let fatal = false;
  for (const e of events) {
    const ctx = e.context ?? {};
    if (e.name === 'finish') {
      const status = typeof ctx['status'] === 'number' ? (ctx['status'] as number) : -1;
      if (waitstatus === undefined) waitstatus = status;
      if (!end) end = { name: 'finish', status };
    } else if (e.name === 'exception') {
      const severity = typeof ctx['severity'] === 'number' ? (ctx['severity'] as number) : 0;
      const type = str(ctx['type']);
      const note = str(ctx['note']);
      if (!exception || severity < exception.severity) exception = { type, severity, note };
      if (severity === 0) {
        fatal = true;
        if (!end) end = { name: 'exception', type, note, severity };
      }
    }
  }
  const success = waitstatus === 0 && !fatal;
  let result: JobResultValue = JobResult.FAILED;
  if (success) result = JobResult.COMPLETED;
  else if (exception?.type === 'cancel') result = JobResult.CANCELED;
  else if (exception?.type === 'timeout') result = JobResult.TIMEOUT;

  let returncode: number | null = null;
  if (waitstatus !== undefined) {
    if (signaled(waitstatus)) returncode = -termSig(waitstatus);
    else if (exited(waitstatus)) returncode = exitCode(waitstatus);
  } else if (result === JobResult.CANCELED) {
    returncode = -128;
  }
  const out: JobOutcome = { success, result, fatalException: fatal, returncode };
  if (waitstatus !== undefined) out.waitstatus = waitstatus;
  if (end) {
    out.end = end;
    out.wait = { success: waitSuccess(end), errstr: waitErrstr(end) };
  }
  if (exception) out.exception = exception;
  return out;
}
