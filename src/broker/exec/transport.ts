/**
 * What Spawner (spawner.ts) needs from a launcher process, whichever it is: the node helper
 * over fork IPC (node-transport.ts) or the native launcher over pipes (native-transport.ts).
 * Spawner keeps all the bookkeeping (outstanding keys, stats requests, settling tasks when
 * the launcher dies); a transport only starts the process, sends commands and turns what
 * comes back into protocol.ts events.
 */
import type { LaunchSpec, StatsEvent, TaskEvent } from './protocol.js';

export type LauncherKind = 'native' | 'node';

export class SpawnerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SpawnerError';
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
  stats(id: number): void;
  /** Queue `shutdown` and send everything now. */
  shutdown(): void;
  /** SIGKILL the launcher process. */
  destroy(): void;
}
