/**
 * job-info (docs/protocol.md §B; flux-core src/modules/job-info/{watch,guest_watch,lookup}.c):
 * streams and reads the per-job logs and values the other services keep in the job store.
 *
 *   job-info.eventlog-watch (streaming)  {id, path, flags}  → {event:"<line>\n"}… then ENODATA
 *   job-info.eventlog-watch-cancel (NORESPONSE) {matchtag}  → that watch ends with one ENODATA
 *   job-info.lookup  {id, keys:[…], flags}                  → {id, <key>: <value>}
 *   job-info.disconnect                                     → drops the client's watches
 *
 * Watches are indexed by job id (one store watcher for the whole service), so an append costs
 * O(watchers of that job), and by connection + matchtag for cancel / disconnect.
 *
 * A `guest.*` log (a job's output can be a gigabyte) is never held here: its watch keeps a cursor
 * into the store and reads from it (store.readLogPieces) a few chunks at a time, only while the
 * client's connection has less than FLOW_HIGH bytes queued; past that it waits for the queue to
 * drain to FLOW_LOW (Request.outflow). Each line goes out as it was stored: its response's
 * payload is written into the wire buffer when sent (event-payload.ts). A watcher that is behind
 * costs a cursor, not data; an append only wakes the watchers that are caught up. In-process
 * requests have no queue and are never paused.
 * The main `eventlog` (small) is read whole. INITIAL_SENTINEL on a guest log comes once the
 * watch has caught up with the log (after the lines that existed, and any appended meanwhile).
 *
 * lookup of a `guest.*` log longer than LOOKUP_MAX is refused with EFBIG (its answer would be
 * one message that no client takes): such a log is read with eventlog-watch.
 *
 * When a watch ends (ENODATA):
 *   - `eventlog`: after the `clean` line (lines appended after it are not sent, as in flux).
 *   - `guest.exec.eventlog`: after the `done` line, or once the job's eventlog has `clean`.
 *   - `guest.output`: once every stream announced in the `header` (`count`) has `eof` records
 *     covering its ranks, or once the job's eventlog has `clean`.
 *   - any other `guest.*` key: once the job's eventlog has `clean`.
 *   - any other key (main namespace): only on cancel / disconnect (flux: "hangs").
 * A `guest.*` log that does not exist yet is waited for while the job is active (flux waits for
 * the guest namespace); WAITCREATE makes a missing main-namespace key wait too. A guest log that
 * never appeared ends with ENODATA if the job never started, ENOENT otherwise (flux-core
 * t2231-job-info-eventlog-watch.t "never start job" / "invalid and --waitcreate").
 */
import { Errno } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { decodeIdset } from '../../job/idset.js';
import { redactJobspec } from '../../job/jobspec.js';
import { encodeJobId } from '../../job/jobid.js';
import { encodeSize } from '../../job/size.js';
import { INTERNAL_CONN, requestJobId } from '../service.js';
import type { BrokerContext, ConnId, Method, Request, Service } from '../service.js';
import type { LogPieces } from '../store/store.js';
import { EventPayload } from './event-payload.js';
import { RecordError, records, renderRecord, textRecords } from '../../job/output-records.js';
import { Real, fromPlain, janssonDumps, jpathSet, parseKeepReals, plain, type JValue } from './jansson.js';

/** eventlog-watch flags (libjob/job.h). */
export const WATCH_WAITCREATE = 1;
export const WATCH_INITIAL_SENTINEL = 2;
const WATCH_VALID_FLAGS = WATCH_WAITCREATE | WATCH_INITIAL_SENTINEL;

/** lookup flags (libjob/job.h). */
export const LOOKUP_JSON_DECODE = 1;
export const LOOKUP_CURRENT = 2;
const LOOKUP_VALID_FLAGS = LOOKUP_JSON_DECODE | LOOKUP_CURRENT;

const KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A guest log watch reads at most this much of the log at a time. */
export const READ_BYTES = 256 * 1024;
/**
 * It reads only while its connection has at most this many bytes queued… What is queued lives
 * long enough to reach V8's old generation, where it is freed only by a full collection: with
 * 2 MiB here, two attaches following a 256 MiB job took the broker's heap 58 MiB past idle, with
 * 512 KiB 31 MiB, and replay was as fast.
 */
