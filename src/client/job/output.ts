/**
 * A job's output (guest.output, RFC 24) as it is appended: `outputWatch` is an async iterator
 * of the output's bytes (`{data}`: stream, rank, timestamp and the bytes as printed) and of its
 * other events (`{event}`: header, eof, log, redirect). From tsflux it reads
 * `job-info.output-watch` (docs/protocol.md §B), binary records that are copied, never parsed
 * as JSON; a Flux instance has no such method (ENOSYS), and there it follows
 * `job-info.eventlog-watch` of guest.output instead, yielding every event, data included, as
 * `{event}`.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { jobIdToWire } from '../../protocol/json.js';
import { EventlogEvent, parseEvent } from '../../job/eventlog.js';
import { records, type DataRecord } from '../../job/output-records.js';
import type { Flux, RpcStream } from '../handle.js';
import { eventWatch, WatchFlags, type JobEventWatch } from './events.js';

export type OutputItem = { data: DataRecord; event?: undefined } | { event: EventlogEvent; data?: undefined };

export class JobOutputWatch implements AsyncIterableIterator<OutputItem> {
  private readonly items: OutputItem[] = [];
  private raw: RpcStream<Buffer> | undefined;
  private events: JobEventWatch | undefined;
  /** Something came from output-watch: an error now is not "no such method". */
  private received = false;
  private canceled = false;

  constructor(
    private readonly h: Flux,
    private readonly id: bigint,
    private readonly waitcreate: boolean,
  ) {
    this.raw = h.rpcStream<Buffer>(
      'job-info.output-watch',
      { id: jobIdToWire(id), flags: waitcreate ? WatchFlags.WAITCREATE : 0 },
      { raw: true, cancelTopic: 'job-info.eventlog-watch-cancel' },
    );
  }

  async next(): Promise<IteratorResult<OutputItem>> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) return { value: item, done: false };
      if (this.events !== undefined) {
        const r = await this.events.next();
        return r.done ? r : { value: { event: r.value }, done: false };
      }
      let r: IteratorResult<Buffer>;
      try {
        r = await this.raw!.next();
      } catch (e) {
        if (e instanceof FluxError && e.errno === Errno.ENOSYS && !this.received && !this.canceled) {
          this.raw = undefined;
          this.events = eventWatch(this.h, this.id, { path: 'guest.output', waitcreate: this.waitcreate });
          continue;
        }
        throw e;
      }
      if (r.done) return r;
      this.received = true;
      this.decode(r.value);
    }
  }

  private decode(buf: Buffer): void {
    try {
      for (const r of records(buf)) {
        this.items.push(r.data ? { data: r.data } : { event: new EventlogEvent(parseEvent(r.line)) });
      }
    } catch (e) {
      // a record cut short or of an unknown kind (RecordError), or a LINE that is no event
      this.cancel();
      throw new FluxError(Errno.EPROTO, `job-info.output-watch: ${(e as Error).message}`);
    }
  }

  cancel(): void {
    this.canceled = true;
    this.raw?.cancel();
    this.events?.cancel();
  }

  async return(): Promise<IteratorResult<OutputItem>> {
    this.cancel();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A job's output as it is appended; `waitcreate`: wait for it while the job has not started. */
export function outputWatch(h: Flux, id: bigint, opts: { waitcreate?: boolean } = {}): JobOutputWatch {
  return new JobOutputWatch(h, id, opts.waitcreate === true);
}
