/**
 * The executor's I/O: one connection to the instance, the submits, and the routing of every job
 * event to the future that waits for it. It knows futures only by a numeric key and reports to
 * a sink, so it runs the same on the main thread or inside a worker thread (worker.ts).
 *
 * How events reach a future (design notes in examples/async-bulk-job-submit/README.md):
 *
 * - **journal** (default): ONE `job-manager.events-journal` stream `{"full": false}` to nodeid 0
 *   carries the events of every job in the instance; they are routed by id. The stream is opened
 *   before the first submit goes out on the same connection, so the job manager registers it
 *   before it sees any of our jobs: every event of ours arrives live, none is missed, none twice.
 *   A job's first events may come BEFORE the submit response that tells us its id, so events of
 *   unknown ids are kept while a submit is in flight (and only then), pruned at their `clean`,
 *   dropped as soon as no submit is in flight (then they cannot be ours), and bounded: past the
 *   bound the oldest go, and a job whose id arrives after such a loss is followed by an eventlog
 *   watch instead (it replays the whole log), so nothing is ever lost.
 *   The journal is owner-only in flux-core: when it is refused (EPERM for a guest, ENOSYS/EPROTO
 *   on an instance without it) the engine falls back to the watch design for good.
 *   When nothing is pending the stream is canceled, so an idle executor does not keep the
 *   process alive; the next submit opens it again.
 * - **watch**: one `job-info.eventlog-watch` `{id, path:"eventlog", flags:0}` per job, sent
 *   right after its submit response: exactly what flux-core's Python FluxExecutor sends
 *   (test/vectors/seed-bulksubmit-executor.json). `attach()` always uses it (it replays the
 *   history of a job submitted elsewhere, and answers ENOENT for an unknown id).
 */
import { Flux, type RpcStream } from '../handle.js';
import { submitAsync, type SubmitOptions } from '../job/submit.js';
import { Errno, FluxError } from '../../protocol/errno.js';
import { jobIdToWire } from '../../protocol/json.js';
import { parseEvent, type EventlogEntry } from '../../job/eventlog.js';
import { JobID } from '../../job/jobid.js';
import { BrokenExecutorError, InvalidJobIdError } from './errors.js';

export type EventsMode = 'journal' | 'watch';

/** Where the engine reports; every call is about one future's key, in order. */
export interface EngineSink {
  /** The job id is known (after the submit response, or at once for attach). */
  jobid(key: number, id: bigint): void;
  /** Main-eventlog entries of that job, in eventlog order (journal-only entries included). */
  events(key: number, entries: readonly EventlogEntry[]): void;
  /** The job could not be submitted / attached, or the executor broke. */
  fail(key: number, err: Error): void;
  /** No more events will come for this key (its `clean`, its watch ended, or it failed). */
  end(key: number): void;
  /** The connection is gone (every pending key also gets fail + end). */
  broken(err: Error): void;
}

export interface EngineOptions {
  uri?: string;
  events?: EventsMode;
  /** Submits in flight at once; the rest wait in order (default 1024). */
  maxInflight?: number;
  /** Bound on buffered events of not-yet-claimed ids (jobs, default 65536). */
  unclaimedLimit?: number;
  /** Write each submit to the socket at once instead of at the end of the tick (default true). */
  eagerFlush?: boolean;
}

interface Track {
  key: number;
  id?: bigint;
  /** The job should be canceled in the instance once its id is known. */
  cancelWanted: boolean;
  ended: boolean;
  /** Value of `lost` when its submit was sent (journal mode). */
  lostAtSend: number;
  watch?: RpcStream;
  attach: boolean;
  /** Waiting in `queue` (not sent yet). */
  queued: boolean;
}

interface QueuedSubmit {
  track: Track;
  jobspec: string;
  opts: SubmitOptions;
}

