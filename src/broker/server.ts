/**
 * The local connector: a Unix socket server speaking the Flux stream protocol
 * (docs/protocol.md §A.1–A.5). One `ClientConn` per connection: handshake byte, incremental
 * decode, requests routed to the broker, responses and events written back batched per
 * event-loop turn. A malformed message closes that one connection; the broker carries on.
 *
 * Credentials: Node cannot read SO_PEERCRED, so the socket lives in a directory only the
 * instance owner can enter (mode 0700) and every connection is the owner's: userid = owner,
 * rolemask OWNER|LOCAL (5), which is what real flux-core stamps on the owner's responses. As
 * flux-core's local connector does for an owner connection, a request that carries its own
 * userid or rolemask keeps them (RFC 12: the owner may act for a guest, e.g. a test, or
 * `FLUX_HANDLE_ROLEMASK=0x2`); the broker then checks the method's roles against those.
 */
import net from 'node:net';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { StreamDecoder, type PendingBudget } from '../protocol/stream.js';
import { DEFAULT_MAX_PENDING_BYTES, InboundBudget } from './inbound-budget.js';
import { event as eventMessage, withTextPayload, type Cred } from '../protocol/codec.js';
import { OutQueue } from '../protocol/outqueue.js';
import { deepFreeze, parseJson } from '../protocol/json.js';
import { Errno } from '../protocol/errno.js';
import { MsgFlag, MsgType, Role, USERID_UNKNOWN, type Message } from '../protocol/types.js';
import type { Broker } from './broker.js';
import type { ConnId, Outflow, Request, Service } from './service.js';
import { MessageRequest } from './message-request.js';

const OWNER_ROLES = Role.OWNER | Role.LOCAL;
/** Request payloads at least this long are remembered by their connection (ClientConn.decodePayload). */
const REPEAT_MIN = 1024;

export interface ServerOptions {
  /** Largest message accepted from a client (bytes); default 64 MiB. */
  maxMessageSize?: number;
  /**
   * What the incomplete messages of all connections may hold together (inbound-budget.ts);
   * default 256 MiB. Each connection's is bounded by maxMessageSize (one message at a time).
   */
  maxPendingBytes?: number;
  /**
   * What may wait in one connection's outgoing queue (responses, events) for a client that
   * does not read; past it the client is disconnected. Default twice maxMessageSize.
   */
  maxQueuedBytes?: number;
}

class WireRequest extends MessageRequest {
  readonly userid: number;
  readonly rolemask: number;
  constructor(
    private readonly c: ClientConn,
    msg: Message,
    readonly payload: any,
  ) {
    super(msg);
    const cred = c.credOf(msg);
    this.userid = cred.userid;
    this.rolemask = cred.rolemask;
  }
  get conn(): ConnId {
    return this.c.id;
  }
  get outflow(): Outflow {
    return this.c;
  }
  protected override get responseCred(): Cred {
    return this.c.cred;
  }
  protected send(msg: Message): void {
    this.c.send(msg);
  }
}

interface DrainWaiter {
  bytes: number;
  cb: () => void;
}

export class ClientConn implements Outflow {
  readonly id: ConnId = randomBytes(4).toString('hex');
  readonly userid: number;
  readonly rolemask: number = OWNER_ROLES;
  readonly cred: { userid: number; rolemask: number };
  private readonly decoder: StreamDecoder;
  private readonly out = new OutQueue();
  private flushScheduled = false;
  closed = false;
  /** Event topic prefixes this client subscribed to. */
  readonly subscriptions: string[] = [];
  /** The last long request payload decoded: its topic, bytes and (frozen) value. */
  private repeat: { topic: string; bytes: Buffer; value: object } | undefined;
  /** Outflow.whenBelow callers, told when the queue drains. */
  private drainWaiters: DrainWaiter[] = [];
  private drainCheck: NodeJS.Immediate | undefined;
  /** Over its outgoing limit: nothing more is queued, it is closed on the next turn. */
  private aborting = false;

  constructor(
    readonly server: LocalServer,
    readonly socket: net.Socket,
    maxMessageSize: number,
    budget: PendingBudget,
  ) {
    this.userid = server.broker.owner;
    this.cred = { userid: this.userid, rolemask: this.rolemask };
    this.decoder = new StreamDecoder({ maxMessageSize, budget });
    this.out.onWritten = () => this.checkDrain();
  }

  /** Bytes queued for this client and not yet taken by the kernel (Outflow). */
  get queuedBytes(): number {
    return this.out.bytes;
  }

