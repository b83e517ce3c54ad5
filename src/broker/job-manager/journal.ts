/**
 * job-manager.events-journal (shape of test/vectors/py-events-journal.json): a stream of every
 * job's events. With `full`, the backlog first (one response per job with all its events,
 * its redacted jobspec and R), then the sentinel `{id:-1, events:[]}`, then live events.
 * In-process consumers (job-list, the executor's server side) use the same stream.
 *
 * A backlog is sent a page at a time, BACKLOG_PAGES pages a turn of the event loop: a million
 * jobs' backlog (job-list's, at every start) is seconds of work the broker does not stop for.
 * Live events of a job whose backlog entry is already read are held until the sentinel has
 * gone, then sent in order; those of a job not read yet are left out (its backlog entry, read
 * later, has them).
 *
 * A consumer that asks before a restart reads the store (job-list: it starts before the job
 * manager, manager.ts `whileStarting`) is fed instead (`addFed`): its backlog is the restart's
 * own pass, each job's entry sent as the restart replays it, from the eventlog the restart has
 * just parsed (the store is read and parsed once, not twice). The restart posts nothing while it
 * reads, so every job's entry has gone before any of its new events; those the restart then
 * posts as it settles the jobs go to a fed consumer at once, and its sentinel comes when the
 * restart is over (`endFeed`): it has then seen what the restart made of every job.
 */
import { Errno } from '../../protocol/errno.js';
import type { JournalEntry } from '../contract.js';
import type { ConnId, Request } from '../service.js';

/** A backlog, read a page at a time. */
export interface Backlog {
  /** The next page of entries (possibly empty), or undefined once every job has been read. */
  next(): JournalEntry[] | undefined;
  /** The backlog has read job `id` already (or never will): its new events go live. */
  covers(id: bigint): boolean;
}

/** Pages of a backlog sent in one turn of the event loop. */
const BACKLOG_PAGES = 4;

/** A consumer fed by a restart's pass (feed()) until its end (endFeed()). */
interface Fed {
  req: Request;
  /** Every job (`full`), or only those active when the restart read them. */
  full: boolean;
}

interface Streaming {
  req: Request;
  backlog: Backlog;
  /** Live events held until the backlog's sentinel has gone. */
  held: JournalEntry[];
}

export class JournalHub {
  private readonly consumers = new Set<Request>();
  /** Consumers still being sent their backlog. */
  private readonly streaming = new Set<Streaming>();
  private readonly fed = new Set<Fed>();

  get size(): number {
    return this.consumers.size + this.streaming.size + this.fed.size;
  }

  /** Some consumer waits for the entries of a restart's pass (feed()). */
  get feeding(): boolean {
    return this.fed.size > 0;
  }

  /** A consumer whose backlog is the restart about to read the store (feed(), endFeed()). */
  addFed(req: Request, full: boolean): void {
    if (!req.streaming) return req.error(Errno.EPROTO, 'job-manager.events-journal requires the streaming RPC flag');
    this.fed.add({ req, full });
  }

  /** One job's entry as the restart read it (`active`: not INACTIVE), to the fed consumers. */
  feed(entry: JournalEntry, active: boolean): void {
    for (const f of this.fed) if (f.full || active) f.req.respond(entry);
  }

  /** The restart is over: each fed consumer gets its sentinel, then live events as any other. */
  endFeed(): void {
    for (const f of this.fed) {
      f.req.respond({ id: -1, events: [] });
      this.consumers.add(f.req);
    }
    this.fed.clear();
  }

  add(req: Request, backlog: Backlog | undefined): void {
    if (!req.streaming) return req.error(Errno.EPROTO, 'job-manager.events-journal requires the streaming RPC flag');
    if (!backlog) {
      this.consumers.add(req);
      return;
    }
    const s: Streaming = { req, backlog, held: [] };
    this.streaming.add(s);
    this.send(s);
  }

  /** Send a turn's pages of the backlog; at its end the sentinel and what was held. */
  private send(s: Streaming): void {
    if (!this.streaming.has(s)) return; // canceled, disconnected or ended meanwhile
    try {
      for (let i = 0; i < BACKLOG_PAGES; i++) {
        const page = s.backlog.next();
        if (page === undefined) {
          this.streaming.delete(s);
          s.req.respond({ id: -1, events: [] });
          for (const e of s.held) s.req.respond(e);
          this.consumers.add(s.req);
          return;
        }
        for (const e of page) s.req.respond(e);
      }
    } catch (e) {
      this.streaming.delete(s);
      s.req.error(Errno.EIO, `reading the journal's backlog: ${(e as Error).message}`);
      return;
    }
    setImmediate(() => this.send(s));
  }

  publish(entry: JournalEntry): void {
    for (const c of this.consumers) c.respond(entry);
    for (const f of this.fed) f.req.respond(entry);
    for (const s of this.streaming) if (s.backlog.covers(BigInt(entry.id))) s.held.push(entry);
  }

  cancel(conn: ConnId, matchtag: number): void {
    for (const c of this.consumers) {
      if (c.conn === conn && c.matchtag === matchtag) {
        this.consumers.delete(c);
        c.error(Errno.ENODATA);
      }
    }
    for (const s of this.streaming) {
      if (s.req.conn === conn && s.req.matchtag === matchtag) {
        this.streaming.delete(s);
        s.req.error(Errno.ENODATA);
      }
    }
    for (const f of this.fed) {
      if (f.req.conn === conn && f.req.matchtag === matchtag) {
        this.fed.delete(f);
        f.req.error(Errno.ENODATA);
      }
    }
  }

  disconnect(conn: ConnId): void {
    for (const c of this.consumers) if (c.conn === conn) this.consumers.delete(c);
    for (const s of this.streaming) if (s.req.conn === conn) this.streaming.delete(s);
    for (const f of this.fed) if (f.req.conn === conn) this.fed.delete(f);
  }

  endAll(): void {
    for (const c of this.consumers) c.error(Errno.ENODATA);
    this.consumers.clear();
    for (const s of this.streaming) s.req.error(Errno.ENODATA);
    this.streaming.clear();
    for (const f of this.fed) f.req.error(Errno.ENODATA);
    this.fed.clear();
  }
}