const CONNECTION_ERRNOS = new Set<number>([
  Errno.ECONNRESET,
  Errno.EPIPE,
  Errno.ENOTCONN,
  Errno.ECONNREFUSED,
  Errno.ECONNABORTED,
  Errno.ESHUTDOWN,
  Errno.EHOSTUNREACH,
  Errno.ETIMEDOUT,
]);

/** Did this error come from the connection (as opposed to a service's answer)? */
export function isConnectionError(e: unknown): e is FluxError {
  return (
    e instanceof FluxError && (CONNECTION_ERRNOS.has(e.errno) || e.message.startsWith('Unable to connect to Flux'))
  );
}

/**
 * Write the handle's queued requests now. Flux batches writes to the end of the tick; this asks
 * it to write at once (the kernel takes the bytes without blocking while the caller computes).
 */
function flushNow(h: Flux): void {
  h.flush();
}

function hasClean(entries: readonly EventlogEntry[]): boolean {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.name === 'clean') return true;
  return false;
}

function f58(id: bigint): string {
  try {
    return new JobID(id).f58;
  } catch {
    return String(id);
  }
}

export class ExecutorEngine {
  readonly uri: string;
  private readonly h: Flux;
  private mode: EventsMode;
  private readonly maxInflight: number;
  private readonly unclaimedLimit: number;
  private readonly eagerFlush: boolean;
  private readonly tracks = new Map<number, Track>();
  /** Journal-routed jobs whose id is known. */
  private readonly byId = new Map<bigint, Track>();
  /** Events of ids not (yet) known to be ours, kept while submits are in flight. */
  private readonly unclaimed = new Map<bigint, EventlogEntry[]>();
  /** Same, for jobs that reached `clean` before anyone claimed them (bounded). */
  private readonly cleanedUnclaimed = new Map<bigint, EventlogEntry[]>();
  /** How many unclaimed jobs were dropped for lack of room (ever). */
  private lost = 0;
  private journal: RpcStream | undefined;
  private journalHadResponse = false;
  private idleCheck = false;
  private inflight = 0;
  private readonly queue: QueuedSubmit[] = [];
  private brokenErr: Error | undefined;
  private closing = false;
  private closeWaiters: (() => void)[] = [];
  /** Counters for the benchmark and the README. */
  readonly stats = {
    /** journal responses received */
    journalResponses: 0,
    /** journal streams opened (it is closed when idle) */
    journalOpens: 0,
    /** eventlog watches opened (attach, watch mode, fallbacks) */
    watches: 0,
    /** jobs whose events arrived before their id was known */
    unclaimedBuffered: 0,
    /** buffered jobs that turned out not to be ours */
    unclaimedDropped: 0,
    /** jobs followed by a watch because their buffered events were dropped */
    fallbacks: 0,
  };

  constructor(
    private readonly sink: EngineSink,
    opts: EngineOptions = {},
  ) {
    this.h = new Flux(opts.uri);
    this.uri = this.h.uri;
    this.mode = opts.events ?? 'journal';
    this.maxInflight = Math.max(1, opts.maxInflight ?? 1024);
    this.unclaimedLimit = Math.max(16, opts.unclaimedLimit ?? 65536);
    this.eagerFlush = opts.eagerFlush ?? true;
  }

  get eventsMode(): EventsMode {
    return this.mode;
  }

  get broken(): Error | undefined {
    return this.brokenErr;
  }

  /** Keys not yet ended. */
  get pending(): number {
    return this.tracks.size;
  }

  /** Resolves once connected to the instance; rejects with the connect error. */
  ready(): Promise<void> {
    return this.h.ready();
  }

  // ---- requests from the executor ----------------------------------------------------------

  submit(key: number, jobspec: string, opts: SubmitOptions): void {
    const track: Track = { key, cancelWanted: false, ended: false, lostAtSend: 0, attach: false, queued: true };
    this.tracks.set(key, track);
    if (this.brokenErr) return this.failTrack(track, this.brokenErr);
    this.queue.push({ track, jobspec, opts });
    this.pump();
  }