  /** Messages queued for this client and not yet encoded. */
  get queuedMessages(): number {
    return this.out.length;
  }

  whenBelow(bytes: number, cb: () => void): () => void {
    const w: DrainWaiter = { bytes, cb };
    if (this.closed) return () => undefined;
    this.drainWaiters.push(w);
    // already short enough: told on the next turn, never from within this call
    if (this.out.bytes <= bytes) this.drainCheck ??= setImmediate(() => this.checkDrain());
    return () => {
      const i = this.drainWaiters.indexOf(w);
      if (i >= 0) this.drainWaiters.splice(i, 1);
    };
  }

  /**
   * Tell the waiters whose bound the queue is now within, oldest first; each is checked just
   * before it is told (the ones before it may have queued more).
   */
  private checkDrain(): void {
    if (this.drainCheck !== undefined) {
      clearImmediate(this.drainCheck);
      this.drainCheck = undefined;
    }
    if (this.drainWaiters.length === 0) return;
    for (const w of this.drainWaiters.slice()) {
      if (this.closed) return;
      if (w.bytes < this.out.bytes) continue;
      const i = this.drainWaiters.indexOf(w);
      if (i < 0) continue; // canceled by an earlier one
      this.drainWaiters.splice(i, 1);
      w.cb();
    }
  }

  /**
   * The credentials a message from this client acts with (flux-core connector-local
   * auth_init_message): a guest connection's always; an owner connection's unless the message
   * sets its own userid or rolemask.
   */
  credOf(msg: Message): { userid: number; rolemask: number } {
    if ((this.rolemask & Role.OWNER) === 0) return this.cred;
    const userid = msg.userid === USERID_UNKNOWN ? this.userid : msg.userid;
    const rolemask = msg.rolemask === Role.NONE ? this.rolemask : msg.rolemask;
    return userid === this.userid && rolemask === this.rolemask ? this.cred : { userid, rolemask };
  }

  /** Queue a message for this client; it is encoded when the socket has room (outqueue.ts). */
  send(msg: Message): void {
    if (this.closed || this.aborting) return;
    this.out.push(msg);
    if (this.out.bytes > this.server.maxQueuedBytes) {
      // a client that does not read: drop it, on the next turn (we may be inside a service's loop)
      this.aborting = true;
      this.out.discard();
      const why = `more than ${this.server.maxQueuedBytes} bytes queued for it (it does not read)`;
      setImmediate(() => this.abort(why));
      return;
    }
    if (this.out.length >= 4096) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    this.out.pump(this.socket);
  }

  /**
   * A request's payload, decoded. A bulk submission sends one payload (the same signed
   * jobspec, urgency and flags) thousands of times, 3 KB each: a long payload that repeats the
   * previous long one of this connection byte for byte, on the same topic, is handed out again
   * as the same frozen value, without decoding 3 KB of text into a new string and object per
   * job. Services treat request payloads as read-only (service.ts). Throws SyntaxError.
   */
  decodePayload(topic: string, bytes: Buffer): unknown {
    if (bytes.length < REPEAT_MIN) return parseJson(bytes);
    const r = this.repeat;
    if (r !== undefined && r.topic === topic && bytes.equals(r.bytes)) return r.value;
    const value = parseJson(bytes);
    if (value !== null && typeof value === 'object')
      this.repeat = { topic, bytes: Buffer.from(bytes), value: deepFreeze(value) };
    return value;
  }

  onData(chunk: Buffer): void {
    if (this.closed) return; // what was already read when it was closed
    let msgs: Message[];
    try {
      msgs = this.decoder.push(chunk);
    } catch (e) {
      this.server.broker.log('warning', `client ${this.id}: ${(e as Error).message}; closing connection`);
      this.close();
      return;
    }
    for (const m of msgs) {
      if (this.closed) return;
      this.server.handle(this, m);
    }
  }

  /** Close at once, without what is queued, with a log line saying why. */
  abort(why: string): void {
    if (this.closed) return;
    this.server.broker.log('warning', `client ${this.id}: ${why}; closing connection`);
    this.out.discard();
    this.close();
    this.socket.destroy();
  }

  /** The decoder of this connection (InboundBudget names connections by it). */
  get inbound(): StreamDecoder {
    return this.decoder;
  }

