/**
 * The broker: service registry, topic router, in-process RPC between services, events and
 * attributes (docs/protocol.md §A.5: ENOSYS for unknown topics, `<service>.ping`,
 * `<service>.disconnect` cleanup). Dispatch enforces each method's roles (service.ts, RFC 12)
 * before its handler runs. A request for another rank, or for a service only another rank has,
 * goes to the Router (the overlay, docs/protocol.md §F.4); events are sequenced by rank 0.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { SqliteStore } from './store/sqlite.js';
import type { JobStore } from './store/store.js';
import { Errno, FluxError, errnoOf } from '../protocol/errno.js';
import { Role } from '../protocol/types.js';
import { INTERNAL_CONN } from './service.js';
import type { BrokerContext, ConnId, Method, Request, Roles, ServiceRpcOptions, Service } from './service.js';

export interface AttrValue {
  value: string;
  /** FLUX_ATTRFLAG_IMMUTABLE = 1 */
  flags: number;
}

export type LogFn = (level: 'err' | 'warning' | 'info' | 'debug', text: string) => void;
export type EventSink = (topic: string, payload: any, seq: number) => void;

/** Where requests and events for other brokers go (overlay/overlay.ts). */
export interface Router {
  /**
   * Take a request that is not to be served here: forward it, or answer it with an error
   * (RFC 3 routing). False: serve it here. `hasService`: a service of its name is registered.
   */
  route(req: Request, hasService: boolean): boolean;
  /** An event raised on a follower: to rank 0, which sequences it. */
  publishUpstream(topic: string, payload: any): void;
  /** An event sequenced by rank 0 (or passed down to us): to the brokers below. */
  broadcast(topic: string, payload: any, seq: number): void;
  /** A sender (client connection, or one behind another broker) went away. */
  disconnect(conn: ConnId): void;
}

/** A request made in-process by one service to another (payload passed as an object). */
class InternalRequest implements Request {
  readonly conn: ConnId = INTERNAL_CONN;
  readonly matchtag = 0;
  readonly noresponse = false;
  finished = false;
  constructor(
    readonly topic: string,
    readonly payload: any,
    readonly userid: number,
    readonly rolemask: number,
    readonly streaming: boolean,
    readonly nodeid: number | undefined,
    private readonly onResponse: ((p: any) => void) | undefined,
    private readonly resolve: (p: any) => void,
    private readonly reject: (e: Error) => void,
  ) {}
  respond(payload?: object): void {
    if (this.finished) return;
    if (this.streaming) {
      this.onResponse?.(payload);
    } else {
      this.finished = true;
      this.resolve(payload);
    }
  }
  error(errnum: number, text?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.streaming && errnum === Errno.ENODATA) this.resolve(undefined);
    else this.reject(new FluxError(errnum || Errno.EINVAL, text));
  }
}

/** The method of `svc` (or its fallback) a request for `topic` goes to. */
function ownMethod(svc: Service, topic: string): Method | undefined {
  const dot = topic.indexOf('.');
  const name = dot < 0 ? '' : topic.slice(dot + 1);
  return Object.hasOwn(svc.methods, name) ? svc.methods[name] : svc.fallback;
}

/** Credentials of in-process requests unless the caller names others: the instance owner's. */
const OWNER_ROLES = Role.OWNER | Role.LOCAL;

/**
 * Why `req` may not call a method with these roles, or undefined if it may. The texts are
 * flux-core's (libflux msg_handler.c) for a missing role.
 */
export function refusal(roles: Roles, req: Request): string | undefined {
  if (roles === 'internal') {
    return req.conn === INTERNAL_CONN ? undefined : `${req.topic} is internal to the broker: clients may not call it`;
  }
  const allowed = (roles | Role.OWNER) >>> 0;
  if ((req.rolemask & allowed) !== 0) return undefined;
  return allowed === Role.OWNER
    ? 'Request requires owner credentials'
    : 'Request rejected due to insufficient privilege';
}

export class Broker implements BrokerContext {
  readonly rank: number;
  readonly size: number;
  readonly owner: number;
  /** This broker's `broker.uuid`, new at every start; the overlay's route stacks carry it. */
  readonly uuid = randomUUID();
  /** Where requests for other ranks go; none: everything is served here. */
  router: Router | undefined;
  private readonly services = new Map<string, Service>();
  private readonly attrs = new Map<string, AttrValue>();
  private readonly attrSetters = new Map<string, (value: string) => string>();
  private readonly subs: { prefix: string; cb: (topic: string, payload: any) => void }[] = [];
  private readonly sinks = new Set<EventSink>();
  private eventSeq = 0;
  /** conn → names of the services it sent requests to (for `<service>.disconnect`). */
  private readonly used = new Map<ConnId, Set<string>>();
  /** Services registered before start(), in order: the modules. */
  private readonly moduleNames: string[] = [];
  private started = false;
  /**
   * Services whose start() has not finished, with the requests that arrived for them meanwhile:
   * they wait, as a flux-core module's requests wait until its reactor runs (a job-manager
   * restarting on many jobs), while the broker and the services already up answer.
   */
  private readonly starting = new Map<string, Request[]>();
  /** Starting services whose start() has been called: their `whileStarting` methods take requests. */
  private readonly opening = new Set<string>();
  logger: LogFn = () => {};