export const FLOW_HIGH = 512 * 1024;
/** …and, past that, waits until the queue is down to this. */
export const FLOW_LOW = 256 * 1024;
/**
 * The longest guest log lookup answers (characters). JSON escaping at most doubles an
 * eventlog's text, so the answer stays well within a client's 64 MiB message limit.
 */
export const LOOKUP_MAX = 16 * 1024 * 1024;

const enum Kind {
  Main = 0, // eventlog
  Exec = 1, // guest.exec.eventlog
  Output = 2, // guest.output
  Guest = 3, // other guest.* keys
  Other = 4, // other main-namespace keys
}

/** Logs kept in the store as chunks and read by cursor: every `guest.*` key. */
function isGuest(kind: Kind): boolean {
  return kind === Kind.Exec || kind === Kind.Output || kind === Kind.Guest;
}

function kindOf(path: string): Kind {
  if (path === 'eventlog') return Kind.Main;
  if (path === 'guest.exec.eventlog') return Kind.Exec;
  if (path === 'guest.output') return Kind.Output;
  if (path.startsWith('guest.')) return Kind.Guest;
  return Kind.Other;
}

const NAME_RE = /"name"\s*:\s*"((?:[^"\\]|\\.)*)"/;

/** Name of an RFC 18 line (the first "name" key: timestamp, name, context is the key order). */
function eventName(line: string): string | undefined {
  return NAME_RE.exec(line)?.[1];
}

/** True if one of the lines of `text` is event `name`. */
function hasEvent(text: string, name: string): boolean {
  if (!text.includes(name)) return false;
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    if (eventName(text.slice(start, nl)) === name) return true;
    start = nl + 1;
  }
  return false;
}

class Watch {
  done = false;
  /** The log does not exist yet. */
  waiting = false;
  // main-namespace logs: read whole, then followed append by append
  /** Appends that arrived while the existing lines were being replayed. */
  backlog: string | undefined = undefined;
  replaying = false;
  // guest logs: read from the store through a cursor
  /** Where the next read of the log starts (store.readLog). */
  cursor = 0;
  /** In pump(): appends made meanwhile are read by its loop. */
  pumping = false;
  /** Waiting for the client's queue to drain; calling it stops waiting. */
  unpause: (() => void) | undefined = undefined;
  /** The job is inactive: the watch ends once it has caught up. */
  ending = false;
  /** INITIAL_SENTINEL not sent yet (it goes once the watch has caught up). */
  sentinel = false;
  /** guest.output: eof ranks still expected per stream (from the header; 1 by default). */
  needOut = 1;
  needErr = 1;
  constructor(
    readonly req: Request,
    readonly id: bigint,
    readonly path: string,
    readonly kind: Kind,
    readonly flags: number,
    /** output-watch: pieces go out as binary records, not as eventlog lines. */
    readonly raw = false,
  ) {}
}

function rankCount(rank: unknown): number {
  if (typeof rank !== 'string') return 1;
  try {
    return Math.max(1, decodeIdset(rank).length);
  } catch {
    return 1;
  }
}

export class JobInfoService implements Service {
  readonly name = 'job-info';
  /** Any user may read and watch; whose job it is, is checked per request (allowed()). */
  readonly methods: Record<string, Method>;
  private ctx!: BrokerContext;
  private unwatch: (() => void) | undefined;
  private readonly byJob = new Map<bigint, Watch[]>();
  /** conn → matchtag → watches (normally one; flux-core cancels every match). */
  private readonly byConn = new Map<ConnId, Map<number, Watch[]>>();
  private nwatches = 0;

  constructor() {
    this.methods = {
      'eventlog-watch': { roles: Role.USER, handler: (r) => this.watch(r) },
      'output-watch': { roles: Role.USER, handler: (r) => this.watch(r, true) },
      'eventlog-watch-cancel': { roles: Role.USER, handler: (r) => this.cancel(r) },
      lookup: { roles: Role.USER, handler: (r) => this.lookup(r) },
      disconnect: { roles: Role.USER, handler: (r) => this.disconnect(r.conn) },
    };
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
    this.unwatch = ctx.store.watch((id, key, text) => this.onStore(id, key, text));
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    for (const list of [...this.byJob.values()]) {
      for (const w of [...list]) this.finish(w, w.req.conn === INTERNAL_CONN ? Errno.ENODATA : Errno.ENOSYS);
    }
  }

