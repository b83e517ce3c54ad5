/**
 * Main-thread proxy of an ExecutorEngine running in a worker thread (FluxExecutor's
 * `thread: 'worker'`). Requests and notifications travel in batches: one postMessage per turn
 * of the event loop in each direction.
 */
import { Worker } from 'node:worker_threads';
import type { SubmitOptions } from '../job/submit.js';
import type { EventlogEntry } from '../../job/eventlog.js';
import { uriToPath } from '../handle.js';
import { Errno, FluxError } from '../../protocol/errno.js';
import type { EngineOptions, EngineSink, EventsMode } from './engine.js';
import { BrokenExecutorError, errorFromRecord, type ErrorRecord } from './errors.js';

/** main → worker */
export type ToWorker =
  | ['s', number, string, SubmitOptions]
  | ['a', number, bigint]
  | ['c', number]
  | ['x'];
/** worker → main */
export type FromWorker =
  | ['j', number, bigint]
  | ['e', number, readonly EventlogEntry[]]
  | ['f', number, ErrorRecord]
  | ['n', number]
  | ['b', ErrorRecord]
  | ['m', string]
  | ['x'];

export class WorkerEngine {
  private readonly worker: Worker;
  private out: ToWorker[] = [];
  private scheduled = false;
  private readonly live = new Set<number>();
  private mode: EventsMode;
  private closeWaiters: (() => void)[] = [];
  private closedFlag = false;
  private dead = false;

  constructor(private readonly sink: EngineSink, opts: EngineOptions) {
    const uri = opts.uri ?? process.env.FLUX_URI;
    if (!uri) throw new FluxError(Errno.ENOENT, 'Unable to connect to Flux: FLUX_URI is not set and no URI was given (start an instance with tsflux start)');
    uriToPath(uri); // same early error as the main-thread engine
    this.mode = opts.events ?? 'journal';
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { ...opts, uri } });
    this.worker.on('message', (batch: FromWorker[]) => this.onBatch(batch));
    this.worker.on('error', (err) => this.die(new BrokenExecutorError(Errno.EIO, `executor worker thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closedFlag) this.die(new BrokenExecutorError(Errno.EIO, `executor worker thread exited (code ${code})`));
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

  private send(m: ToWorker): void {
    if (this.dead) return;
    this.out.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        const batch = this.out;
        this.out = [];
        this.worker.postMessage(batch);
      });
    }
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
          if (this.live.size === 0 && !this.closeWaiters.length) this.worker.unref();
          break;
        case 'b':
          this.sink.broken(errorFromRecord(n[1]));
          break;
        case 'm':
          this.mode = n[1] as EventsMode;
          break;
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
    this.sink.broken(err);
  }
}