  attach(key: number, id: bigint): void {
    const track: Track = { key, id, cancelWanted: false, ended: false, lostAtSend: 0, attach: true, queued: false };
    this.tracks.set(key, track);
    if (this.brokenErr) return this.failTrack(track, this.brokenErr);
    this.sink.jobid(key, id);
    this.startWatch(track);
  }

  /**
   * Cancel the job of this key in the instance: at once if its id is known, when it arrives if
   * its submit is in flight; a submit still queued here is dropped and never sent.
   */
  cancel(key: number): void {
    const track = this.tracks.get(key);
    if (!track || track.ended) return;
    if (track.queued) {
      this.endTrack(track); // pump() skips it
      return;
    }
    track.cancelWanted = true;
    if (track.id !== undefined) this.raiseCancel(track);
  }

  /** Close the connection once every key has ended (at once when `now`). */
  close(now = false): Promise<void> {
    this.closing = true;
    if (now) {
      for (const t of [...this.tracks.values()])
        this.failTrack(t, new BrokenExecutorError(Errno.ECANCELED, 'executor closed'));
    }
    if (this.tracks.size === 0) {
      this.shutdownConnection();
      return Promise.resolve();
    }
    return new Promise((r) => this.closeWaiters.push(r));
  }

  // ---- submit -------------------------------------------------------------------------------

  private pump(): void {
    if (this.queue.length === 0) return;
    if (this.mode === 'journal' && !this.journal) this.openJournal();
    let sent = 0;
    while (this.queue.length > 0 && this.inflight < this.maxInflight && !this.brokenErr) {
      const q = this.queue.shift()!;
      q.track.queued = false;
      if (q.track.ended) continue; // canceled while queued
      this.sendSubmit(q);
      sent++;
    }
    // Write now rather than at the end of this tick: a caller that submits and then computes
    // for a while (no await) gets its jobs into the instance, and running, meanwhile.
    if (sent > 0 && this.eagerFlush) flushNow(this.h);
  }

  private sendSubmit(q: QueuedSubmit): void {
    const { track } = q;
    this.inflight++;
    track.lostAtSend = this.lost;
    submitAsync(this.h, q.jobspec, q.opts).then(
      (id) => this.submitted(track, id),
      (err) => this.submitFailed(track, err),
    );
  }

  private submitted(track: Track, id: bigint): void {
    this.inflight--;
    if (track.ended) return this.afterSubmitResponse();
    track.id = id;
    this.sink.jobid(track.key, id);
    if (this.mode === 'watch') {
      this.startWatch(track);
    } else {
      const buf = this.unclaimed.get(id) ?? this.cleanedUnclaimed.get(id);
      if (buf) {
        this.unclaimed.delete(id);
        this.cleanedUnclaimed.delete(id);
        this.sink.events(track.key, buf);
        if (hasClean(buf)) this.endTrack(track);
        else this.byId.set(id, track);
      } else if (this.lost !== track.lostAtSend || !this.journal) {
        // events of this job may have been dropped: replay its log instead
        this.stats.fallbacks++;
        this.startWatch(track);
      } else {
        this.byId.set(id, track);
      }
    }
    if (track.cancelWanted && !track.ended) this.raiseCancel(track);
    this.afterSubmitResponse();
  }

  private submitFailed(track: Track, err: unknown): void {
    this.inflight--;
    if (isConnectionError(err)) this.breakAll(err);
    else if (!track.ended) this.failTrack(track, err instanceof Error ? err : new Error(String(err)));
    this.afterSubmitResponse();
  }

  private afterSubmitResponse(): void {
    if (this.inflight === 0) {
      // every submit has answered: unclaimed events cannot be ours
      this.stats.unclaimedDropped += this.unclaimed.size + this.cleanedUnclaimed.size;
      this.unclaimed.clear();
      this.cleanedUnclaimed.clear();
    }
    this.pump();
    this.maybeIdle();
  }