  /** Number of live watches (for tests and stats). */
  get watchCount(): number {
    return this.nwatches;
  }

  /** Live watches on one job. */
  watchersOf(id: bigint): number {
    return this.byJob.get(id)?.length ?? 0;
  }

  disconnect(conn: ConnId): void {
    const m = this.byConn.get(conn);
    if (!m) return;
    this.byConn.delete(conn);
    for (const ws of m.values()) {
      for (const w of ws) {
        w.done = true;
        w.unpause?.();
        w.unpause = undefined;
        this.unindexJob(w);
      }
    }
  }

  // ---- eventlog-watch ------------------------------------------------------------------------

  /** eventlog-watch, or (`raw`) output-watch: guest.output as binary records. */
  private watch(req: Request, raw = false): void {
    const p = req.payload;
    const method = raw ? 'output-watch' : 'eventlog-watch';
    if (!p || typeof p !== 'object' || p.id === undefined || (!raw && typeof p.path !== 'string')) {
      return req.error(Errno.EPROTO, `invalid payload: ${raw ? 'id is' : 'id and path are'} required`);
    }
    if (!req.streaming) return req.error(Errno.EPROTO, `${method} request rejected without streaming RPC flag`);
    if (raw && req.respondRaw === undefined) {
      return req.error(Errno.EPROTO, 'output-watch is answered over a connection only');
    }
    const flags = p.flags ?? 0;
    if (!Number.isInteger(flags) || (flags & ~WATCH_VALID_FLAGS) !== 0) {
      return req.error(Errno.EPROTO, `${method} request rejected with invalid flag`);
    }
    const id = requestJobId(req);
    if (id === undefined) return;
    const path: string = raw ? 'guest.output' : p.path;
    if (!KEY_RE.test(path) || path === 'guest') return req.error(Errno.EINVAL, `invalid eventlog path: ${path}`);
    const store = this.ctx.store;
    if (!store.has(id)) return req.error(Errno.ENOENT);
    if (!this.allowed(req, id)) return req.error(Errno.EPERM);

    const kind = kindOf(path);
    const w = new Watch(req, id, path, kind, flags, raw);
    if (isGuest(kind)) return this.watchGuest(w);
    const text = store.get(id, path);
    if (text === undefined) {
      if (!(flags & WATCH_WAITCREATE)) return req.error(Errno.ENOENT);
      w.waiting = true;
      this.index(w);
      if (flags & WATCH_INITIAL_SENTINEL) req.respond();
      return;
    }
    this.index(w);
    // Appends made while replaying (from a response callback) queue behind the replay.
    w.replaying = true;
    let ended = this.feed(w, text);
    if (w.done) return; // canceled or disconnected from a response callback
    if (flags & WATCH_INITIAL_SENTINEL) req.respond();
    while (!ended && !w.done && w.backlog !== undefined) {
      const more = w.backlog;
      w.backlog = undefined;
      ended = this.feed(w, more);
    }
    w.backlog = undefined;
    w.replaying = false;
    if (w.done) return;
    if (ended) this.finish(w, Errno.ENODATA);
  }

  /** A watch of a guest log: read from the store by cursor, paced by the client (pump()). */
  private watchGuest(w: Watch): void {
    const store = this.ctx.store;
    const clean = hasEvent(store.get(w.id, 'eventlog') ?? '', 'clean');
    const first = store.readLogPieces(w.id, w.path, 0, READ_BYTES);
    if (first === undefined) {
      // flux waits for the guest namespace while the job is active
      if (clean)
        return w.req.error(hasEvent(store.get(w.id, 'eventlog') ?? '', 'start') ? Errno.ENOENT : Errno.ENODATA);
      w.waiting = true;
      this.index(w);
      if (w.flags & WATCH_INITIAL_SENTINEL) w.req.respond();
      return;
    }
    this.index(w);
    w.sentinel = (w.flags & WATCH_INITIAL_SENTINEL) !== 0;
    w.ending = clean; // the guest log of an inactive job: nothing more will come
    this.pump(w, first);
  }

