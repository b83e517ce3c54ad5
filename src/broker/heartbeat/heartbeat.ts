/**
 * The `heartbeat` service (flux-core's heartbeat module, flux-config-heartbeat(5)): rank 0
 * publishes the event `heartbeat.pulse` every `period`; every other rank listens, warns once
 * ("heartbeat overdue") when `warn_thresh` periods pass without one and again ("heartbeat
 * received") when they resume, and after `timeout` without one cuts its link to its parent
 * (`onTimeout`, the overlay's disconnect-parent): a broker cut off from rank 0 then ends
 * (parent-fail, exit 1) instead of running on alone. The pulses travel down every link, so a
 * link from a parent is never idle for long.
 *
 *   [heartbeat]  period = "2s"   timeout = "5m" (0 or "inf": never)   warn_thresh = 3
 *
 * `heartbeat.stats-get` → {period, timeout, count, warn_thresh} (timeout -1: never).
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { fsd, parseFsd } from '../../job/fsd.js';
import { isTable, type ConfigObject } from '../config/parse.js';
import type { BrokerContext, Method, Request, Service } from '../service.js';

export interface HeartbeatSettings {
  /** Seconds between pulses. */
  period: number;
  /** Seconds without a pulse before a follower leaves (Infinity: never). */
  timeout: number;
  /** Periods without a pulse before a follower warns. */
  warnThresh: number;
}

const KEYS = ['period', 'timeout', 'warn_thresh'];

/** The `[heartbeat]` table, checked as flux-core checks it (unknown keys refused). */
export function heartbeatSettings(conf: ConfigObject | undefined): HeartbeatSettings {
  const t = conf?.['heartbeat'];
  const out: HeartbeatSettings = { period: 2, timeout: 300, warnThresh: 3 };
  if (t === undefined) return out;
  const bad = (why: string): FluxError => new FluxError(Errno.EINVAL, `error reading [heartbeat] config table: ${why}`);
  if (!isTable(t)) throw bad('not a table');
  const unknown = Object.keys(t).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw bad(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const duration = (key: string): number | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw bad(`${key} must be a string (a Flux standard duration)`);
    try {
      return parseFsd(v);
    } catch (e) {
      throw bad(`error parsing heartbeat.${key}: ${(e as Error).message}`);
    }
  };
  const period = duration('period');
  if (period !== undefined) {
    if (!(period > 0) || period === Infinity) throw bad('heartbeat.period must be a positive FSD value');
    out.period = period;
  }
  const timeout = duration('timeout');
  if (timeout !== undefined) out.timeout = timeout === 0 ? Infinity : timeout;
  if (out.timeout !== Infinity && out.timeout < out.period * 2) {
    throw bad('heartbeat.timeout must be >= 2*heartbeat.period, infinity, or 0');
  }
  const w = t['warn_thresh'];
  if (w !== undefined) {
    if (typeof w !== 'number' || !Number.isInteger(w) || w <= 0) throw bad('heartbeat.warn_thresh must be positive');
    out.warnThresh = w;
  }
  return out;
}

export class Heartbeat implements Service {
  readonly name = 'heartbeat';
  readonly methods: Record<string, Method> = {
    'stats-get': {
      roles: Role.USER,
      handler: (req) =>
        req.respond({
          period: this.s.period,
          timeout: this.s.timeout === Infinity ? -1 : this.s.timeout,
          count: this.count,
          warn_thresh: this.s.warnThresh,
        }),
    },
    'config-reload': { roles: 'internal', handler: (req) => this.configReload(req) },
  };
  private ctx!: BrokerContext;
  private s: HeartbeatSettings;
  private count = 0;
  private last = performance.now();
  private overdue = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private timedOut = false;

  constructor(
    conf: ConfigObject | undefined,
    /** A follower heard no pulse for the timeout: cut the link to the parent, saying why. */
    private readonly onTimeout: (why: string) => void,
  ) {
    this.s = heartbeatSettings(conf);
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
    if (ctx.rank > 0) {
      this.unsubscribe = ctx.subscribe('heartbeat.pulse', (topic) => {
        if (topic !== 'heartbeat.pulse') return;
        this.count++;
        this.last = performance.now();
        this.check();
      });
    }
    this.arm();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
  }

  /** Rank 0: pulse every period. Others: look at the last pulse often enough to see the timeout. */
  private arm(): void {
    clearInterval(this.timer);
    const every = this.ctx.rank === 0 ? this.s.period : Math.min(this.s.period, this.s.timeout / 4);
    this.timer = setInterval(() => this.tick(), every * 1000);
    this.timer.unref();
  }

  private tick(): void {
    if (this.ctx.rank === 0) {
      this.count++;
      this.ctx.publish('heartbeat.pulse');
      return;
    }
    this.check();
  }

  private check(): void {
    const quiet = (performance.now() - this.last) / 1000;
    const overdue = quiet > this.s.period * this.s.warnThresh;
    if (overdue !== this.overdue) {
      this.overdue = overdue;
      this.ctx.log('warning', overdue ? 'heartbeat: heartbeat overdue' : 'heartbeat: heartbeat received');
    }
    if (quiet >= this.s.timeout && !this.timedOut) {
      this.timedOut = true;
      this.onTimeout(`no heartbeat for ${fsd(quiet)}`);
    }
  }

  private configReload(req: Request): void {
    try {
      this.s = heartbeatSettings(req.payload);
    } catch (e) {
      const err = e as FluxError;
      return req.error(err.errno, err.message);
    }
    this.arm();
    req.respond({});
  }
}
