/**
 * Errors of the executor (Python's `concurrent.futures` and `flux.job.executor` exceptions,
 * made TypeScript classes). A failed job is a `JobException` (src/job/eventlog.ts); a rejected
 * submit is the instance's `FluxError` as it came back (Python's OSError).
 */
import { Errno, FluxError, errnoOf } from '../../protocol/errno.js';

/** The future was cancelled (`concurrent.futures.CancelledError`; errno ECANCELED). */
export class CancelledError extends FluxError {
  constructor(message = 'the future was cancelled') {
    super(Errno.ECANCELED, message);
    this.name = 'CancelledError';
  }
}

/** A `jobid()`, `result()` or `exception()` wait ran out of time (errno ETIMEDOUT); the future is unaffected. */
export class FutureTimeoutError extends FluxError {
  constructor(what: string, timeoutMs: number) {
    super(Errno.ETIMEDOUT, `${what} not available within ${timeoutMs} ms`);
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
 * Its errno is `errno` when given, else the cause's, else EINVAL.
 */
export class ExecutorError extends FluxError {
  constructor(message: string, options: { cause?: unknown; errno?: number } = {}) {
    super(options.errno ?? errnoOf(options.cause, Errno.EINVAL), message);
    this.name = 'ExecutorError';
    if (options.cause !== undefined) this.cause = options.cause;
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
