/**
 * The Flux handle (docs/protocol.md §A, §D "Handle"): one connection to an instance, RPCs
 * matched by matchtag, streaming RPCs, and `reactorRun()` for Flux's callback flow.
 *
 * Futures are real Promises (docs/architecture.md): `h.rpc(...)` returns a Promise of the decoded
 * payload; a Flux-style `then(cb(future))` would turn every future into a broken thenable.
 * Every pending request settles with an error if the connection drops: none hangs.
 */
import net from 'node:net';
import { StreamDecoder } from '../protocol/stream.js';
import { request, withTextPayload } from '../protocol/codec.js';
import { OutQueue } from '../protocol/outqueue.js';
import { parseJson } from '../protocol/json.js';
import { Errno, FluxError, strerror } from '../protocol/errno.js';
import { MsgFlag, MsgType, NODEID_ANY, type Message } from '../protocol/types.js';

export interface RpcOptions {
  nodeid?: number;
  /** Extra request flags (e.g. MsgFlag.NORESPONSE). */
  flags?: number;
  /**
   * Responses' payloads as their raw bytes (a Buffer, empty without one), not decoded as JSON.
   * A raw stream is bulk data: while its reader is STREAM_HIGH responses behind, the handle
   * stops reading its socket, and the server holds the rest.
   */
  raw?: boolean;
}

interface Pending {
  streaming: boolean;
  raw?: boolean;
  topic: string;
  onResponse: (payload: any) => void;
  onError: (err: FluxError) => void;
}

const MAX_TAG = 0xffffffff;

/**
 * Credentials a handle asks its requests to carry (RFC 12). Only an owner connection may choose
 * them, as in flux-core, where the instance owner uses them to act as a guest (tests).
 */
export interface HandleCred {
  userid?: number;
  rolemask?: number;
}

/** A uint32 from FLUX_HANDLE_USERID / FLUX_HANDLE_ROLEMASK (decimal, or hex with 0x). */
function credFromEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new FluxError(Errno.EINVAL, `${name}=${v}: not a 32-bit unsigned number`);
  return n;
}

/** Resolve a URI (or FLUX_URI) to a socket path. Only `local://` is supported. */
export function uriToPath(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(uri.trim());
  if (!m) throw new FluxError(Errno.EINVAL, `${uri}: not a Flux URI (expected local://PATH)`);
  if (m[1] !== 'local')
    throw new FluxError(Errno.EPROTONOSUPPORT, `${uri}: unsupported connector ${m[1]} (only local:// is supported)`);
  return m[2]!.replace(/[ \t]+$/, '');
}

/**
 * Responses a stream with flow control (`RpcOptions.raw`) holds unread before its handle stops
 * reading the socket, and the number it is back to when reading resumes: then the server's own
 * flow control holds the rest (a `tsflux job attach` whose stdout does not take more output
 * leaves it in the broker's bounded queue, not in its own memory).
 */
const STREAM_HIGH = 32;
const STREAM_LOW = 8;