  readonly store: JobStore;
  readonly hostname: string;

  constructor(opts: { rank?: number; size?: number; owner?: number; store?: JobStore; hostname?: string } = {}) {
    this.store = opts.store ?? SqliteStore.open(':memory:', { durable: false });
    this.hostname = opts.hostname ?? os.hostname();
    this.rank = opts.rank ?? 0;
    this.size = opts.size ?? 1;
    this.owner = opts.owner ?? process.getuid?.() ?? 0;
    this.setattr('rank', String(this.rank), true);
    this.setattr('size', String(this.size), true);
    this.setattr('security.owner', String(this.owner), true);
    this.setattr('broker.pid', String(process.pid), true);
    this.setattr('broker.uuid', this.uuid, true);
  }

  register(svc: Service): void {
    if (this.services.has(svc.name)) throw new Error(`service ${svc.name} already registered`);
    this.services.set(svc.name, svc);
    if (!this.started) this.moduleNames.push(svc.name);
  }

  unregister(name: string): void {
    this.services.delete(name);
    const m = this.moduleNames.indexOf(name);
    if (m >= 0) this.moduleNames.splice(m, 1);
    // A connection's list of services to tell at disconnect forgets this one (a client that
    // attaches to many jobs in turn would otherwise keep every job's shell service name).
    for (const set of this.used.values()) set.delete(name);
  }

  /** Services a connection has sent requests to (told of its disconnect). */
  servicesUsedBy(conn: ConnId): ReadonlySet<string> {
    return this.used.get(conn) ?? new Set();
  }

  addService(svc: Service): void {
    this.register(svc);
  }

  removeService(name: string): void {
    this.unregister(name);
  }

  hasService(name: string): boolean {
    return this.services.has(name);
  }

  modules(): string[] {
    return [...this.moduleNames];
  }

  /** Start the services in registration order; a service that fails is named in the error. */
  async start(): Promise<void> {
    this.started = true;
    const services = [...this.services.values()];
    for (const svc of services) if (svc.start) this.starting.set(svc.name, []);
    for (const svc of services) {
      try {
        const started = svc.start?.(this);
        this.opening.add(svc.name);
        this.admitWhileStarting(svc);
        await started;
      } catch (e) {
        const err = new FluxError(errnoOf(e, Errno.EINVAL), `${svc.name}: ${(e as Error).message}`);
        this.failStarting(Errno.ENOSYS, `${svc.name} failed to start`);
        throw err;
      } finally {
        this.opening.delete(svc.name);
      }
      const waiting = this.starting.get(svc.name) ?? [];
      this.starting.delete(svc.name);
      for (const r of waiting) this.dispatch(r);
    }
  }

  /** The requests waiting for `svc` that its methods take while it starts (Method.whileStarting). */
  private admitWhileStarting(svc: Service): void {
    const waiting = this.starting.get(svc.name);
    if (!waiting?.length) return;
    const early = waiting.filter((r) => ownMethod(svc, r.topic)?.whileStarting?.(r) === true);
    if (early.length === 0) return;
    this.starting.set(
      svc.name,
      waiting.filter((r) => !early.includes(r)),
    );
    for (const r of early) this.dispatch(r);
  }

  /** Answer the requests waiting for services that will not start now. */
  private failStarting(errnum: number, text: string): void {
    const waiting = [...this.starting.values()].flat();
    this.starting.clear();
    for (const r of waiting) if (!r.noresponse) r.error(errnum, text);
  }

  async stop(): Promise<void> {
    this.failStarting(Errno.ENOSYS, 'instance is shutting down');
    for (const svc of [...this.services.values()].reverse()) {
      try {
        await svc.stop?.();
      } catch (e) {
        this.log('err', `stopping ${svc.name}: ${(e as Error).message}`);
      }
    }
  }

  /** `<service>.ping` of a service that does not define its own (flux-core: FLUX_ROLE_USER). */
  private readonly pingMethod: Method = { roles: Role.USER, handler: (r) => this.ping(r) };