  /**
   * Send what the guest log has past the watch's cursor, a piece at a time, while the client's
   * connection has room; otherwise wait for it to drain. Once caught up: the sentinel if one is
   * due, and the end if the job is inactive.
   */
  private pump(w: Watch, first?: LogPieces): void {
    if (w.pumping || w.unpause !== undefined || w.done) return;
    w.pumping = true;
    try {
      let r = first;
      for (;;) {
        if (w.done) return;
        const flow = w.req.outflow;
        if (flow !== undefined && flow.queuedBytes > FLOW_HIGH) {
          // (a first read made to see whether the log exists is read again later)
          w.unpause = flow.whenBelow(FLOW_LOW, () => {
            w.unpause = undefined;
            this.pump(w);
          });
          return;
        }
        r ??= this.ctx.store.readLogPieces(w.id, w.path, w.cursor, READ_BYTES);
        if (r === undefined || r.pieces.length === 0) break; // caught up
        w.waiting = false;
        w.cursor = r.cursor;
        const pieces = r.pieces;
        r = undefined;
        for (const p of pieces) {
          if (w.raw ? this.feedRecords(w, p) : this.feed(w, p)) {
            this.finish(w, Errno.ENODATA);
            return;
          }
          if (w.done) return;
        }
      }
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      this.ctx.log('err', `job-info: ${w.path} of job ${encodeJobId(w.id, 'f58')}: ${e.message}`);
      this.finish(w, Errno.EIO, `${w.path} of job ${encodeJobId(w.id, 'f58')} is damaged in the store: ${e.message}`);
      return;
    } finally {
      w.pumping = false;
    }
    if (w.sentinel) {
      w.sentinel = false;
      w.req.respond();
      if (w.done || w.pumping || w.unpause !== undefined) return; // a callback moved it on
    }
    if (w.ending) this.finish(w, Errno.ENODATA);
  }