  close(): void {
    if (this.closed) return;
    this.decoder.discard();
    this.out.drain(this.socket);
    this.closed = true;
    this.drainWaiters = [];
    if (this.drainCheck !== undefined) clearImmediate(this.drainCheck);
    this.socket.end();
    this.socket.destroySoon?.();
    this.server.dropConn(this);
  }
}

export class LocalServer {
  private readonly srv: net.Server;
  private readonly conns = new Map<ConnId, ClientConn>();
  /** Services registered by clients with service.add: name → provider connection. */
  private readonly clientServices = new Map<string, ClientConn>();
  /**
   * Requests forwarded to a client service, awaiting its response, by `${service}:${tag}`, with
   * the client that has them. They stay that client's to answer after it removes the service
   * (removal only stops new requests); only its disconnect fails them.
   */
  private readonly forwarded = new Map<string, { req: Request; provider: ClientConn }>();
  private fwdTag = 0;
  private readonly maxMessageSize: number;
  readonly maxQueuedBytes: number;
  private readonly budget: InboundBudget;
  private removeSink: (() => void) | undefined;

  constructor(
    readonly broker: Broker,
    readonly path: string,
    opts: ServerOptions = {},
  ) {
    this.maxMessageSize = opts.maxMessageSize ?? 64 * 1024 * 1024;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 2 * this.maxMessageSize;
    this.budget = new InboundBudget(opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES, (d, why) => {
      for (const c of this.conns.values()) if (c.inbound === d) return c.abort(why);
    });
    this.srv = net.createServer((sock) => this.accept(sock));
  }