  /**
   * Route one request to its handler: ENOSYS when no method matches, EPERM (and the handler does
   * not run) when the method's roles do not allow the request's credentials. Never throws.
   */
  dispatch(req: Request): void {
    const topic = req.topic;
    const dot = topic.indexOf('.');
    const svcName = dot < 0 ? topic : topic.slice(0, dot);
    const method = dot < 0 ? '' : topic.slice(dot + 1);
    const svc = this.services.get(svcName);
    if (this.router?.route(req, svc !== undefined)) return;
    let m: Method | undefined;
    if (svc) {
      if (Object.hasOwn(svc.methods, method)) m = svc.methods[method];
      else if (svc.fallback) m = svc.fallback;
      else if (method === 'ping') m = this.pingMethod;
    }
    if (!m) {
      if (!req.noresponse) req.error(Errno.ENOSYS, `No service matching ${topic} is registered`);
      return;
    }
    const waiting = this.starting.get(svcName);
    if (waiting !== undefined && !(this.opening.has(svcName) && m.whileStarting?.(req) === true)) {
      waiting.push(req); // admitted (roles) when it is served
      return;
    }
    const why = refusal(m.roles, req);
    if (why !== undefined) {
      if (!req.noresponse) req.error(Errno.EPERM, why);
      return;
    }
    if (req.conn !== INTERNAL_CONN) {
      let set = this.used.get(req.conn);
      if (!set) this.used.set(req.conn, (set = new Set()));
      set.add(svcName);
    }
    try {
      m.handler(req);
    } catch (e) {
      const err = e as Error;
      this.log('err', `${topic}: ${err.stack ?? err.message}`);
      if (!req.noresponse && !req.finished) req.error(errnoOf(e, Errno.EINVAL), err.message);
    }
  }

  /**
   * `<service>.ping`: echo the request, adding route, userid, rolemask and rank. The route is
   * the sender's connection and every broker on the way, then this one, each cut to 8
   * characters (flux-core method_ping_cb).
   */
  ping(req: Request): void {
    const p = req.payload && typeof req.payload === 'object' ? req.payload : {};
    const me = this.uuid.slice(0, 8);
    const route = req.conn === INTERNAL_CONN ? me : `${req.conn}!${me}`;
    req.respond({ ...p, route, userid: req.userid, rolemask: req.rolemask, rank: this.rank });
  }

  /** A client connection closed: tell every service it used, as flux-core does. */
  disconnect(conn: ConnId): void {
    this.router?.disconnect(conn);
    for (const [name, waiting] of this.starting) {
      if (waiting.some((r) => r.conn === conn)) {
        this.starting.set(
          name,
          waiting.filter((r) => r.conn !== conn),
        );
      }
    }
    const set = this.used.get(conn);
    this.used.delete(conn);
    if (!set) return;
    for (const name of set) {
      const svc = this.services.get(name);
      try {
        svc?.disconnect?.(conn);
      } catch (e) {
        this.log('err', `${name}.disconnect: ${(e as Error).message}`);
      }
    }
  }

  rpc<T = any>(topic: string, payload?: object, opts: ServiceRpcOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = new InternalRequest(
        topic,
        payload,
        opts.userid ?? this.owner,
        opts.rolemask ?? OWNER_ROLES,
        opts.streaming ?? false,
        opts.nodeid,
        opts.onResponse,
        resolve,
        reject,
      );
      this.dispatch(req);
    });
  }

  /**
   * Publish an event. Rank 0 numbers it, sends it to the brokers below and delivers it here; a
   * follower sends it up to rank 0, and gets it back numbered like every other broker
   * (docs/protocol.md §F.5).
   */
  publish(topic: string, payload?: object): void {
    if (this.router !== undefined && this.rank !== 0) {
      this.router.publishUpstream(topic, payload);
      return;
    }
    const seq = ++this.eventSeq;
    this.router?.broadcast(topic, payload, seq);
    this.deliver(topic, payload, seq);
  }

  /** Hand a numbered event to this broker's subscribers and socket clients. */
  deliver(topic: string, payload: any, seq: number): void {
    for (const s of this.subs) if (topic.startsWith(s.prefix)) s.cb(topic, payload);
    for (const sink of this.sinks) sink(topic, payload, seq);
  }

  subscribe(prefix: string, cb: (topic: string, payload: any) => void): () => void {
    const entry = { prefix, cb };
    this.subs.push(entry);
    return () => {
      const i = this.subs.indexOf(entry);
      if (i >= 0) this.subs.splice(i, 1);
    };
  }

  /** Socket servers forward published events to their subscribed clients through a sink. */
  addEventSink(sink: EventSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  getattr(name: string): string | undefined {
    return this.attrs.get(name)?.value;
  }

  getattrFull(name: string): AttrValue | undefined {
    return this.attrs.get(name);
  }

  setattr(name: string, value: string, immutable = false): void {
    this.attrs.set(name, { value, flags: immutable ? 1 : 0 });
  }

  deleteattr(name: string): void {
    this.attrs.delete(name);
  }

  /**
   * An attribute the broker acts on when the owner sets it while running (flux-core's active
   * attributes, e.g. `tbon.torpid_max`): `set` checks the new value (throwing a FluxError that
   * names it) and applies it, returning the value to show.
   */
  activeAttr(name: string, value: string, set: (value: string) => string): void {
    this.attrs.set(name, { value, flags: 0 });
    this.attrSetters.set(name, set);
  }

  /** The setter of an active attribute (attr.set goes through it; attr.rm refuses it). */
  attrSetter(name: string): ((value: string) => string) | undefined {
    return this.attrSetters.get(name);
  }

  attrNames(): string[] {
    return [...this.attrs.keys()].sort();
  }

  log(level: 'err' | 'warning' | 'info' | 'debug', text: string): void {
    this.logger(level, text);
  }
}