  /**
   * Send each complete line of `text` (or each record of a piece of records, as its line);
   * returns true once the line that ends this watch has been sent (the rest is dropped).
   */
  private feed(w: Watch, text: string | Buffer): boolean {
    if (typeof text !== 'string') {
      for (const r of records(text)) {
        if (w.done) return false;
        const line = renderRecord(r);
        if (w.req.respondWith !== undefined) w.req.respondWith(new EventPayload(line));
        else w.req.respond({ event: line });
        if (r.line !== undefined && this.terminal(w, line)) return true;
      }
      return false;
    }
    let start = 0;
    const n = text.length;
    while (start < n && !w.done) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const line = text.slice(start, nl + 1);
      start = nl + 1;
      if (w.req.respondWith !== undefined && isGuest(w.kind)) w.req.respondWith(new EventPayload(line));
      else w.req.respond({ event: line });
      if (this.terminal(w, line)) return true;
    }
    return false;
  }

  /**
   * output-watch: send a piece as binary records, in one response (text of an older store
   * becomes LINE records); true once the record that ends the watch has been sent (the rest is
   * dropped). Only LINE records can end it (eof, RFC 24).
   */
  private feedRecords(w: Watch, piece: string | Buffer): boolean {
    const buf = typeof piece === 'string' ? textRecords(piece) : piece;
    for (const r of records(buf)) {
      if (r.line !== undefined && this.terminal(w, r.line)) {
        w.req.respondRaw!(buf.subarray(0, r.end));
        return true;
      }
    }
    w.req.respondRaw!(buf);
    return false;
  }

  private terminal(w: Watch, line: string): boolean {
    switch (w.kind) {
      case Kind.Main:
        return line.includes('clean') && eventName(line) === 'clean';
      case Kind.Exec:
        return line.includes('done') && eventName(line) === 'done';
      case Kind.Output:
        return this.outputLine(w, line);
      default:
        return false;
    }
  }

  /** guest.output: track the header's stream counts and the eof records (RFC 24). */
  private outputLine(w: Watch, line: string): boolean {
    const isHeader = line.includes('"header"') && eventName(line) === 'header';
    if (!isHeader && !line.includes('"eof"')) return false;
    let e: any;
    try {
      e = JSON.parse(line);
    } catch {
      return false;
    }
    const ctx = e?.context;
    if (!ctx || typeof ctx !== 'object') return false;
    if (isHeader) {
      const count = ctx.count ?? {};
      w.needOut = Number.isInteger(count.stdout) ? count.stdout : 1;
      w.needErr = Number.isInteger(count.stderr) ? count.stderr : 1;
    } else if (ctx.eof === true) {
      if (ctx.stream === 'stdout') w.needOut -= rankCount(ctx.rank);
      else if (ctx.stream === 'stderr') w.needErr -= rankCount(ctx.rank);
      else return false;
    } else {
      return false;
    }
    return w.needOut <= 0 && w.needErr <= 0;
  }

  /** The store's single watcher: route an append to the watches of that job only. */
  private onStore(id: bigint, key: string, text: string): void {
    const list = this.byJob.get(id);
    if (list === undefined) return;
    if (list.length === 1) {
      this.deliver(list[0]!, key, text);
      return;
    }
    for (const w of list.slice()) if (!w.done) this.deliver(w, key, text);
  }

  private deliver(w: Watch, key: string, text: string): void {
    if (isGuest(w.kind)) {
      if (key === w.path) {
        w.waiting = false;
        this.pump(w); // does nothing if it is behind (paused) or already reading
      } else if (key === 'eventlog' && hasEvent(text, 'clean')) {
        // the job is inactive: its guest logs are complete
        if (w.waiting) {
          const started = hasEvent(this.ctx.store.get(w.id, 'eventlog') ?? '', 'start');
          this.finish(w, started ? Errno.ENOENT : Errno.ENODATA);
        } else {
          w.ending = true;
          if (!w.pumping && w.unpause === undefined) this.finish(w, Errno.ENODATA);
        }
      }
      return;
    }
    if (key !== w.path) return;
    if (w.replaying) {
      w.backlog = w.backlog === undefined ? text : w.backlog + text;
      return;
    }
    w.waiting = false;
    if (this.feed(w, text)) this.finish(w, Errno.ENODATA);
  }

  private cancel(req: Request): void {
    const tag = req.payload?.matchtag;
    if (!Number.isInteger(tag)) return;
    const ws = this.byConn.get(req.conn)?.get(tag);
    if (!ws) return;
    for (const w of [...ws]) this.finish(w, Errno.ENODATA);
  }

  private index(w: Watch): void {
    const list = this.byJob.get(w.id);
    if (list) list.push(w);
    else this.byJob.set(w.id, [w]);
    this.nwatches++;
    if (w.req.conn === INTERNAL_CONN) return;
    let m = this.byConn.get(w.req.conn);
    if (!m) this.byConn.set(w.req.conn, (m = new Map()));
    const ws = m.get(w.req.matchtag);
    if (ws) ws.push(w);
    else m.set(w.req.matchtag, [w]);
  }

  private unindexJob(w: Watch): void {
    const list = this.byJob.get(w.id);
    if (!list) return;
    const i = list.indexOf(w);
    if (i < 0) return;
    this.nwatches--;
    if (list.length === 1) this.byJob.delete(w.id);
    else list.splice(i, 1);
  }

  private finish(w: Watch, errnum: number, text?: string): void {
    if (w.done) return;
    w.done = true;
    w.unpause?.();
    w.unpause = undefined;
    this.unindexJob(w);
    if (w.req.conn !== INTERNAL_CONN) {
      const m = this.byConn.get(w.req.conn);
      const ws = m?.get(w.req.matchtag);
      if (m && ws) {
        const i = ws.indexOf(w);
        if (i >= 0) ws.splice(i, 1);
        if (ws.length === 0) m.delete(w.req.matchtag);
        if (m.size === 0) this.byConn.delete(w.req.conn);
      }
    }
    w.req.error(errnum, text);
  }

  /** The instance owner may read any job; others only their own (flux-core allow.c). */
  private allowed(req: Request, id: bigint): boolean {
    if (req.rolemask & Role.OWNER) return true;
    const log = this.ctx.store.get(id, 'eventlog') ?? '';
    const nl = log.indexOf('\n');
    try {
      const submit = JSON.parse(nl < 0 ? log : log.slice(0, nl));
      return submit?.context?.userid === req.userid;
    } catch {
      return false;
    }
  }

  // ---- lookup --------------------------------------------------------------------------------

  private lookup(req: Request): void {
    const p = req.payload;
    if (!p || typeof p !== 'object' || p.id === undefined || !Array.isArray(p.keys)) {
      return req.error(Errno.EPROTO, 'invalid payload: id and keys are required');
    }
    const flags = p.flags ?? 0;
    if (!Number.isInteger(flags) || (flags & ~LOOKUP_VALID_FLAGS) !== 0) {
      return req.error(Errno.EPROTO, 'lookup request rejected with invalid flag');
    }
    const keys = p.keys as unknown[];
    if (keys.length === 0 || !keys.every((k) => typeof k === 'string')) {
      return req.error(Errno.EPROTO, 'invalid payload: keys must be a non-empty array of strings');
    }
    const id = requestJobId(req);
    if (id === undefined) return;
    const store = this.ctx.store;
    if (!store.has(id)) return req.error(Errno.ENOENT, 'invalid job id');
    if (!this.allowed(req, id)) return req.error(Errno.EPERM);
    const out: Record<string, unknown> = { id };
    for (const key of keys as string[]) {
      const valid = KEY_RE.test(key);
      const text = valid && isGuest(kindOf(key)) ? this.readGuest(id, key) : valid ? store.get(id, key) : undefined;
      if (text === undefined) return req.error(Errno.ENOENT, `key ${key} not found`);
      if (text === null) {
        const bytes = store.logBytes(id, key);
        const f58 = encodeJobId(id, 'f58');
        return req.error(
          Errno.EFBIG,
          `${key} of job ${f58} is ${bytes} bytes (${encodeSize(bytes)}), more than job-info.lookup returns ` +
            `(${encodeSize(LOOKUP_MAX)}): read it with job-info.eventlog-watch, e.g. tsflux job attach ${f58}`,
        );
      }
      if (key !== 'jobspec' && key !== 'R') {
        out[key] = text;
        continue;
      }
      if (!(flags & (LOOKUP_CURRENT | LOOKUP_JSON_DECODE))) {
        out[key] = text;
        continue;
      }
      let v: JValue;
      try {
        v = parseKeepReals(text);
      } catch {
        return req.error(Errno.EINVAL, `${key}: value is not valid JSON`);
      }
      if (flags & LOOKUP_CURRENT) v = this.current(id, key, v);
      out[key] = flags & LOOKUP_JSON_DECODE ? plain(v) : janssonDumps(v);
    }
    req.respond(out);
  }

  /** A guest log whole, if it is at most LOOKUP_MAX long (else null), read piece by piece. */
  private readGuest(id: bigint, key: string): string | null | undefined {
    let text = '';
    let cursor = 0;
    for (;;) {
      const r = this.ctx.store.readLog(id, key, cursor, READ_BYTES * 4);
      if (r === undefined) return undefined;
      if (r.text === '') return text;
      if (text.length + r.text.length > LOOKUP_MAX) return null;
      text += r.text;
      cursor = r.cursor;
    }
  }

  /**
   * FLUX_JOB_LOOKUP_CURRENT: the jobspec (redacted: no environment) with the job's
   * `jobspec-update` events applied, or R with its `resource-update` events applied.
   */
  private current(id: bigint, key: 'jobspec' | 'R', v: JValue): JValue {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Real) return v;
    const obj = v as { [k: string]: JValue };
    const updateEvent = key === 'jobspec' ? 'jobspec-update' : 'resource-update';
    const log = this.ctx.store.get(id, 'eventlog') ?? '';
    if (log.includes(updateEvent)) {
      for (const line of log.split('\n')) {
        if (!line || eventName(line) !== updateEvent) continue;
        let ctx: Record<string, unknown> | undefined;
        try {
          ctx = JSON.parse(line).context;
        } catch {
          continue;
        }
        if (!ctx || typeof ctx !== 'object') continue;
        for (const [path, val] of Object.entries(ctx)) {
          const target = key === 'R' && !path.includes('.') ? `execution.${path}` : path;
          jpathSet(obj, target, key === 'R' && typeof val === 'number' ? new Real(val) : fromPlain(val));
        }
      }
    }
    if (key === 'jobspec') return redactJobspec(obj);
    // R times are reals in flux-core even when they are whole numbers (`"expiration": 0.0`)
    const ex = obj['execution'];
    if (ex && typeof ex === 'object' && !Array.isArray(ex) && !(ex instanceof Real)) {
      const e = ex as { [k: string]: JValue };
      for (const k of ['starttime', 'expiration']) if (typeof e[k] === 'number') e[k] = new Real(e[k] as number);
    }
    return obj;
  }
}
