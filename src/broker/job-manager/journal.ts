/**
 * job-manager.events-journal (shape of test/vectors/py-events-journal.json): a stream of every
 * job's events. With `full`, the backlog first (one response per job with all its events,
 * its redacted jobspec and R), then the sentinel `{id:-1, events:[]}`, then live events.
 * In-process consumers (job-list, the executor's server side) use the same stream.
 */
import { Errno } from '../../protocol/errno.js';
import type { JournalEntry } from '../contract.js';
import type { ConnId, Request } from '../service.js';

export class JournalHub {
  private readonly consumers = new Set<Request>();

  get size(): number {
    return this.consumers.size;
  }

  add(req: Request, backlog: Iterable<JournalEntry> | undefined): void {
    if (!req.streaming) return req.error(Errno.EPROTO, 'job-manager.events-journal requires the streaming RPC flag');
    if (backlog) {
      for (const e of backlog) req.respond(e);
      req.respond({ id: -1, events: [] });
    }
    this.consumers.add(req);
  }

  publish(entry: JournalEntry): void {
    for (const c of this.consumers) c.respond(entry);
  }

  cancel(conn: ConnId, matchtag: number): void {
    for (const c of this.consumers) {
      if (c.conn === conn && c.matchtag === matchtag) {
        this.consumers.delete(c);
        c.error(Errno.ENODATA);
      }
    }
  }

  disconnect(conn: ConnId): void {
    for (const c of this.consumers) if (c.conn === conn) this.consumers.delete(c);
  }

  endAll(): void {
    for (const c of this.consumers) c.error(Errno.ENODATA);
    this.consumers.clear();
  }
}
