/**
 * FluxExecutorFuture (docs/protocol.md §D; Python `flux.job.executor.FluxExecutorFuture`, a
 * `concurrent.futures.Future`), as a TypeScript object that is also a real thenable:
 * `await fut` gives the job's result, or throws its exception.
 *
 * Outcome, as in flux-core: at the first `finish` the result is the exit status of the job
 * shell (WEXITSTATUS, so the largest task exit code, 128+N for a task killed by signal N), or
 * -N when the shell itself was killed by signal N; a severity-0 `exception` first gives a
 * `JobException`; a rejected submit gives the instance's FluxError; a lost instance gives a
 * BrokenExecutorError; `attach()` to an unknown id gives an InvalidJobIdError.
 */
import { EventlogEvent, JobException, type EventlogEntry } from '../../job/eventlog.js';
import { JobID } from '../../job/jobid.js';
import { exited, exitCode, signaled, termSig } from '../../job/waitstatus.js';
import { CancelledError, ExecutorError, FutureTimeoutError } from './errors.js';

/** The main-eventlog events a callback can be added for (Python's MAIN_EVENTS; no `validate`). */
export const EVENTS: ReadonlySet<string> = new Set([
  'submit',
  'depend',
  'priority',
  'flux-restart',
  'urgency',
  'alloc',
  'free',
  'start',
  'release',
  'finish',
  'clean',
  'debug',
  'exception',
]);
export type EventName =
  | 'submit'
  | 'depend'
  | 'priority'
  | 'flux-restart'
  | 'urgency'
  | 'alloc'
  | 'free'
  | 'start'
  | 'release'
  | 'finish'
  | 'clean'
  | 'debug'
  | 'exception';

export type FutureCallback = (fut: FluxExecutorFuture) => void;
export type EventCallback = (fut: FluxExecutorFuture, event: EventlogEvent) => void;

/** What a future tells its executor (implemented by FluxExecutor). @internal */
export interface FutureOwner {
  /** Cancel the job in the instance (or drop its submit if not sent yet). */
  cancelJob(fut: FluxExecutorFuture): void;
  /** The future reached a final state (done callbacks have run). */
  futureDone(fut: FluxExecutorFuture): void;
  /** Report an exception thrown by a user callback. */
  callbackError(fut: FluxExecutorFuture, err: unknown): void;
  /** Progress hooks. */
  onJobid(fut: FluxExecutorFuture, id: JobID): void;
  onEvent(fut: FluxExecutorFuture, ev: EventlogEvent): void;
}

type State = 'pending' | 'running' | 'finished' | 'cancelled';

function withTimeout<T>(p: Promise<T>, timeoutMs: number | undefined, what: string): Promise<T> {
  if (timeoutMs === undefined || timeoutMs === Infinity) return p;
  if (!(timeoutMs >= 0))
    return Promise.reject(new RangeError(`timeout must be a non-negative number of ms, got ${timeoutMs}`));
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new FutureTimeoutError(what, timeoutMs)), timeoutMs);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

let serial = 0;

export class FluxExecutorFuture implements PromiseLike<number> {
  /** Event names accepted by addEventCallback. */
  static readonly EVENTS = EVENTS;
  /** @internal key of this future in its executor */
  readonly key: number;
  private state: State = 'pending';
  private value: number | undefined;
  private error: Error | undefined;
  private readonly promise: Promise<number>;
  private settle!: { resolve: (v: number) => void; reject: (e: Error) => void };
  private jobidValue: JobID | undefined;
  private jobidError: Error | undefined;
  private jobidSettled = false;
  private jobidWaiters: { resolve: (id: JobID) => void; reject: (e: Error) => void }[] = [];
  private jobidCallbacks: FutureCallback[] = [];
  private doneCallbacks: FutureCallback[] = [];
  private readonly eventsSeen: EventlogEvent[] = [];
  private readonly eventCallbacks = new Map<string, EventCallback[]>();
  private ended = false;

