/**
 * Broker side of the task launcher: starts the helper process (spawner-main.ts) and talks to
 * it over a fork IPC channel (advanced serialization, one array of commands per event-loop
 * turn; see protocol.ts for the measurements behind that choice).
 *
 *   const sp = await Spawner.start();
 *   sp.on('started', ({key, pid}) => ...);
 *   sp.on('exited', ({key, waitStatus, timedOut}) => ...);
 *   sp.on('failed', ({key, errno, code, message}) => ...);   // start failure
 *   sp.on('error', (err) => ...);                             // helper died
 *   sp.launch({key: '123.0', argv: ['true'], cwd: '/tmp', env});
 *   await sp.shutdown();
 *
 * Every launched key ends with exactly one `exited` or `failed` event, even when the helper
 * dies: then its started tasks' process groups get SIGKILL from here and are reported as
 * `exited` with `lost: true` (waitStatus 9), and tasks not yet started as `failed` with code
 * `ESPAWNER`. `restart()` starts a new helper on the same object.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type {
  Command,
  ExitedEvent,
  FailedEvent,
  HelperEvent,
  LaunchSpec,
  OutputEvent,
  StartedEvent,
  StatsEvent,
} from './protocol.js';

export type {
  LaunchSpec,
  OutputSpec,
  InputSpec,
  StartedEvent,
  OutputEvent,
  ExitedEvent,
  FailedEvent,
} from './protocol.js';

export interface SpawnerOptions {
  /** Node executable for the helper (default: this process's). */
  nodePath?: string;
  /** Extra node flags for the helper (the broker's own execArgv is NOT passed on). */
  execArgv?: string[];
  /** Default seconds from SIGALRM (time limit) to SIGKILL; default 5. */
  killGraceSec?: number;
  /** Launches the helper handles per event-loop turn before yielding; default DEFAULT_BATCH. */
  batch?: number;
  /** How long to wait for the helper to come up; default 10 s. */
  startTimeoutMs?: number;
}

/**
 * Launches handled per helper turn. Measured with bench/spawn.ts on 2 cores: throughput is
 * flat from 16 upward (the helper is bound by fork+exec, not by turns), and smaller batches
 * keep `started`/`exited` latency low during bursts.
 */
export const DEFAULT_BATCH = 32;

export interface SpawnerStats {
  pid: number;
  /** Helper resident set size, bytes. */
  rss: number;
  heapUsed: number;
  /** Helper CPU time so far (user + system), µs. */
  cpuUs: number;
  /** Tasks the helper is running. */
  tasks: number;
}

export interface SpawnerEvents {
  started: [StartedEvent];
  output: [OutputEvent];
  exited: [ExitedEvent];
  failed: [FailedEvent];
  error: [Error];
}

export class SpawnerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SpawnerError';
  }
}

const SIGNALS = os.constants.signals as Record<string, number>;
const EIO = (os.constants.errno as Record<string, number>).EIO ?? 5;

