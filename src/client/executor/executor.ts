/**
 * FluxExecutor (docs/protocol.md §D; Python `flux.job.executor.FluxExecutor`): submit jobspecs,
 * get FluxExecutorFutures back at once, and let them fulfil in the background. The executor owns
 * its connection and follows its jobs itself (engine.ts): nobody has to run a reactor.
 *
 *     await using executor = new FluxExecutor();   // or: await FluxExecutor.open()
 *     const futs = Array.from({ length: 100 }, () => executor.submit(JobspecV1.fromCommand(['true'])));
 *     for await (const fut of asCompleted(futs)) console.log(await fut.jobid(), await fut);
 *
 * Progress is also published as typed events on the executor (it is an EventEmitter):
 * `job:submit` (id assigned), `job:event` (every main-eventlog event), `job:start`, `job:done`,
 * and `broken` (the instance went away).
 */
import { EventEmitter } from 'node:events';
import { JobspecV1 } from '../../job/jobspec.js';
import { JobID, type JobIDLike } from '../../job/jobid.js';
import type { EventlogEntry, EventlogEvent } from '../../job/eventlog.js';
import type { JobspecInput, SubmitOptions } from '../job/submit.js';
import { ExecutorEngine, type EngineSink, type EventsMode } from './engine.js';
import { FluxExecutorFuture, type FutureOwner } from './future.js';
import { ExecutorError } from './errors.js';
import { Errno } from '../../protocol/errno.js';

export interface FluxExecutorOptions {
  /** Instance URI; default $FLUX_URI. */
  uri?: string;
  /**
   * How job events are followed: 'journal' (default: one job-manager.events-journal stream for
   * every job) or 'watch' (one job-info.eventlog-watch per job, as flux-core's Python executor).
   * 'journal' falls back to 'watch' by itself where the instance refuses the journal (guests).
   */
  events?: EventsMode;
  /** Submits in flight at once (default 1024); the rest wait in submission order. */
  maxInflight?: number;
  /** Called when a user callback throws (default: console.error). */
  onCallbackError?: (err: unknown, fut: FluxExecutorFuture) => void;
}

export interface ExecutorSubmitOptions extends Omit<SubmitOptions, 'novalidate'> {
  /**
   * Aborting cancels the job: the future is cancelled if the job has not started yet, else the
   * job is canceled in the instance and the future fails with a JobException (type cancel).
   */
  signal?: AbortSignal;
}

export interface ShutdownOptions {
  /** Resolve only when every future is done and the connection is closed (default true). */
  wait?: boolean;
  /** Cancel every future whose job has not started (its job is canceled too). Default false. */
  cancelFutures?: boolean;
}

/** Typed progress events of a FluxExecutor. */
export interface FluxExecutorEvents {
  /** The job of `future` got its id (after the submit response; at once for attach). */
  'job:submit': [future: FluxExecutorFuture, jobid: JobID];
  /** Every main-eventlog event (the names of FluxExecutorFuture.EVENTS), in order. */
  'job:event': [future: FluxExecutorFuture, event: EventlogEvent];
  /** The job's tasks started. */
  'job:start': [future: FluxExecutorFuture, event: EventlogEvent];
  /** The future is done: result, exception or cancelled. */
  'job:done': [future: FluxExecutorFuture];
  /** The executor lost its instance; every pending future has failed. */
  broken: [error: Error];
}

function jobspecText(spec: JobspecInput): string {
  if (spec instanceof JobspecV1) return spec.dumps();
  if (typeof spec === 'string') return spec;
  if (Buffer.isBuffer(spec)) return spec.toString('utf8');
  return JSON.stringify(spec);
}

export class FluxExecutor extends EventEmitter<FluxExecutorEvents> implements FutureOwner, AsyncDisposable {
  /** Event names accepted by FluxExecutorFuture.addEventCallback. */
  static readonly EVENTS = FluxExecutorFuture.EVENTS;
  private readonly engine: ExecutorEngine;
  private readonly futures = new Map<number, FluxExecutorFuture>();
  private readonly aborts = new Map<number, () => void>();
  private shutdownCalled = false;
  private brokenErr: Error | undefined;
  private closed: Promise<void> | undefined;
  private readonly onCallbackError: (err: unknown, fut: FluxExecutorFuture) => void;

  constructor(opts: FluxExecutorOptions = {}) {
    super();
    this.onCallbackError =
      opts.onCallbackError ??
      ((err, fut) => console.error(`FluxExecutor: exception calling callback for ${fut}:`, err));
    const sink: EngineSink = {
      jobid: (key, id) => this.futures.get(key)?.setJobid(id),
      events: (key, entries) => this.deliver(key, entries),
      fail: (key, err) => this.futures.get(key)?.setException(err),
      end: (key) => this.ended(key),
      broken: (err) => {
        this.brokenErr = err;
        if (this.listenerCount('broken') > 0) this.emit('broken', err);
      },
    };
    this.engine = new ExecutorEngine(sink, { uri: opts.uri, events: opts.events, maxInflight: opts.maxInflight });
  }

  /** `new FluxExecutor(opts)`, resolved once connected (rejects with the connect error). */
  static async open(opts: FluxExecutorOptions = {}): Promise<FluxExecutor> {
    const ex = new FluxExecutor(opts);
    try {
      await ex.ready();
    } catch (e) {
      await ex.shutdown({ wait: false });
      throw e;
    }
    return ex;
  }