/** A stream of responses from a streaming RPC: an async iterator with `cancel()`. */
export class RpcStream<T = any> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  /** Told when its unread responses pass STREAM_HIGH (true) and are back to STREAM_LOW (false). */
  flow: ((over: boolean) => void) | undefined;
  private over = false;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  private done = false;
  private error: FluxError | undefined;
  /** Called with each response as it arrives (in addition to iteration). */
  onResponse: ((payload: T) => void) | undefined;

  constructor(
    readonly matchtag: number,
    private readonly canceler: (s: RpcStream<T>) => void,
  ) {}

  /** @internal */ push(payload: T): void {
    this.onResponse?.(payload);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: payload, done: false });
    } else {
      this.queue.push(payload);
      if (!this.over && this.flow !== undefined && this.queue.length >= STREAM_HIGH) {
        this.over = true;
        this.flow(true);
      }
    }
  }

  /** Not over STREAM_HIGH any more (read down to STREAM_LOW, or ended). */
  private under(): void {
    if (!this.over) return;
    this.over = false;
    this.flow?.(false);
  }

  /** @internal */ end(err?: FluxError): void {
    if (this.done) return;
    this.done = true;
    this.under(); // what is left is read without the socket
    if (err && err.errno !== Errno.ENODATA) this.error = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      if (this.error) w.reject(this.error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  get finished(): boolean {
    return this.done;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.queue.length <= STREAM_LOW) this.under();
      return Promise.resolve({ value, done: false });
    }
    if (this.done) {
      if (this.error) {
        const e = this.error;
        this.error = undefined;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Ask the server to end the stream (the service's `-cancel` method); iteration then ends. */
  cancel(): void {
    // its reader is giving up: the socket is read again, and stays so (the end must come in)
    this.under();
    this.flow = undefined;
    if (!this.done) this.canceler(this);
  }

  async return(): Promise<IteratorResult<T>> {
    this.cancel();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export class Flux {
  readonly uri: string;
  private readonly path: string;
  private sock: net.Socket | undefined;
  private readonly decoder = new StreamDecoder();
  private handshakeDone = false;
  private connectError: FluxError | undefined;
  private closed = false;
  private readonly pending = new Map<number, Pending>();
  private nextTag = 1;
  private readonly out = new OutQueue();
  private flushScheduled = false;
  private readonly idleWaiters: (() => void)[] = [];
  private retries: number;
  private retryDelay = 16;
  private refed = false;
  private readonly cred: HandleCred;

  /**
   * Open a handle on `uri`, else `$FLUX_URI`. Connecting starts at once; requests made before
   * it completes are queued. A failure to connect fails every request with a FluxError naming
   * the URI (use `await Flux.open()` to find out at once). `cred` (default: $FLUX_HANDLE_USERID
   * and $FLUX_HANDLE_ROLEMASK, as flux-core's handle) sets the credentials requests carry.
   */
  constructor(uri?: string, cred?: HandleCred) {
    const u = uri ?? process.env.FLUX_URI;
    if (!u)
      throw new FluxError(
        Errno.ENOENT,
        'Unable to connect to Flux: FLUX_URI is not set and no URI was given (start an instance with tsflux start)',
      );
    this.uri = u;
    this.path = uriToPath(u);
    this.cred = cred ?? { userid: credFromEnv('FLUX_HANDLE_USERID'), rolemask: credFromEnv('FLUX_HANDLE_ROLEMASK') };
    this.retries = Number(process.env.FLUX_LOCAL_CONNECTOR_RETRY_COUNT ?? 5);
    this.connect();
  }

  /** Open a handle and wait until the instance has accepted the connection. */
  static async open(uri?: string, cred?: HandleCred): Promise<Flux> {
    const h = new Flux(uri, cred);
    await h.ready();
    return h;
  }

  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  /** Resolves once connected (handshake accepted); rejects with the connect error. */
  ready(): Promise<void> {
    if (this.handshakeDone) return Promise.resolve();
    if (this.connectError) return Promise.reject(this.connectError);
    this.ref();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Streams over STREAM_HIGH: while there is one, the socket is not read. */
  private readersBehind = 0;

  private pauseReading(over: boolean): void {
    this.readersBehind += over ? 1 : -1;
    if (this.readersBehind === 1 && over) this.sock?.pause();
    else if (this.readersBehind === 0 && !over) this.sock?.resume();
  }

  private connect(): void {
    const sock = net.connect(this.path);
    this.sock = sock;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (
        !this.handshakeDone &&
        this.retries > 0 &&
        (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EAGAIN')
      ) {
        this.retries--;
        sock.removeAllListeners('close');
        sock.destroy();
        const t = setTimeout(() => this.connect(), this.retryDelay);
        if (!this.refed) t.unref();
        this.retryDelay = Math.min(this.retryDelay * 2, 2000);
        return;
      }
      const errno = (Errno as Record<string, number>)[err.code ?? ''] ?? Errno.ECONNRESET;
      this.fail(
        new FluxError(
          errno,
          this.handshakeDone
            ? `${this.uri}: connection lost: ${strerror(errno)}`
            : `Unable to connect to Flux: ${this.uri}: ${strerror(errno)}`,
        ),
      );
    });
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.fail(
        new FluxError(
          Errno.ECONNRESET,
          this.closed ? `${this.uri}: handle closed` : `${this.uri}: connection closed by the instance`,
        ),
      );
    });
    if (!this.refed) sock.unref();
  }

  private onData(chunk: Buffer): void {
    if (!this.handshakeDone) {
      const b = chunk[0]!;
      chunk = chunk.subarray(1);
      if (b !== 0) {
        this.fail(new FluxError(b, `Unable to connect to Flux: ${this.uri}: ${strerror(b)}`));
        this.sock?.destroy();
        return;
      }
      this.handshakeDone = true;
      for (const w of this.readyWaiters.splice(0)) w.resolve();
      this.pump();
      if (chunk.length === 0) return;
    }
    let msgs: Message[];
    try {
      msgs = this.decoder.push(chunk);
    } catch (e) {
      this.fail(e instanceof FluxError ? e : new FluxError(Errno.EPROTO, String(e)));
      this.sock?.destroy();
      return;
    }
    for (const m of msgs) this.onMessage(m);
  }

  /** Handlers for events (type 4) this handle subscribed to. */
  private eventHandlers: ((topic: string, payload: any) => void)[] = [];

  private onMessage(m: Message): void {
    if (m.type === MsgType.EVENT) {
      let payload: any;
      try {
        payload = m.payload ? parseJson(m.payload) : undefined;
      } catch {
        payload = undefined;
      }
      for (const h of this.eventHandlers) h(m.topic ?? '', payload);
      return;
    }
    if (m.type !== MsgType.RESPONSE) return;
    const p = this.pending.get(m.aux2);
    if (!p) return; // a response to nothing we wait for (e.g. after cancel): ignore
    const errnum = m.aux1;
    if (errnum !== 0) {
      this.retire(m.aux2);
      const text = m.payload && m.payload.length > 0 ? m.payload.toString('utf8') : undefined;
      p.onError(new FluxError(errnum, text));
      return;
    }
    let payload: any;
    try {
      payload = p.raw ? (m.payload ?? Buffer.alloc(0)) : m.payload ? parseJson(m.payload) : undefined;
    } catch (e) {
      this.retire(m.aux2);
      p.onError(new FluxError(Errno.EPROTO, `${p.topic}: response is not valid JSON: ${(e as Error).message}`));
      return;
    }
    if (!p.streaming) this.retire(m.aux2);
    p.onResponse(payload);
  }

  private retire(tag: number): void {
    this.pending.delete(tag);
    if (this.pending.size === 0) {
      this.unref();
      if (this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private fail(err: FluxError): void {
    if (!this.handshakeDone) this.connectError = err;
    this.handshakeDone = false;
    const all = [...this.pending.values()];
    this.pending.clear();
    this.out.discard();
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    for (const p of all) p.onError(err);
    this.closed = true;
    this.unref();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private ref(): void {
    if (!this.refed) {
      this.refed = true;
      this.sock?.ref();
    }
  }

  private unref(): void {
    if (this.refed && this.readyWaiters.length === 0) {
      this.refed = false;
      this.sock?.unref();
    }
  }

  private allocTag(): number {
    if (this.pending.size >= MAX_TAG - 1) throw new FluxError(Errno.EAGAIN, 'out of matchtags');
    while (this.pending.has(this.nextTag)) this.nextTag = this.nextTag >= MAX_TAG ? 1 : this.nextTag + 1;
    const t = this.nextTag;
    this.nextTag = this.nextTag >= MAX_TAG ? 1 : this.nextTag + 1;
    return t;
  }

  /** Queue a request (its payload is written straight into the output when encoded). */
  private send(
    topic: string,
    payload: object | string | undefined,
    matchtag: number,
    nodeid: number | undefined,
    flags: number | undefined,
  ): void {
    const opts = {
      matchtag,
      nodeid: nodeid ?? NODEID_ANY,
      flags,
      userid: this.cred.userid,
      rolemask: this.cred.rolemask,
    };
    const msg = Buffer.isBuffer(payload)
      ? request(topic, payload, opts)
      : withTextPayload(request(topic, undefined, opts), payload);
    this.out.push(msg);
    // A burst of requests starts going out while the rest are still being made, so the
    // instance starts on the first ones early.
    if (this.out.length >= 64 && this.handshakeDone) {
      this.pump();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.pump());
    }
  }

  /** Encode and write queued requests as fast as the socket takes them (outqueue.ts). */
  private pump(): void {
    this.flushScheduled = false;
    if (!this.handshakeDone || !this.sock) return;
    this.out.pump(this.sock);
  }

  /**
   * Write every queued request now, instead of at the end of this tick or as earlier writes
   * complete: for a caller that submits and then computes without yielding, so that its jobs
   * reach the instance (and run) meanwhile.
   */
  flush(): void {
    this.flushScheduled = false;
    if (!this.handshakeDone || !this.sock) return;
    this.out.drain(this.sock);
  }

  private checkOpen(): void {
    if (this.closed) throw this.connectError ?? new FluxError(Errno.ENOTCONN, `${this.uri}: handle is closed`);
  }

  /** Send a request and resolve with the decoded response payload (undefined when empty). */
  rpc<T = any>(topic: string, payload?: object | string, opts: RpcOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        this.checkOpen();
      } catch (e) {
        return reject(e);
      }
      if ((opts.flags ?? 0) & MsgFlag.NORESPONSE) {
        this.send(topic, payload, 0, opts.nodeid, opts.flags);
        return resolve(undefined as T);
      }
      const tag = this.allocTag();
      this.pending.set(tag, { streaming: false, raw: opts.raw === true, topic, onResponse: resolve, onError: reject });
      this.ref();
      this.send(topic, payload, tag, opts.nodeid, opts.flags);
    });
  }

  /**
   * A streaming RPC. Iterate the returned stream for each response; it ends at ENODATA and
   * throws any other error. `cancelTopic` names the method that ends it (`<svc>.<m>-cancel`).
   */
  rpcStream<T = any>(topic: string, payload?: object, opts: RpcOptions & { cancelTopic?: string } = {}): RpcStream<T> {
    this.checkOpen();
    const tag = this.allocTag();
    const cancelTopic = opts.cancelTopic ?? `${topic}-cancel`;
    const stream = new RpcStream<T>(tag, (s) => {
      if (this.closed || !this.pending.has(s.matchtag)) return;
      this.send(cancelTopic, { matchtag: s.matchtag }, 0, opts.nodeid, MsgFlag.NORESPONSE);
    });
    // a raw stream (bulk data) holds the socket's reading while its reader is behind
    if (opts.raw === true) stream.flow = (over) => this.pauseReading(over);
    this.pending.set(tag, {
      streaming: true,
      raw: opts.raw === true,
      topic,
      onResponse: (p) => stream.push(p),
      onError: (e) => stream.end(e),
    });
    this.ref();
    this.send(topic, payload, tag, opts.nodeid, (opts.flags ?? 0) | MsgFlag.STREAMING);
    return stream;
  }

  /** Number of requests awaiting a response (streams included). */
  get outstanding(): number {
    return this.pending.size;
  }

  /**
   * Run until every outstanding request has been answered and every callback attached to it
   * has run (Flux's `reactor_run()` returning when nothing is left). Returns 0.
   */
  async reactorRun(): Promise<number> {
    for (;;) {
      if (this.pending.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
      // let `.then` callbacks (and any requests they make) run before deciding we are done
      await new Promise<void>((r) => setImmediate(r));
      if (this.pending.size === 0) return 0;
    }
  }

  /** Subscribe to events whose topic starts with prefix. */
  async eventSubscribe(prefix: string, handler: (topic: string, payload: any) => void): Promise<void> {
    this.eventHandlers.push((t, p) => {
      if (t.startsWith(prefix)) handler(t, p);
    });
    await this.rpc('event.subscribe', { topic: prefix });
  }

  async attrGet(name: string): Promise<string> {
    const r = await this.rpc<{ value: string }>('attr.get', { name });
    return r.value;
  }

  /** Close the connection; outstanding requests fail with ECONNRESET. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.sock?.end();
    this.sock?.destroySoon?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
