/**
 * Broker side of the task launcher: starts the launcher process and keeps the books. The
 * launcher is the native one (native/launcher.c, over pipes: native-transport.ts) when its
 * binary is there and starts, else the node helper (spawner-main.ts, over fork IPC:
 * node-transport.ts); `launcher` option, or TSFLUX_LAUNCHER=native|node, to choose.
 *
 *   const sp = await Spawner.start();
 *   sp.on('started', ({key, pid}) => ...);
 *   sp.on('exited', ({key, waitStatus, timedOut}) => ...);
 *   sp.on('failed', ({key, errno, code, message}) => ...);   // start failure
 *   sp.on('error', (err) => ...);                             // launcher died
 *   sp.on('lost', ({pid, reason}) => sp.restart());           // ... after its tasks were settled
 *   sp.launch({key: '123.0', argv: ['true'], cwd: '/tmp', env});
 *   await sp.shutdown();
 *
 * Every launched key ends with exactly one `exited` or `failed` event, even when the launcher
 * dies: then its started tasks' process groups get SIGKILL from here and are reported as
 * `exited` with `lost: true` (waitStatus 9), and tasks not yet started as `failed` with code
 * `ESPAWNER`. `restart()` starts a new launcher on the same object. These books are kept here
 * for both launchers; a transport (transport.ts) only moves commands and events.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import fs from 'node:fs';
import type {
  ExitedEvent,
  FailedEvent,
  LaunchSpec,
  OutputEvent,
  StartedEvent,
  StatsEvent,
  TaskEvent,
} from './protocol.js';
import { findNativeLauncher, NativeTransport } from './native-transport.js';
import { NodeTransport } from './node-transport.js';
import { SpawnerError, type LauncherKind, type Transport, type TransportHooks } from './transport.js';

export type {
  LaunchSpec,
  OutputSpec,
  InputSpec,
  StartedEvent,
  OutputEvent,
  ExitedEvent,
  FailedEvent,
} from './protocol.js';
export { SpawnerError, type LauncherKind } from './transport.js';
export { findNativeLauncher } from './native-transport.js';

export interface SpawnerOptions {
  /**
   * Which launcher: `'native'` (the C launcher; start fails if its binary is missing),
   * `'node'` (the node helper), or `'auto'` (default): native when the binary exists and
   * starts, else node. When absent or `'auto'`, TSFLUX_LAUNCHER=native|node decides.
   */
  launcher?: 'auto' | LauncherKind;
  /** Native launcher binary (default: dist/native/tsflux-launcher, see findNativeLauncher). */
  nativePath?: string;
  /**
   * Extra arguments for the launcher, either kind. `--dry-run` makes it answer each launch with
   * `started` (pid 0) + `exited` and start nothing: bench/spawn.ts measures the transport so.
   */
  launcherArgs?: string[];
  /** Node executable for the node helper (default: this process's). */
  nodePath?: string;
  /** Extra node flags for the node helper (the broker's own execArgv is NOT passed on). */
  execArgv?: string[];
  /** Default seconds from SIGALRM (time limit) to SIGKILL; default 5. */
  killGraceSec?: number;
  /** Launches the launcher handles per turn of its loop before yielding; default DEFAULT_BATCH. */
  batch?: number;
  /** How long to wait for the launcher to come up; default 10 s. */
  startTimeoutMs?: number;
}

/**
 * Launches handled per launcher turn. Measured with bench/spawn.ts on 2 cores: throughput is
 * flat from 16 upward (the launcher is bound by fork+exec, not by turns), and smaller batches
 * keep `started`/`exited` latency low during bursts.
 */
export const DEFAULT_BATCH = 32;

export interface SpawnerStats {
  pid: number;
  /** Launcher resident set size, bytes. */
  rss: number;
  /** Node helper: V8 heap in use; native launcher: malloc heap in use. */
  heapUsed: number;
  /** Launcher CPU time so far (user + system), µs. */
  cpuUs: number;
  /** Tasks the launcher is running. */
  tasks: number;
}

export interface SpawnerEvents {
  started: [StartedEvent];
  output: [OutputEvent];
  exited: [ExitedEvent];
  failed: [FailedEvent];
  error: [Error];
  /**
   * The launcher died when nobody asked it to (not `shutdown()`), after every task it owed was
   * settled (`exited` with `lost` and `reason`, or `failed` ESPAWNER). Nothing restarts it by
   * itself: the owner decides (job-exec calls `restart()`).
   */
  lost: [{ pid: number | undefined; reason: string }];
}

const SIGNALS = os.constants.signals as Record<string, number>;
const EIO = (os.constants.errno as Record<string, number>).EIO ?? 5;