  private raiseCancel(track: Track): void {
    track.cancelWanted = false;
    // Fails when the job has already ended (nothing left to cancel) or the connection is gone
    // (the journal's end breaks the executor); the future is cancelled already, so no caller
    // waits for this answer.
    // eslint-disable-next-line no-restricted-syntax -- the future is settled; a lost connection is reported by the journal
    this.h.rpc('job-manager.raise', { id: jobIdToWire(track.id!), type: 'cancel', severity: 0 }).catch(() => {});
  }

  // ---- the journal --------------------------------------------------------------------------

  private openJournal(): void {
    let stream: RpcStream;
    try {
      stream = this.h.rpcStream(
        'job-manager.events-journal',
        { full: false },
        { nodeid: 0, cancelTopic: 'job-manager.events-journal-cancel' },
      );
    } catch (e) {
      this.breakAll(e);
      return;
    }
    this.journal = stream;
    this.journalHadResponse = false;
    this.stats.journalOpens++;
    void this.consumeJournal(stream);
  }

  private async consumeJournal(stream: RpcStream): Promise<void> {
    let error: unknown;
    try {
      for await (const r of stream) {
        if (stream !== this.journal) continue; // a stream we canceled, still draining
        this.journalHadResponse = true;
        this.onJournal(r);
      }
    } catch (e) {
      error = e;
    }
    if (stream !== this.journal) return; // we canceled it
    this.journal = undefined;
    if (isConnectionError(error)) return this.breakAll(error);
    const fe = error instanceof FluxError ? error : undefined;
    if (
      !this.journalHadResponse &&
      fe &&
      (fe.errno === Errno.EPERM || fe.errno === Errno.ENOSYS || fe.errno === Errno.EPROTO)
    ) {
      // no journal for us (guest user, or an instance without it): watch each job instead
      this.mode = 'watch';
      for (const t of [...this.byId.values()]) {
        this.byId.delete(t.id!);
        this.startWatch(t);
      }
      this.unclaimed.clear();
      this.cleanedUnclaimed.clear();
      return;
    }
    const why = error
      ? `${(error as Error).message}`
      : 'the job manager ended the stream (is the instance shutting down?)';
    this.breakAll(
      new BrokenExecutorError(
        fe?.errno ?? Errno.ECONNRESET,
        `${this.uri}: lost the job-manager events journal: ${why}`,
      ),
    );
  }

  private onJournal(r: any): void {
    this.stats.journalResponses++;
    const raw = r?.id;
    if (raw === -1 || raw === undefined) return; // sentinel (after the backlog of active jobs)
    const id = typeof raw === 'bigint' ? raw : BigInt(raw);
    const entries = r.events as EventlogEntry[];
    if (!Array.isArray(entries) || entries.length === 0) return;
    const track = this.byId.get(id);
    if (track) {
      this.sink.events(track.key, entries);
      if (hasClean(entries)) {
        this.byId.delete(id);
        this.endTrack(track);
      }
      return;
    }
    const buf = this.unclaimed.get(id);
    if (buf) {
      for (const e of entries) buf.push(e);
      if (hasClean(entries)) {
        this.unclaimed.delete(id);
        this.cleanedUnclaimed.set(id, buf);
        this.bound(this.cleanedUnclaimed, Math.min(4096, this.unclaimedLimit));
      }
      return;
    }
    if (this.inflight === 0) return; // cannot be one of ours
    // flux-core answers {full:false} with a backlog of the active jobs (all their events in one
    // response) before the sentinel; live responses carry one event each. Our jobs are submitted
    // after the journal is registered, so a many-event response is never one of ours.
    if (entries.length > 1) return;
    this.stats.unclaimedBuffered++;
    const copy = entries.slice();
    if (hasClean(entries)) {
      this.cleanedUnclaimed.set(id, copy);
      this.bound(this.cleanedUnclaimed, Math.min(4096, this.unclaimedLimit));
    } else {
      this.unclaimed.set(id, copy);
      this.bound(this.unclaimed, this.unclaimedLimit);
    }
  }

