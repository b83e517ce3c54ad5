/**
 * EXPERIMENT, not part of the library: FluxExecutor with its I/O in a worker thread, as Flux's
 * Python executor runs its reactor in threads. bench/executor.ts measures it against the
 * main-thread design; the decision and the figures are in
 * examples/async-bulk-job-submit/README.md (it is not worth it, so the library has no such mode).
 *
 * This is the main-thread proxy: an EngineLike for `new FluxExecutor({ engine })`. Requests go
 * to the worker one message each, at once; notifications come back in batches, one message per
 * turn of the worker's event loop.
 */
import { Worker } from 'node:worker_threads';
import type { SubmitOptions } from '../../src/client/job/submit.js';
import type { EventlogEntry } from '../../src/job/eventlog.js';
import { uriToPath } from '../../src/client/handle.js';
import { Errno, FluxError } from '../../src/protocol/errno.js';
import type { EngineLike, EngineOptions, EngineSink, EventsMode } from '../../src/client/executor/engine.js';
import { BrokenExecutorError, errorFromRecord, type ErrorRecord } from '../../src/client/executor/errors.js';

/** main → worker */
export type ToWorker =
  ['s', number, string, SubmitOptions] | ['a', number, bigint] | ['c', number] | ['r', number] | ['x'];
/** worker → main */
export type FromWorker =
  | ['j', number, bigint]
  | ['e', number, readonly EventlogEntry[]]
  | ['f', number, ErrorRecord]
  | ['n', number]
  | ['b', ErrorRecord]
  | ['m', string]
  | ['r', number, ErrorRecord | null]
  | ['x'];

export class WorkerEngine implements EngineLike {
  private readonly worker: Worker;
  private readonly live = new Set<number>();
  private mode: EventsMode;
  private closeWaiters: (() => void)[] = [];
  private closedFlag = false;
  private dead = false;

  constructor(
    private readonly sink: EngineSink,
    opts: EngineOptions,
  ) {
    const uri = opts.uri ?? process.env.FLUX_URI;
    if (!uri)
      throw new FluxError(
        Errno.ENOENT,
        'Unable to connect to Flux: FLUX_URI is not set and no URI was given (start an instance with tsflux start)',
      );
    uriToPath(uri); // same early error as the main-thread engine
    this.mode = opts.events ?? 'journal';
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { ...opts, uri } });
    this.worker.on('message', (batch: FromWorker[]) => this.onBatch(batch));
    this.worker.on('error', (err) =>
      this.die(new BrokenExecutorError(Errno.EIO, `executor worker thread failed: ${err.message}`)),
    );
    this.worker.on('exit', (code) => {
      if (!this.closedFlag)
        this.die(new BrokenExecutorError(Errno.EIO, `executor worker thread exited (code ${code})`));
      for (const w of this.closeWaiters.splice(0)) w();
    });
    this.worker.unref();
  }

  get eventsMode(): EventsMode {
    return this.mode;
  }

  submit(key: number, jobspec: string, opts: SubmitOptions): void {
    this.track(key);
    this.send(['s', key, jobspec, opts]);
  }

  attach(key: number, id: bigint): void {
    this.track(key);
    this.send(['a', key, id]);
  }

  cancel(key: number): void {
    this.send(['c', key]);
  }

  private readyWaiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readySeq = 0;

  ready(): Promise<void> {
    if (this.dead) return Promise.reject(new BrokenExecutorError(Errno.EIO, 'executor worker thread is gone'));
    const seq = ++this.readySeq;
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.readyWaiters.set(seq, { resolve, reject });
      this.send(['r', seq]);
    });
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    this.worker.ref();
    this.send(['x']);
    return new Promise((r) => this.closeWaiters.push(r));
  }

  private track(key: number): void {
    if (this.live.size === 0) this.worker.ref();
    this.live.add(key);
  }

  /** Requests go to the worker at once (not at the end of the tick): it submits while we compute. */
  private send(m: ToWorker): void {
    if (this.dead) return;
    this.worker.postMessage([m]);
  }

  private onBatch(batch: FromWorker[]): void {
    for (const n of batch) {
      switch (n[0]) {
        case 'j':
          this.sink.jobid(n[1], n[2]);
          break;
        case 'e':
          this.sink.events(n[1], n[2]);
          break;
        case 'f':
          this.sink.fail(n[1], errorFromRecord(n[2]));
          break;
        case 'n':
          this.live.delete(n[1]);
          this.sink.end(n[1]);
          if (this.live.size === 0 && this.readyWaiters.size === 0 && !this.closeWaiters.length) this.worker.unref();
          break;
        case 'b':
          this.sink.broken(errorFromRecord(n[1]));
          break;
        case 'm':
          this.mode = n[1] as EventsMode;
          break;
        case 'r': {
          const w = this.readyWaiters.get(n[1]);
          this.readyWaiters.delete(n[1]);
          if (this.live.size === 0 && this.readyWaiters.size === 0 && !this.closeWaiters.length) this.worker.unref();
          if (n[2]) w?.reject(errorFromRecord(n[2]));
          else w?.resolve();
          break;
        }
        case 'x':
          this.closedFlag = true;
          void this.worker.terminate();
          break;
      }
    }
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const key of [...this.live]) {
      this.sink.fail(key, err);
      this.sink.end(key);
    }
    this.live.clear();
    for (const w of this.readyWaiters.values()) w.reject(err);
    this.readyWaiters.clear();
    this.sink.broken(err);
  }
}
