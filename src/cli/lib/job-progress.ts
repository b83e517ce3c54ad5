/**
 * What `submit --progress [--jps]` shows, as flux submit does (flux.cli.base SubmitBulkCmd,
 * flux.job.watcher JobProgressBar):
 *
 * - with --wait / --wait-event / --watch, every submitted job is followed and the bar counts
 *   them by state: `PD:{pending:<3} R:{running:<3} CD:{complete:<3} F:{failed:<3} │...│`, then
 *   the percent of jobs done (reached the awaited event or ended) and the elapsed time, or
 *   with --jps the jobs done per second (`{percent:5.1f}% {jps:4.1f} job/s`);
 * - without them it shows the submission itself: `Submitting {total} jobs: │...│` with the
 *   percent of jobs submitted (accepted or refused) and the elapsed time or submissions/s.
 *
 * A job is pending until its `alloc` event, then running; `finish` with status 0 makes it
 * complete, any other status failed; a fatal exception (severity 0) before alloc makes it
 * failed. A job counts as done when its awaited event arrives or its eventlog ends.
 */
import type { EventlogEvent } from '../../job/eventlog.js';
import { pyFormat } from './pyformat.js';
import { TerminalBar } from './progress-bar.js';

type Status = 'pending' | 'running' | 'complete' | 'failed';

/** Progress of submitted jobs through their states (--progress with --wait/--watch). */
export class JobProgress {
  pending = 0;
  running = 0;
  complete = 0;
  failed = 0;
  private readonly jobs = new Map<bigint, Status>();
  private readonly done = new Set<bigint>();
  readonly bar: TerminalBar;

  constructor(opts: { jps: boolean; stream?: NodeJS.WriteStream }) {
    const w = (n: number): string => pyFormat(n, '<3');
    this.bar = new TerminalBar({
      ...opts,
      before: () => `PD:${w(this.pending)} R:${w(this.running)} CD:${w(this.complete)} F:${w(this.failed)} `,
    });
  }

  start(): this {
    this.bar.start();
    return this;
  }

  stop(): void {
    this.bar.stop();
  }

  /** A job was submitted: follow it from pending. */
  addJob(id: bigint): void {
    if (this.jobs.has(id)) return;
    this.jobs.set(id, 'pending');
    this.pending++;
    this.bar.total++;
    this.bar.update();
  }

  /** One event of a job's eventlog, or undefined when the job is done (awaited event, end of log). */
  processEvent(id: bigint, ev: EventlogEvent | undefined): void {
    const status = this.jobs.get(id);
    if (status === undefined) return;
    if (ev === undefined) {
      if (!this.done.has(id)) {
        this.done.add(id);
        this.bar.jps = this.bar.rate();
        this.bar.count++;
      }
    } else if (ev.name === 'alloc' && status === 'pending') {
      this.set(id, status, 'running');
    } else if (ev.name === 'exception' && Number(ev.context['severity']) === 0) {
      // a running job that gets an exception still posts finish
      if (status === 'pending') this.set(id, status, 'failed');
    } else if (ev.name === 'finish' && (status === 'pending' || status === 'running')) {
      this.set(id, status, Number(ev.context['status']) === 0 ? 'complete' : 'failed');
    }
    this.bar.update();
  }

  private set(id: bigint, from: Status, to: Status): void {
    this.jobs.set(id, to);
    this[from]--;
    this[to]++;
  }
}

/** Progress of the submission alone (--progress without --wait/--watch). */
export class SubmitProgress {
  readonly bar: TerminalBar;

  constructor(total: number, opts: { jps: boolean; stream?: NodeJS.WriteStream }) {
    this.bar = new TerminalBar({ ...opts, before: () => `Submitting ${total} jobs: ` });
    this.bar.total = total;
  }

  start(): this {
    this.bar.start();
    return this;
  }

  stop(): void {
    this.bar.stop();
  }

  /** One submission was answered (an id or an error). */
  submitted(): void {
    this.bar.jps = this.bar.rate();
    this.bar.count++;
    this.bar.update();
  }
}