  private bound(m: Map<bigint, EventlogEntry[]>, limit: number): void {
    while (m.size > limit) {
      const oldest = m.keys().next().value as bigint;
      m.delete(oldest);
      this.lost++;
    }
  }

  // ---- per-job eventlog watch (attach, watch mode, fallbacks) --------------------------------

  private startWatch(track: Track): void {
    let stream: RpcStream<{ event?: string } | undefined>;
    try {
      stream = this.h.rpcStream(
        'job-info.eventlog-watch',
        { id: jobIdToWire(track.id!), path: 'eventlog', flags: 0 },
        { cancelTopic: 'job-info.eventlog-watch-cancel' },
      );
    } catch (e) {
      this.breakAll(e);
      return;
    }
    this.stats.watches++;
    track.watch = stream;
    void this.consumeWatch(track, stream);
  }

  private async consumeWatch(track: Track, stream: RpcStream<{ event?: string } | undefined>): Promise<void> {
    let error: unknown;
    try {
      for await (const r of stream) {
        if (track.ended) continue;
        if (!r || typeof r.event !== 'string') continue;
        let entry: EventlogEntry;
        try {
          entry = parseEvent(r.event);
        } catch {
          continue;
        }
        this.sink.events(track.key, [entry]);
      }
    } catch (e) {
      error = e;
    }
    track.watch = undefined;
    if (track.ended) return;
    if (error === undefined) return this.endTrack(track);
    if (isConnectionError(error)) return this.breakAll(error);
    if (error instanceof FluxError && error.errno === Errno.ENOENT) {
      return this.failTrack(track, new InvalidJobIdError(f58(track.id!)));
    }
    this.failTrack(track, error instanceof Error ? error : new Error(String(error)));
  }

  // ---- endings ------------------------------------------------------------------------------

  private endTrack(track: Track): void {
    if (track.ended) return;
    track.ended = true;
    this.tracks.delete(track.key);
    if (track.id !== undefined && this.byId.get(track.id) === track) this.byId.delete(track.id);
    this.sink.end(track.key);
    this.maybeIdle();
  }

  private failTrack(track: Track, err: Error): void {
    if (track.ended) return;
    this.sink.fail(track.key, err);
    track.watch?.cancel();
    this.endTrack(track);
  }

  private breakAll(cause: unknown): void {
    if (this.brokenErr) return;
    const err =
      cause instanceof BrokenExecutorError
        ? cause
        : new BrokenExecutorError(
            cause instanceof FluxError ? cause.errno : Errno.ECONNRESET,
            `executor lost its Flux instance (${cause instanceof Error ? cause.message : String(cause)}); the job's outcome is unknown`,
          );
    this.brokenErr = err;
    this.queue.length = 0;
    this.journal = undefined;
    for (const t of [...this.tracks.values()]) this.failTrack(t, err);
    this.sink.broken(err);
    this.shutdownConnection();
  }

  /** When nothing is pending: close the journal (so the process may exit), or the handle. */
  private maybeIdle(): void {
    if (this.tracks.size > 0 || this.inflight > 0) return;
    this.queue.length = 0; // only canceled entries can be left
    if (this.closing) {
      this.shutdownConnection();
      return;
    }
    if (!this.journal || this.idleCheck) return;
    this.idleCheck = true;
    setImmediate(() => {
      this.idleCheck = false;
      if (this.tracks.size > 0 || this.inflight > 0 || this.queue.length > 0 || !this.journal) return;
      const j = this.journal;
      this.journal = undefined;
      j.cancel();
    });
  }

  private shutdownConnection(): void {
    if (this.journal) {
      const j = this.journal;
      this.journal = undefined;
      j.cancel();
    }
    this.h.close();
    for (const w of this.closeWaiters.splice(0)) w();
  }
}