  async listen(): Promise<void> {
    try {
      fs.unlinkSync(this.path);
    } catch {
      /* not there */
    }
    await new Promise<void>((resolve, reject) => {
      this.srv.once('error', reject);
      this.srv.listen(this.path, () => {
        this.srv.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(this.path, 0o700);
    this.removeSink = this.broker.addEventSink((topic, payload, seq) => this.deliverEvent(topic, payload, seq));
  }

  async close(): Promise<void> {
    this.removeSink?.();
    for (const c of [...this.conns.values()]) c.close();
    await new Promise<void>((resolve) => this.srv.close(() => resolve()));
    try {
      fs.unlinkSync(this.path);
    } catch {
      /* gone */
    }
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Bytes the incomplete messages of all connections hold now. */
  get pendingBytes(): number {
    return this.budget.bytes;
  }

  /** The client connections (their outgoing queues, for tests and stats). */
  connections(): ClientConn[] {
    return [...this.conns.values()];
  }

  private accept(sock: net.Socket): void {
    const c = new ClientConn(this, sock, this.maxMessageSize, this.budget);
    this.conns.set(c.id, c);
    sock.setNoDelay?.(true);
    sock.write(Buffer.from([0])); // handshake: accepted (§A.1)
    sock.on('data', (chunk: Buffer) => c.onData(chunk));
    sock.on('error', () => c.close());
    sock.on('close', () => c.close());
  }

  dropConn(c: ClientConn): void {
    if (!this.conns.delete(c.id)) return;
    for (const [name, provider] of this.clientServices) {
      if (provider === c) this.removeClientService(name);
    }
    // What it was serving and had not answered can no longer be (flux-core fails a vanished
    // peer's or module's tracked requests with EHOSTUNREACH).
    for (const [key, f] of this.forwarded) {
      if (f.provider !== c) continue;
      this.forwarded.delete(key);
      const name = key.slice(0, key.lastIndexOf(':'));
      f.req.error(Errno.EHOSTUNREACH, `${name}: the client serving it disconnected`);
    }
    this.broker.disconnect(c.id);
  }

  handle(c: ClientConn, m: Message): void {
    switch (m.type) {
      case MsgType.REQUEST:
        return this.handleRequest(c, m);
      case MsgType.RESPONSE:
        return this.handleServiceResponse(c, m);
      case MsgType.EVENT:
        if (m.topic) {
          let payload: any;
          try {
            payload = m.payload ? parseJson(m.payload) : undefined;
          } catch {
            payload = undefined;
          }
          this.broker.publish(m.topic, payload);
        }
        return;
      default:
        return; // control messages are not used on the local connector
    }
  }

  private handleRequest(c: ClientConn, m: Message): void {
    let payload: any;
    if (m.payload !== undefined) {
      try {
        payload = c.decodePayload(m.topic ?? '', m.payload);
      } catch (e) {
        const req = new WireRequest(c, m, undefined);
        req.error(Errno.EPROTO, `${m.topic}: invalid JSON payload: ${(e as Error).message}`);
        return;
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        new WireRequest(c, m, undefined).error(Errno.EPROTO, `${m.topic}: payload must be a JSON object`);
        return;
      }
    }
    const req = new WireRequest(c, m, payload);
    switch (req.topic) {
      case 'event.subscribe':
      case 'event.unsubscribe': {
        const prefix = payload?.topic;
        if (typeof prefix !== 'string') return req.error(Errno.EPROTO, 'topic must be a string');
        if (req.topic === 'event.subscribe') c.subscriptions.push(prefix);
        else {
          const i = c.subscriptions.indexOf(prefix);
          if (i >= 0) c.subscriptions.splice(i, 1);
        }
        return req.respond();
      }
      case 'service.add':
      case 'service.remove':
        return this.serviceAddRemove(c, req);
    }
    this.broker.dispatch(req);
  }

  private serviceAddRemove(c: ClientConn, req: Request): void {
    const name = req.payload?.service;
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      return req.error(Errno.EPROTO, 'service must be a non-empty name without "."');
    }
    // flux-core broker.c service_allow: a guest may only add or remove `<userid>-…` services
    if ((req.rolemask & Role.OWNER) === 0 && !name.startsWith(`${req.userid}-`)) {
      return req.error(Errno.EPERM, `guests may only add or remove services named ${req.userid}-*`);
    }
    if (req.topic === 'service.add') {
      if (this.broker.hasService(name)) return req.error(Errno.EEXIST, `service ${name} is already registered`);
      // Every request for the service goes to the client; the client's own handlers decide who
      // may call what, as a flux-core client's message handlers do.
      const svc: Service = {
        name,
        methods: {},
        fallback: { roles: Role.ALL, handler: (r) => this.forwardToClient(name, r) },
      };
      this.broker.register(svc);
      this.clientServices.set(name, c);
      return req.respond();
    }
    if (this.clientServices.get(name) !== c)
      return req.error(Errno.ENOENT, `service ${name} is not registered by this client`);
    this.removeClientService(name);
    req.respond();
  }

  /** No new requests for the service; those already forwarded are still the client's to answer. */
  private removeClientService(name: string): void {
    this.clientServices.delete(name);
    this.broker.unregister(name);
  }

  /** Forward a request to the client that registered the service; the route carries the key. */
  private forwardToClient(name: string, req: Request): void {
    const provider = this.clientServices.get(name);
    if (!provider) return req.error(Errno.ENOSYS, `No service matching ${req.topic} is registered`);
    const tag = req.noresponse ? 0 : (this.fwdTag = (this.fwdTag % 0x7fffffff) + 1);
    if (!req.noresponse) this.forwarded.set(`${name}:${tag}`, { req, provider });
    const fwd: Message = {
      type: MsgType.REQUEST,
      flags: req.streaming ? MsgFlag.STREAMING : req.noresponse ? MsgFlag.NORESPONSE : 0,
      topic: req.topic,
      route: [req.conn, name],
      userid: req.userid,
      rolemask: req.rolemask,
      aux1: 0,
      aux2: tag,
    };
    provider.send(
      withTextPayload(
        fwd,
        typeof req.payload === 'object' || req.payload === undefined ? req.payload : JSON.stringify(req.payload),
      ),
    );
  }

  private handleServiceResponse(c: ClientConn, m: Message): void {
    const name = m.route?.[m.route.length - 1];
    if (!name) return;
    const key = `${name}:${m.aux2}`;
    const f = this.forwarded.get(key);
    // only the client a request went to answers it, whether or not it still has the service
    if (!f || f.provider !== c) return;
    const errnum = m.aux1;
    if (errnum !== 0) {
      this.forwarded.delete(key);
      f.req.error(errnum, m.payload ? m.payload.toString('utf8') : undefined);
      return;
    }
    let payload: any;
    try {
      payload = m.payload ? parseJson(m.payload) : undefined;
    } catch {
      this.forwarded.delete(key);
      f.req.error(Errno.EPROTO, 'service returned invalid JSON');
      return;
    }
    if (!f.req.streaming) this.forwarded.delete(key);
    f.req.respond(payload);
  }

  private deliverEvent(topic: string, payload: any, seq: number): void {
    let msg: Message | undefined;
    for (const c of this.conns.values()) {
      if (!c.subscriptions.some((p) => topic.startsWith(p))) continue;
      msg ??= eventMessage(topic, payload, seq);
      c.send(msg);
    }
  }
}