  /** @internal created by FluxExecutor.submit / attach */
  constructor(private readonly owner: FutureOwner) {
    this.key = ++serial;
    this.promise = new Promise<number>((resolve, reject) => (this.settle = { resolve, reject }));
    // A future nobody awaits must not become an unhandled rejection: derived promises
    // (then/catch, result(), …) still report to whoever asked.
    // eslint-disable-next-line no-restricted-syntax -- reported through then/result()/exception()
    this.promise.catch(() => {});
  }

  get [Symbol.toStringTag](): string {
    return 'FluxExecutorFuture';
  }

  // ---- Promise protocol -----------------------------------------------------------------------

  then<R1 = number, R2 = never>(
    onfulfilled?: ((value: number) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<number | R> {
    return this.promise.catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<number> {
    return this.promise.finally(onfinally);
  }

  // ---- state ----------------------------------------------------------------------------------

  /** True once the job has a result or an exception, or the future was cancelled. */
  done(): boolean {
    return this.state === 'finished' || this.state === 'cancelled';
  }

  cancelled(): boolean {
    return this.state === 'cancelled';
  }

  /** True from the job's `alloc` (Flux state RUN) until the future is done. */
  running(): boolean {
    return this.state === 'running';
  }

  /** The job id if known now (synchronous form of `jobid()`). */
  get id(): JobID | undefined {
    return this.jobidValue;
  }

  /** Every main-eventlog event seen so far, in order. */
  get events(): readonly EventlogEvent[] {
    return this.eventsSeen;
  }

  /**
   * Resolve to the job id once assigned. Rejects with CancelledError if the future was cancelled
   * before a submit was sent, with an ExecutorError (cause: the reason) if the job could not be
   * submitted, with a TimeoutError after `timeoutMs`.
   */
  jobid(timeoutMs?: number): Promise<JobID> {
    if (this.jobidSettled) return this.jobidError ? Promise.reject(this.jobidError) : Promise.resolve(this.jobidValue!);
    const p = new Promise<JobID>((resolve, reject) => this.jobidWaiters.push({ resolve, reject }));
    return withTimeout(p, timeoutMs, 'job id');
  }

  /**
   * The job's result: its exit code (even when nonzero). Rejects with the job's exception
   * (JobException, FluxError, …), CancelledError, or a TimeoutError after `timeoutMs` (the
   * future itself is not affected by the timeout).
   */
  result(timeoutMs?: number): Promise<number> {
    return withTimeout(this.promise, timeoutMs, 'job result');
  }

  /**
   * The exception of the job, or undefined if it has a result. Rejects with CancelledError if
   * the future was cancelled, and with a TimeoutError after `timeoutMs`.
   */
  exception(timeoutMs?: number): Promise<Error | undefined> {
    const p = this.promise.then(
      () => undefined,
      (e: Error) => {
        if (e instanceof CancelledError) throw e;
        return e;
      },
    );
    return withTimeout(p, timeoutMs, 'job exception');
  }

  /**
   * Cancel the future if its job has not started (no `alloc` yet): the future becomes
   * cancelled, its done callbacks run, and the job is canceled in the instance too (its submit
   * is dropped if it was not sent yet). Returns false once the job is running or done (true if
   * already cancelled). A running job is stopped with `job.cancel(h, id)` or an AbortSignal on
   * submit; the future then fails with a JobException.
   */
  cancel(): boolean {
    if (this.state === 'cancelled') return true;
    if (this.state !== 'pending') return false;
    this.state = 'cancelled';
    this.error = new CancelledError();
    // jobid() still resolves if the submit had gone out (the job is then canceled in the
    // instance); it rejects with CancelledError when the submit is dropped before sending.
    this.owner.cancelJob(this);
    this.settle.reject(this.error);
    this.runDoneCallbacks();
    return true;
  }

  // ---- callbacks ------------------------------------------------------------------------------

  /** Call `cb(fut)` once the job id is known (or known to be unavailable); at once if it is. */
  addJobidCallback(cb: FutureCallback): this {
    if (this.jobidSettled) this.invoke(() => cb(this));
    else this.jobidCallbacks.push(cb);
    return this;
  }

  /**
   * Call `cb(fut, event)` for every `name` event of the job, first for those already seen.
   * `name` must be one of FluxExecutorFuture.EVENTS (a main-eventlog event; not `validate`).
   */
  addEventCallback(name: EventName | string, cb: EventCallback): this {
    if (!EVENTS.has(name))
      throw new TypeError(
        `not a job event a callback can be added for: ${JSON.stringify(name)} (one of ${[...EVENTS].join(', ')})`,
      );
    let list = this.eventCallbacks.get(name);
    if (!list) this.eventCallbacks.set(name, (list = []));
    list.push(cb);
    for (const ev of this.eventsSeen) if (ev.name === name) this.invoke(() => cb(this, ev));
    return this;
  }

  /** Call `cb(fut)` when the future is done (finished or cancelled); at once if it is. */
  addDoneCallback(cb: FutureCallback): this {
    if (this.done()) this.invoke(() => cb(this));
    else this.doneCallbacks.push(cb);
    return this;
  }

  // ---- fed by the executor --------------------------------------------------------------------

  /** @internal */
  setJobid(id: bigint | undefined, err?: Error): void {
    if (this.jobidSettled) return;
    this.jobidSettled = true;
    if (err) this.jobidError = err;
    else this.jobidValue = new JobID(id!);
    for (const w of this.jobidWaiters.splice(0)) {
      if (this.jobidError) w.reject(this.jobidError);
      else w.resolve(this.jobidValue!);
    }
    if (this.jobidValue) this.owner.onJobid(this, this.jobidValue);
    for (const cb of this.jobidCallbacks.splice(0)) this.invoke(() => cb(this));
  }

  /** @internal one eventlog entry of the job */
  addEvent(entry: EventlogEntry): void {
    if (!EVENTS.has(entry.name)) return; // validate, annotations, memo, …
    let ev: EventlogEvent;
    try {
      ev = new EventlogEvent(entry);
    } catch {
      return;
    }
    this.eventsSeen.push(ev);
    const list = this.eventCallbacks.get(ev.name);
    if (list) for (const cb of [...list]) this.invoke(() => cb(this, ev));
    this.owner.onEvent(this, ev);
    if (this.done()) return;
    if (ev.name === 'alloc' && this.state === 'pending') this.state = 'running';
    else if (ev.name === 'finish') {
      const status = ev.context['status'];
      if (typeof status === 'number' && exited(status)) this.setResult(exitCode(status));
      else if (typeof status === 'number' && signaled(status)) this.setResult(-termSig(status));
      else this.setException(new RangeError(`unexpected wait status in the finish event: ${JSON.stringify(status)}`));
    } else if (ev.name === 'exception' && Number(ev.context['severity'] ?? 0) === 0) {
      this.setException(new JobException(ev));
    }
  }

  /** @internal */
  setResult(v: number): void {
    if (this.done()) return;
    this.state = 'finished';
    this.value = v;
    this.settle.resolve(v);
    this.runDoneCallbacks();
  }

  /** @internal */
  setException(err: Error): void {
    if (this.done()) return;
    if (!this.jobidSettled)
      this.setJobid(undefined, new ExecutorError(`job could not be submitted due to ${err.message}`, { cause: err }));
    this.state = 'finished';
    this.error = err;
    this.settle.reject(err);
    this.runDoneCallbacks();
  }

  /** @internal no more events will come */
  setEnded(): void {
    this.ended = true;
    if (!this.jobidSettled) this.setJobid(undefined, this.error ?? new CancelledError());
  }

  /** @internal */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Result if finished successfully (synchronous peek), else undefined. */
  get resultValue(): number | undefined {
    return this.value;
  }

  /** Exception if failed or cancelled (synchronous peek), else undefined. */
  get exceptionValue(): Error | undefined {
    return this.error;
  }

  private runDoneCallbacks(): void {
    for (const cb of this.doneCallbacks.splice(0)) this.invoke(() => cb(this));
    this.owner.futureDone(this);
  }

  private invoke(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.owner.callbackError(this, e);
    }
  }

  toString(): string {
    const id = this.jobidValue ? ` ${this.jobidValue.f58}` : '';
    const st =
      this.state === 'finished' ? (this.error ? `raised ${this.error.name}` : `returned ${this.value}`) : this.state;
    return `<FluxExecutorFuture${id} state=${st}>`;
  }
}