export class Spawner extends EventEmitter<SpawnerEvents> {
  readonly options: Readonly<SpawnerOptions>;
  private transport: Transport | null = null;
  private starting: Promise<void> | null = null;
  private stopping = false;
  /** Resolved when the current launcher has closed (shutdown() waits on these). */
  private closeWaiters: (() => void)[] = [];
  /** 'auto' tried the native launcher and it did not start: the node helper from now on. */
  private nativeUnusable = false;
  /** Launched and not yet exited/failed: key → pid (0 until `started`). */
  private readonly outstanding = new Map<string, number>();
  private readonly statsWaiters = new Map<number, { resolve: (s: SpawnerStats) => void; reject: (e: Error) => void }>();
  private nextStatsId = 1;
  /** holdOutput(true) is in force. */
  private outputHeld = false;

  /** Start a launcher and resolve once it is ready. */
  static async start(opts: SpawnerOptions = {}): Promise<Spawner> {
    const sp = new Spawner(opts);
    await sp.restart();
    return sp;
  }

  constructor(opts: SpawnerOptions = {}) {
    super();
    this.options = { ...opts };
  }

  /** The launcher's pid (undefined when none is running). */
  get pid(): number | undefined {
    return this.transport?.pid;
  }

  /** Which launcher is running: 'native' or 'node' (undefined when none). */
  get launcher(): LauncherKind | undefined {
    return this.transport?.kind;
  }

  /** True while a launcher is up and accepting launches. */
  get running(): boolean {
    return this.transport !== null && !this.stopping && this.starting === null;
  }

  /** Tasks launched and not yet reported `exited` or `failed`. */
  get outstandingCount(): number {
    return this.outstanding.size;
  }

  /**
   * Start a task. Its outcome arrives as events for `spec.key`: `started` then `exited`, or
   * `failed`. Throws (SpawnerError EEXIST) if the key is still outstanding. When no launcher
   * is running, `failed` (ESPAWNER) follows asynchronously.
   */
  launch(spec: LaunchSpec): void {
    if (this.outstanding.has(spec.key)) {
      throw new SpawnerError('EEXIST', `task ${spec.key} is already outstanding`);
    }
    this.outstanding.set(spec.key, 0);
    if (!this.transport || this.stopping) {
      setImmediate(() => this.settleLost(spec.key, 'task launcher is not running'));
      return;
    }
    this.transport.launch(spec);
  }

  /**
   * Send a signal (number or name) to the task's process group. Returns false when the key
   * is not outstanding (already exited, or never launched).
   */
  kill(key: string, signum: number | NodeJS.Signals): boolean {
    if (!this.outstanding.has(key) || !this.transport) return false;
    const n = typeof signum === 'number' ? signum : SIGNALS[signum];
    if (n === undefined || !Number.isInteger(n)) throw new SpawnerError('EINVAL', `unknown signal ${String(signum)}`);
    this.transport.kill(key, n);
    return true;
  }

  /**
   * Bytes for the stdin of a task launched with `stdin: 'pipe'` (in order), and with `eof` its
   * end. Returns false when the key is not outstanding (the task is done or unknown).
   */
  writeStdin(key: string, data: Uint8Array | undefined, eof = false): boolean {
    if (!this.outstanding.has(key) || !this.transport) return false;
    this.transport.stdin(key, data, eof);
    return true;
  }

  /**
   * Remove a directory and what is in it, after the commands sent before (a job's
   * FLUX_JOB_TMPDIR, made with its first task's `mkdir`). Without a launcher, done here, in
   * the background; a failure is an `error` event (job-exec logs it), as the launcher reports
   * its own.
   */
  /**
   * Hold (true) or pass on again (false) the tasks' output: flow control for a consumer that
   * cannot take it as fast as it comes (the exec agent, while the store's commits are held). The
   * native launcher's event stream is not read meanwhile (its events wait in the launcher, which
   * stops reading its capture pipes once 4 MiB of them wait, so the tasks block on their
   * writes); the node helper stops reading its tasks' output. Kept across a launcher restart.
   */
  holdOutput(held: boolean): void {
    if (held === this.outputHeld) return;
    this.outputHeld = held;
    this.transport?.holdOutput(held);
  }

  rmdir(dir: string): void {
    if (this.transport && !this.stopping) this.transport.rmdir(dir);
    else
      fs.rm(dir, { recursive: true, force: true }, (err) => {
        if (err) this.raise(new SpawnerError(err.code ?? 'EIO', `rmdir ${dir}: ${err.message}`));
      });
  }

  /** The launcher's memory use, CPU time and task count. */
  stats(): Promise<SpawnerStats> {
    const t = this.transport;
    if (!t) return Promise.reject(new SpawnerError('ESPAWNER', 'task launcher is not running'));
    const id = this.nextStatsId++;
    return new Promise((resolve, reject) => {
      this.statsWaiters.set(id, { resolve, reject });
      t.stats(id);
    });
  }

