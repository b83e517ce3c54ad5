/**
 * Eventlog watching (docs/protocol.md §B `job-info.eventlog-watch`, §D "Events"):
 * `eventWatch` is an async iterator of a job's events that ends when the log is complete;
 * `eventWait` resolves with the first event of a name.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { jobIdToWire } from '../../protocol/json.js';
import { EventlogEvent, JobException, parseEvent } from '../../job/eventlog.js';
import type { Flux, RpcStream } from '../handle.js';

export const WatchFlags = { WAITCREATE: 1, INITIAL_SENTINEL: 2 } as const;

export interface WatchOptions {
  /** 'eventlog' (default), 'guest.exec.eventlog' or 'guest.output'. */
  path?: string;
  /** Wait for a log that does not exist yet (e.g. guest.output before the job starts). */
  waitcreate?: boolean;
}

/** A job's events as they are appended. `cancel()` stops early; iteration then ends. */
export class JobEventWatch implements AsyncIterableIterator<EventlogEvent> {
  constructor(private readonly stream: RpcStream<{ event: string } | undefined>) {}

  async next(): Promise<IteratorResult<EventlogEvent>> {
    for (;;) {
      const r = await this.stream.next();
      if (r.done) return { value: undefined, done: true };
      if (!r.value || typeof r.value.event !== 'string') continue; // sentinel
      return { value: new EventlogEvent(parseEvent(r.value.event)), done: false };
    }
  }

  cancel(): void {
    this.stream.cancel();
  }

  async return(): Promise<IteratorResult<EventlogEvent>> {
    this.stream.cancel();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export function eventWatch(h: Flux, id: bigint, opts: WatchOptions = {}): JobEventWatch {
  const flags = opts.waitcreate ? WatchFlags.WAITCREATE : 0;
  const stream = h.rpcStream<{ event: string } | undefined>(
    'job-info.eventlog-watch',
    { id: jobIdToWire(id), path: opts.path ?? 'eventlog', flags },
    { cancelTopic: 'job-info.eventlog-watch-cancel' },
  );
  return new JobEventWatch(stream);
}
export const eventWatchAsync = eventWatch;

export interface EventWaitOptions extends WatchOptions {
  /** Throw a JobException if a fatal exception comes first (default true). */
  raiseJobException?: boolean;
}

/** The first event named `name`; ENODATA if the log ends without it. */
export async function eventWait(
  h: Flux,
  id: bigint,
  name: string,
  opts: EventWaitOptions = {},
): Promise<EventlogEvent> {
  const w = eventWatch(h, id, opts);
  try {
    for await (const ev of w) {
      if (ev.name === name) return ev;
      if ((opts.raiseJobException ?? true) && ev.name === 'exception' && Number(ev.context.severity) === 0) {
        throw new JobException(ev);
      }
    }
  } finally {
    w.cancel();
  }
  throw new FluxError(Errno.ENODATA, `eventlog ended without a ${name} event`);
}
