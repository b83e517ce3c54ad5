/**
 * What Spawner (spawner.ts) needs from a launcher process, whichever it is: the node helper
 * over fork IPC (node-transport.ts) or the native launcher over pipes (native-transport.ts).
 * Spawner keeps all the bookkeeping (outstanding keys, stats requests, settling tasks when
 * the launcher dies); a transport only starts the process, sends commands and turns what
 * comes back into protocol.ts events.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { LaunchSpec, StatsEvent, TaskEvent } from './protocol.js';
import { Errno, FluxError, errnoNumber } from '../../protocol/errno.js';

export type LauncherKind = 'native' | 'node';

/**
 * A launcher failure. `code` is an errno name (`EEXIST`, `EINVAL`, ...) or `ESPAWNER` when the
 * launcher itself is gone (errno EIO: the broker lost the process that runs the tasks).
 */
export class SpawnerError extends FluxError {
  override readonly code: string;
  constructor(code: string, message: string) {
    super(errnoNumber(code) ?? Errno.EIO, message);
    this.name = 'SpawnerError';
    this.code = code;
  }
}

export interface TransportHooks {
  /** The launcher is up; commands queued before this are sent now. */
  ready(): void;
  /** A task or stats event, in the order the launcher sent them. */
  event(ev: TaskEvent | StatsEvent): void;
  /** The process could not be started (spawn error); `closed` follows. */
  error(err: Error): void;
  /** The process is gone and every event it sent has been passed to `event`. */
  closed(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface Transport {
  readonly kind: LauncherKind;
  readonly pid: number | undefined;
  /** Commands: queued, and sent as one write per event-loop turn once the launcher is ready. */
  launch(spec: LaunchSpec): void;
  kill(key: string, signum: number): void;
  stdin(key: string, data: Uint8Array | undefined, eof: boolean): void;
  rmdir(dir: string): void;
  stats(id: number): void;
  /** Spawner.holdOutput. */
  holdOutput(held: boolean): void;
  /** Queue `shutdown` and send everything now. */
  shutdown(): void;
  /** SIGKILL the launcher process. */
  destroy(): void;
}

/**
 * Commands queued during one event-loop turn, handed to `send` as one batch, held until the
 * launcher is `open()` and dropped once it is `close()`d (the Spawner settles what they were for).
 */
export class Outbox<T> {
  private items: T[] = [];
  private scheduled = false;
  private state: 'waiting' | 'open' | 'closed' = 'waiting';

  constructor(private readonly send: (batch: T[]) => void) {}

  push(item: T): void {
    if (this.state === 'closed') return;
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Send what is queued now (if the launcher is open). */
  flush(): void {
    this.scheduled = false;
    if (this.state !== 'open' || this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.send(batch);
  }

  /** The launcher is ready: send what was held. */
  open(): void {
    if (this.state === 'waiting') this.state = 'open';
    this.flush();
  }

  close(): void {
    this.state = 'closed';
    this.items = [];
  }
}

/**
 * What both transports share: the launcher process, the outbox of its commands, and the
 * wiring of its end. A spawn error goes to `hooks.error`; 'close' (after 'exit' and after the
 * process's output or IPC channel has ended, so every event it sent has been handled) drops
 * what is still queued and calls `hooks.closed`. A subclass starts the process, reads its
 * events, opens the outbox when the launcher is ready and writes each batch of commands.
 */
export abstract class LauncherProcess<T> {
  protected readonly outbox = new Outbox<T>((batch) => this.write(batch));
  /** 'close' of the process, and of each stream closesAfter() added, still to come. */
  private open = 1;
  private status: [number | null, NodeJS.Signals | null] = [null, null];
  private readonly onClosed: TransportHooks['closed'];

  constructor(
    protected readonly child: ChildProcess,
    hooks: TransportHooks,
  ) {
    this.onClosed = hooks.closed;
    child.on('error', (e) => hooks.error(e));
    child.on('close', (code, signal) => {
      this.status = [code, signal];
      this.closed();
    });
  }

  /**
   * The process's events also come through `stream`, not one of its stdio pipes (whose end
   * 'close' waits for): `closed` waits for its 'close' too.
   */
  protected closesAfter(stream: Socket): void {
    this.open++;
    stream.on('error', () => {
      /* the launcher is gone: 'close' follows */
    });
    stream.on('close', () => this.closed());
  }

  private closed(): void {
    if (--this.open > 0) return;
    this.outbox.close();
    this.onClosed(...this.status);
  }

  /** Send one event-loop turn's commands to the launcher. */
  protected abstract write(batch: T[]): void;
  /** The command that asks the launcher to shut down. */
  protected abstract shutdownCommand(): T;

  get pid(): number | undefined {
    return this.child.pid;
  }

  shutdown(): void {
    this.outbox.push(this.shutdownCommand());
    this.outbox.flush();
  }

  destroy(): void {
    this.child.kill('SIGKILL');
  }
}
