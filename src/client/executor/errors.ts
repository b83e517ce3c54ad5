/**
 * Errors of the executor (Python's `concurrent.futures` and `flux.job.executor` exceptions,
 * made TypeScript classes). A failed job is a `JobException` (src/job/eventlog.ts); a rejected
 * submit is the instance's `FluxError` as it came back (Python's OSError).
 */
import { Errno, FluxError } from '../../protocol/errno.js';

/** The future was cancelled (`concurrent.futures.CancelledError`). */
export class CancelledError extends Error {
  constructor(message = 'the future was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A `jobid()`, `result()` or `exception()` wait ran out of time; the future is unaffected. */
export class FutureTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, timeoutMs: number) {
    super(`${what} not available within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * `attach()` to an id the instance does not know (Python: `ValueError("job ID does not match
 * any job")`). A FluxError with errno ENOENT, so `err.errno === Errno.ENOENT` also works.
 */
export class InvalidJobIdError extends FluxError {
  readonly jobid: string;
  constructor(jobid: string) {
    super(Errno.ENOENT, `job ID does not match any job: ${jobid}`);
    this.name = 'InvalidJobIdError';
    this.jobid = jobid;
  }
}

/**
 * Python's RuntimeError from the executor: `submit()`/`attach()` after `shutdown()`, or on a
 * broken executor; `jobid()` of a job that could not be submitted (`cause` is the reason).
 */
export class ExecutorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExecutorError';
  }
}

/**
 * The executor lost its instance (connection closed, instance stopped, journal ended): every
 * future still pending fails with this, and the executor refuses new work. `errno` is the one
 * the connection failed with (ECONNRESET when the instance went away).
 */
export class BrokenExecutorError extends FluxError {
  constructor(errno: number, message: string) {
    super(errno, message);
    this.name = 'BrokenExecutorError';
  }
}

/** Serializable form, for the worker_threads mode. */
export interface ErrorRecord {
  kind: 'flux' | 'invalid-jobid' | 'broken' | 'error';
  errno?: number;
  message: string;
  jobid?: string;
}

export function errorToRecord(e: unknown): ErrorRecord {
  if (e instanceof InvalidJobIdError) return { kind: 'invalid-jobid', message: e.message, jobid: e.jobid };
  if (e instanceof BrokenExecutorError) return { kind: 'broken', errno: e.errno, message: e.message };
  if (e instanceof FluxError) return { kind: 'flux', errno: e.errno, message: e.message };
  return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
}

export function errorFromRecord(r: ErrorRecord): Error {
  switch (r.kind) {
    case 'invalid-jobid':
      return new InvalidJobIdError(r.jobid ?? '?');
    case 'broken':
      return new BrokenExecutorError(r.errno ?? Errno.ECONNRESET, r.message);
    case 'flux':
      return new FluxError(r.errno ?? Errno.EIO, r.message);
    default:
      return new Error(r.message);
  }
}
