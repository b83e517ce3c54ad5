/**
 * The broker's state machine as others see it (flux-core broker/state_machine.c,
 * docs/protocol.md §F.9): the Instance enters each state as it gets there, and the
 * `state-machine` service tells clients and other brokers where it is.
 *
 *   join → init → quorum → run → cleanup → shutdown → finalize → goodbye → exit
 *
 *   state-machine.get      → {"state":"run","duration":S}   (S: seconds since the broker started)
 *   state-machine.monitor  {"final"?:N} → {"state":N} now and at each change, while N ≤ final;
 *                          ENODATA after final (streaming), or after the one answer
 *   state-machine.wait     → {} once in run; ENOENT "broker has surpassed RUN state" after it
 *
 * On rank 0, while the instance waits for its brokers (quorum), it logs every
 * `broker.quorum-warn` (default 60 s; `none` never) which brokers it still waits for, and
 * `quorum reached` once they are all up after such a warning.
 */
import { Errno } from '../protocol/errno.js';
import { Role } from '../protocol/types.js';
import type { BrokerContext, ConnId, Method, Request, Service } from './service.js';

export const STATES = [
  'none',
  'join',
  'init',
  'quorum',
  'run',
  'cleanup',
  'shutdown',
  'finalize',
  'goodbye',
  'exit',
] as const;
export type BrokerState = (typeof STATES)[number];
const RUN = STATES.indexOf('run');

export interface StateMachineOptions {
  /** Seconds between "quorum delayed" warnings on rank 0 (Infinity: none). */
  quorumWarn: number;
  /** What rank 0 still waits for, in words ("vm (rank 2)"), while in quorum. */
  waitingFor: () => string[];
}

export class StateMachine implements Service {
  readonly name = 'state-machine';
  readonly methods: Record<string, Method> = {
    get: { roles: Role.USER, handler: (req) => this.get(req) },
    monitor: { roles: Role.OWNER, handler: (req) => this.monitor(req) },
    wait: { roles: Role.USER, handler: (req) => this.wait(req) },
  };
  private ctx: BrokerContext | undefined;
  private state = 0;
  private readonly started = performance.now();
  private readonly monitors = new Set<Request>();
  private readonly waits = new Set<Request>();
  private warnTimer: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(private readonly opts: StateMachineOptions) {}

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
  }

  stop(): void {
    clearTimeout(this.warnTimer);
  }

  get current(): BrokerState {
    return STATES[this.state]!;
  }

  /** The broker got to `state` (states only move forward). */
  enter(state: BrokerState): void {
    const n = STATES.indexOf(state);
    if (n <= this.state) return;
    const was = this.current;
    this.state = n;
    this.ctx?.log('debug', `state-machine: ${was}->${state}`);
    for (const req of this.monitors) if (!this.update(req)) this.monitors.delete(req);
    for (const req of this.waits) if (this.answerWait(req)) this.waits.delete(req);
    if (state === 'quorum') this.armQuorumWarning();
    if (was === 'quorum') {
      clearTimeout(this.warnTimer);
      if (this.warned && state === 'run') this.ctx?.log('err', 'quorum reached');
    }
  }

  disconnect(conn: ConnId): void {
    for (const set of [this.monitors, this.waits]) for (const req of set) if (req.conn === conn) set.delete(req);
  }

  private get(req: Request): void {
    req.respond({ state: this.current, duration: (performance.now() - this.started) / 1000 });
  }

  private monitor(req: Request): void {
    const final = req.payload?.final;
    if (final !== undefined && (typeof final !== 'number' || !Number.isInteger(final))) {
      return req.error(Errno.EPROTO, 'final must be an integer state');
    }
    if (this.update(req)) this.monitors.add(req);
  }

  /** Tell one monitor the state; false once it has had its last answer (flux-core monitor_update_one). */
  private update(req: Request): boolean {
    const final: number = req.payload?.final ?? STATES.indexOf('exit');
    if (this.state > final) {
      req.error(Errno.ENODATA);
      return false;
    }
    req.respond({ state: this.state });
    if (!req.streaming) return false;
    if (this.state === final) {
      req.error(Errno.ENODATA);
      return false;
    }
    return true;
  }

  private wait(req: Request): void {
    if (!this.answerWait(req)) this.waits.add(req);
  }

  private answerWait(req: Request): boolean {
    if (this.state < RUN) return false;
    if (this.state === RUN) req.respond({});
    else req.error(Errno.ENOENT, 'broker has surpassed RUN state');
    return true;
  }

  private armQuorumWarning(): void {
    const period = this.opts.quorumWarn;
    if (this.ctx?.rank !== 0 || !(period > 0) || period === Infinity) return;
    this.warnTimer = setTimeout(() => {
      if (this.current !== 'quorum') return;
      const waiting = this.opts.waitingFor();
      if (waiting.length > 0) {
        this.warned = true;
        this.ctx?.log('err', `quorum delayed: waiting for ${waiting.join(', ')}`);
      }
      this.armQuorumWarning();
    }, period * 1000);
    this.warnTimer.unref();
  }
}