  /**
   * Kill every running task (SIGKILL to its process group), wait for their `exited` events
   * and for the launcher to exit. Resolves at once when no launcher is running.
   */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    const t = this.transport;
    if (!t) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    t.shutdown();
    const timer = setTimeout(() => t.destroy(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  /** Start a launcher if none is running (after `shutdown()` or after the launcher died). */
  restart(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.transport) return Promise.resolve();
    this.starting = this.startLauncher().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** The launcher asked for: the option, else TSFLUX_LAUNCHER, else 'auto'. */
  private wanted(): 'auto' | LauncherKind {
    const o = this.options.launcher;
    if (o === 'native' || o === 'node') return o;
    const env = process.env.TSFLUX_LAUNCHER;
    return env === 'native' || env === 'node' ? env : 'auto';
  }

  private async startLauncher(): Promise<void> {
    const want = this.wanted();
    if (want !== 'auto') return this.startTransport(want);
    if (!this.nativeUnusable && findNativeLauncher(this.options.nativePath)) {
      try {
        return await this.startTransport('native');
      } catch (e) {
        this.nativeUnusable = true;
        process.emitWarning(`native task launcher did not start (${(e as Error).message}); using the node helper`, {
          code: 'TSFLUX_SPAWNER',
        });
      }
    }
    return this.startTransport('node');
  }

  private startTransport(kind: LauncherKind): Promise<void> {
    const o = this.options;
    const timeoutMs = o.startTimeoutMs ?? 10_000;
    const killGraceSec = o.killGraceSec ?? 5;
    const batch = o.batch ?? DEFAULT_BATCH;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let timer: NodeJS.Timeout | undefined; // eslint-disable-line prefer-const -- set below, read by the hooks above
      let t: Transport | null = null;
      const hooks: TransportHooks = {
        ready: () => {
          ready = true;
          clearTimeout(timer);
          resolve();
        },
        event: (ev) => this.dispatch(ev),
        error: (e) => {
          if (!ready) {
            clearTimeout(timer);
            reject(e);
          }
        },
        closed: (code, signal) => {
          clearTimeout(timer);
          const why = signal ? `killed by ${signal}` : `exited with status ${code}`;
          if (!ready) reject(new SpawnerError('ESPAWNER', `task launcher ${why} before it was ready`));
          if (this.transport !== t) return; // already given up on (start timeout)
          const expected = this.stopping;
          const reason = `task launcher (pid ${t!.pid}) ${why}`;
          if (ready && !expected) this.raise(new SpawnerError('ESPAWNER', reason));
          this.gone(reason);
          if (ready && !expected) this.emit('lost', { pid: t!.pid, reason });
        },
      };
      try {
        if (kind === 'native') {
          const path = findNativeLauncher(o.nativePath);
          if (!path) {
            throw new SpawnerError(
              'ENOENT',
              `native task launcher not found${o.nativePath ? `: ${o.nativePath}` : ''} (build it: node scripts/build-launcher.mjs)`,
            );
          }
          t = new NativeTransport({ path, killGraceSec, batch, args: o.launcherArgs }, hooks);
        } else {
          t = new NodeTransport(
            { nodePath: o.nodePath, execArgv: o.execArgv, killGraceSec, batch, args: o.launcherArgs },
            hooks,
          );
        }
      } catch (e) {
        reject(e);
        return;
      }
      this.transport = t;
      if (this.outputHeld) t.holdOutput(true);
      this.stopping = false;
      timer = setTimeout(() => {
        if (ready || this.transport !== t) return;
        t!.destroy();
        reject(new SpawnerError('ETIMEDOUT', `task launcher did not start within ${timeoutMs} ms`));
        this.gone('task launcher did not start');
      }, timeoutMs);
    });
  }

  /** The current launcher is gone: settle everything it owed. */
  private gone(why: string): void {
    this.transport = null;
    this.stopping = false;
    for (const [id, w] of this.statsWaiters) {
      this.statsWaiters.delete(id);
      w.reject(new SpawnerError('ESPAWNER', why));
    }
    for (const key of [...this.outstanding.keys()]) this.settleLost(key, why);
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
  }

  private dispatch(ev: TaskEvent | StatsEvent): void {
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
        w?.resolve({ pid: ev.pid, rss: ev.rss, heapUsed: ev.heapUsed, cpuUs: ev.cpuUs, tasks: ev.tasks });
        return;
      }
      default:
        return;
    }
  }

  /** Settle a task the launcher can no longer report on. */
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
      this.emit('exited', {
        type: 'exited',
        key,
        waitStatus: SIGNALS.SIGKILL ?? 9,
        timedOut: false,
        lost: true,
        reason: why,
      });
    } else {
      this.emit('failed', { type: 'failed', key, errno: EIO, code: 'ESPAWNER', message: why });
    }
  }

  /** `error` has Node semantics only when someone listens; otherwise it is a warning, not a crash. */
  private raise(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, { code: 'TSFLUX_SPAWNER' });
  }
}