  /** 'journal' or 'watch' (after a fallback, the design actually in use). */
  get eventsMode(): EventsMode {
    return this.engine.eventsMode;
  }

  /** Counters of the engine (journal responses, watches, events that came before their id, …). */
  get stats(): Readonly<Record<string, number>> {
    return { ...this.engine.stats };
  }

  /** Futures whose job may still send events. */
  get pending(): number {
    return this.futures.size;
  }

  /**
   * Resolves once the executor is connected to its instance (rejects with the connect error).
   * Not needed before submit(); useful to fail early, or before submitting and then computing
   * without awaiting (the submits then reach the instance at once, see the README).
   */
  ready(): Promise<void> {
    return this.engine.ready();
  }

  /**
   * Submit a job and return its future at once (the submit goes out in the background; a
   * rejected submit fails the future with the instance's FluxError). Throws an ExecutorError
   * after shutdown() or once the executor is broken.
   */
  submit(jobspec: JobspecInput, opts: ExecutorSubmitOptions = {}): FluxExecutorFuture {
    this.checkUsable();
    const fut = new FluxExecutorFuture(this);
    this.futures.set(fut.key, fut);
    const { signal, ...submitOpts } = opts;
    if (signal?.aborted) {
      // never sent: the future is cancelled at once
      this.engineless(fut);
      return fut;
    }
    if (signal) this.watchSignal(fut, signal);
    this.engine.submit(fut.key, jobspecText(jobspec), submitOpts);
    return fut;
  }

  /**
   * Follow a job submitted elsewhere (its past events are replayed). An id the instance does not
   * know fails the future with an InvalidJobIdError ("job ID does not match any job").
   */
  attach(jobid: JobIDLike | bigint): FluxExecutorFuture {
    this.checkUsable();
    const id = JobID.from(jobid).value;
    const fut = new FluxExecutorFuture(this);
    this.futures.set(fut.key, fut);
    this.engine.attach(fut.key, id);
    return fut;
  }

  /**
   * No new futures after this. With `cancelFutures`, every future whose job has not started is
   * cancelled. With `wait` (default), resolves once every future is done and has seen its last
   * event, and the connection is closed; without, resolves at once and the executor closes in
   * the background when its futures are done. Safe to call more than once.
   */
  shutdown(opts: ShutdownOptions = {}): Promise<void> {
    this.shutdownCalled = true;
    if (opts.cancelFutures) for (const f of [...this.futures.values()]) f.cancel();
    this.closed ??= this.engine.close();
    return opts.wait === false ? Promise.resolve() : this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  // ---- FutureOwner ----------------------------------------------------------------------------

  /** @internal */
  cancelJob(fut: FluxExecutorFuture): void {
    if (this.futures.has(fut.key)) this.engine.cancel(fut.key);
  }

  /** @internal */
  futureDone(fut: FluxExecutorFuture): void {
    if (this.listenerCount('job:done') > 0) this.emit('job:done', fut);
    if (fut.isEnded) this.forget(fut);
  }

  /** @internal */
  callbackError(fut: FluxExecutorFuture, err: unknown): void {
    try {
      this.onCallbackError(err, fut);
    } catch {
      // a logger that throws is ignored too
    }
  }

  /** @internal */
  onJobid(fut: FluxExecutorFuture, id: JobID): void {
    if (this.listenerCount('job:submit') > 0) this.emit('job:submit', fut, id);
  }

  /** @internal */
  onEvent(fut: FluxExecutorFuture, ev: EventlogEvent): void {
    if (this.listenerCount('job:event') > 0) this.emit('job:event', fut, ev);
    if (ev.name === 'start' && this.listenerCount('job:start') > 0) this.emit('job:start', fut, ev);
  }

  // ---- internals ------------------------------------------------------------------------------

  private checkUsable(): void {
    if (this.brokenErr)
      throw new ExecutorError(`executor is broken, new futures cannot be scheduled: ${this.brokenErr.message}`, {
        cause: this.brokenErr,
      });
    if (this.shutdownCalled)
      throw new ExecutorError('cannot schedule new futures after shutdown', { errno: Errno.ESHUTDOWN });
  }

  private deliver(key: number, entries: readonly EventlogEntry[]): void {
    const fut = this.futures.get(key);
    if (!fut) return;
    for (const e of entries) fut.addEvent(e);
  }

  private ended(key: number): void {
    const fut = this.futures.get(key);
    if (!fut) return;
    fut.setEnded();
    if (!fut.done()) {
      // the log ended without a finish or fatal exception (should not happen)
      fut.setException(
        new ExecutorError(`the eventlog of job ${fut.id?.f58 ?? '?'} ended without a result`, { errno: Errno.ENODATA }),
      );
    }
    this.forget(fut);
  }

  private forget(fut: FluxExecutorFuture): void {
    this.futures.delete(fut.key);
    const off = this.aborts.get(fut.key);
    if (off) {
      this.aborts.delete(fut.key);
      off();
    }
  }

  /** A future that never reaches the engine (aborted before submit). */
  private engineless(fut: FluxExecutorFuture): void {
    fut.cancel();
    fut.setEnded();
    this.forget(fut);
  }

  private watchSignal(fut: FluxExecutorFuture, signal: AbortSignal): void {
    const onAbort = () => {
      if (!fut.cancel() && !fut.isEnded) this.engine.cancel(fut.key);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.aborts.set(fut.key, () => signal.removeEventListener('abort', onAbort));
  }
}