/** The helper script, compiled (`.js`) or, under tsx, the `.ts` source. */
function helperScript(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./spawner-main.js', import.meta.url));
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./spawner-main.ts', import.meta.url));
  if (fs.existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  throw new SpawnerError('ENOENT', `task launcher script not found: ${js}`);
}

export class Spawner extends EventEmitter<SpawnerEvents> {
  readonly options: Readonly<SpawnerOptions>;
  private child: ChildProcess | null = null;
  /** The current helper has said `ready` (commands are held until then). */
  private helperReady = false;
  private starting: Promise<void> | null = null;
  private stopping = false;
  private outbox: Command[] = [];
  private flushScheduled = false;
  /** Launched and not yet exited/failed: key → pid (0 until `started`). */
  private readonly outstanding = new Map<string, number>();
  private readonly statsWaiters = new Map<number, { resolve: (s: SpawnerStats) => void; reject: (e: Error) => void }>();
  private nextStatsId = 1;

  /** Start a helper and resolve once it is ready. */
  static async start(opts: SpawnerOptions = {}): Promise<Spawner> {
    const sp = new Spawner(opts);
    await sp.restart();
    return sp;
  }

  constructor(opts: SpawnerOptions = {}) {
    super();
    this.options = { ...opts };
  }

  /** The helper's pid (undefined when no helper is running). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while a helper is up and accepting launches. */
  get running(): boolean {
    return this.child !== null && !this.stopping && this.starting === null;
  }

  /** Tasks launched and not yet reported `exited` or `failed`. */
  get outstandingCount(): number {
    return this.outstanding.size;
  }

  /**
   * Start a task. Its outcome arrives as events for `spec.key`: `started` then `exited`, or
   * `failed`. Throws (SpawnerError EEXIST) if the key is still outstanding. When no helper is
   * running, `failed` (ESPAWNER) follows asynchronously.
   */
  launch(spec: LaunchSpec): void {
    if (this.outstanding.has(spec.key)) {
      throw new SpawnerError('EEXIST', `task ${spec.key} is already outstanding`);
    }
    this.outstanding.set(spec.key, 0);
    if (!this.child || this.stopping) {
      setImmediate(() => this.settleLost(spec.key, 'task launcher is not running'));
      return;
    }
    this.push({ op: 'launch', ...spec });
  }

  /**
   * Send a signal (number or name) to the task's process group. Returns false when the key
   * is not outstanding (already exited, or never launched).
   */
  kill(key: string, signum: number | NodeJS.Signals): boolean {
    if (!this.outstanding.has(key) || !this.child) return false;
    const n = typeof signum === 'number' ? signum : SIGNALS[signum];
    if (n === undefined || !Number.isInteger(n)) throw new SpawnerError('EINVAL', `unknown signal ${String(signum)}`);
    this.push({ op: 'kill', key, signum: n });
    return true;
  }

  /** The helper's memory use and task count. */
  stats(): Promise<SpawnerStats> {
    if (!this.child) return Promise.reject(new SpawnerError('ESPAWNER', 'task launcher is not running'));
    const id = this.nextStatsId++;
    return new Promise((resolve, reject) => {
      this.statsWaiters.set(id, { resolve, reject });
      this.push({ op: 'stats', id });
    });
  }

  /**
   * Kill every running task (SIGKILL to its process group), wait for their `exited` events
   * and for the helper to exit. Resolves at once when no helper is running.
   */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.push({ op: 'shutdown' });
    this.flush();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  /** Start a helper if none is running (after `shutdown()` or after the helper died). */
  restart(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.child) return Promise.resolve();
    this.starting = this.startHelper().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private startHelper(): Promise<void> {
    const o = this.options;
    const script = helperScript();
    const args = [`--kill-grace=${o.killGraceSec ?? 5}`, `--batch=${o.batch ?? DEFAULT_BATCH}`];
    const child = fork(script.file, args, {
      execPath: o.nodePath ?? process.execPath,
      execArgv: [...script.execArgv, ...(o.execArgv ?? [])],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child = child;
    this.helperReady = false;
    this.stopping = false;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (ready) return;
        child.kill('SIGKILL');
        reject(new SpawnerError('ETIMEDOUT', `task launcher did not start within ${o.startTimeoutMs ?? 10_000} ms`));
      }, o.startTimeoutMs ?? 10_000);
      child.on('message', (batch: HelperEvent[]) => {
        for (const ev of batch) {
          if (ev.type === 'ready') {
            ready = true;
            this.helperReady = true;
            clearTimeout(timer);
            resolve();
            this.flush();
          } else this.dispatch(ev);
        }
      });
      child.on('error', (e) => {
        if (!ready) {
          clearTimeout(timer);
          reject(e);
        }
      });
      // 'close' comes after 'exit' and after the IPC channel is drained, so every event the
      // helper sent has been dispatched by then.
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) {
          this.child = null;
          this.helperReady = false;
        }
        const expected = this.stopping;
        this.stopping = false;
        this.outbox = [];
        const why = signal ? `killed by ${signal}` : `exited with status ${code}`;
        if (!ready) {
          reject(new SpawnerError('ESPAWNER', `task launcher ${why} before it was ready`));
        } else if (!expected) {
          this.raise(new SpawnerError('ESPAWNER', `task launcher (pid ${child.pid}) ${why}`));
        }
        for (const [id, w] of this.statsWaiters) {
          this.statsWaiters.delete(id);
          w.reject(new SpawnerError('ESPAWNER', `task launcher ${why}`));
        }
        for (const key of [...this.outstanding.keys()]) this.settleLost(key, `task launcher ${why}`);
      });
    });
  }

  private dispatch(ev: HelperEvent): void {
    switch (ev.type) {
      case 'started':
        if (this.outstanding.has(ev.key)) this.outstanding.set(ev.key, ev.pid);
        this.emit('started', ev);
        return;
      case 'output':
        this.emit('output', ev);
        return;
      case 'exited':
        this.outstanding.delete(ev.key);
        this.emit('exited', ev);
        return;
      case 'failed':
        this.outstanding.delete(ev.key);
        this.emit('failed', ev);
        return;
      case 'stats': {
        const w = this.statsWaiters.get(ev.id);
        this.statsWaiters.delete(ev.id);
        w?.resolve(toStats(ev));
        return;
      }
      default:
        return;
    }
  }

  /** Settle a task the helper can no longer report on. */
  private settleLost(key: string, why: string): void {
    const pid = this.outstanding.get(key);
    if (pid === undefined) return;
    this.outstanding.delete(key);
    if (pid > 0) {
      try {
        process.kill(-pid, 'SIGKILL'); // kill(2) only: no fork
      } catch {
        /* already gone */
      }
      this.emit('exited', { type: 'exited', key, waitStatus: SIGNALS.SIGKILL ?? 9, timedOut: false, lost: true });
    } else {
      this.emit('failed', { type: 'failed', key, errno: EIO, code: 'ESPAWNER', message: why });
    }
  }

  /** `error` has Node semantics only when someone listens; otherwise it is a warning, not a crash. */
  private raise(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, { code: 'TSFLUX_SPAWNER' });
  }

  private push(c: Command): void {
    this.outbox.push(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    const child = this.child;
    if (!child || !this.helperReady) {
      this.outbox = batch; // held until 'ready' ('close' settles them if it never comes)
      return;
    }
    if (!child.connected) return; // 'close' settles the launches
    child.send(batch, (err) => {
      if (err) {
        /* channel closed: 'close' settles everything */
      }
    });
  }
}

function toStats(ev: StatsEvent): SpawnerStats {
  return { pid: ev.pid, rss: ev.rss, heapUsed: ev.heapUsed, cpuUs: ev.cpuUs, tasks: ev.tasks };
}
