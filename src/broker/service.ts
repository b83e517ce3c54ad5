/**
 * The contract between the broker and its services (docs/architecture.md: one folder per service, one
 * table of topic → handler; services never import each other and talk only through topics).
 *
 * A request reaches a handler as a `Request`, whether it came over the local socket from a
 * client (payload decoded from JSON) or from another service in this process through
 * `ctx.rpc()` (payload passed as an object, never encoded). The handler answers through
 * `respond()` / `error()`; a streaming request may be answered many times and must end with
 * one `error()` (ENODATA for a normal end), exactly as on the wire (docs/protocol.md §A.5).
 */
import type { Message } from '../protocol/types.js';
import type { JobStore } from './store/store.js';

/** Identifies where a request came from: a client connection, or 'internal'. */
export type ConnId = string;

export interface Request {
  readonly topic: string;
  /**
   * Decoded JSON payload (lossless: ids past 2^53 are bigint), or undefined without one.
   * Read-only: a repeated payload is one shared, frozen value (server.ts).
   */
  readonly payload: any;
  /** The wire message, when the request came over a socket. */
  readonly msg?: Message;
  readonly conn: ConnId;
  readonly userid: number;
  readonly rolemask: number;
  readonly matchtag: number;
  readonly streaming: boolean;
  readonly noresponse: boolean;
  /** Answer with success (any number of times when streaming). */
  respond(payload?: object): void;
  /** Answer with an error; ends a stream. errnum 0 becomes EINVAL. */
  error(errnum: number, text?: string): void;
  /** True once an error (or the single non-streaming response) has been sent. */
  readonly finished: boolean;
}

export type Handler = (req: Request) => void;

export interface Service {
  /** The service name: the topic prefix before the first '.', e.g. 'job-manager'. */
  readonly name: string;
  /** Method name (after the first '.') → handler. `job-manager.wait` → methods['wait']. */
  readonly methods: Record<string, Handler>;
  /** A client went away: drop its waits, watches and streams. */
  disconnect?(conn: ConnId): void;
  /** Called once when the broker starts, in registration order. */
  start?(ctx: BrokerContext): void | Promise<void>;
  /** Called once at shutdown, in reverse order. */
  stop?(): void | Promise<void>;
}

export interface RpcOptions {
  /** Receive every response of a streaming request through `onResponse`. */
  streaming?: boolean;
  onResponse?: (payload: any) => void;
  userid?: number;
  rolemask?: number;
}

/** What a service may use of the broker. */
export interface BrokerContext {
  readonly rank: number;
  readonly size: number;
  /** Instance owner uid. */
  readonly owner: number;
  /** The job store (our KVS): jobspecs, eventlogs, R, output. */
  readonly store: JobStore;
  /** Host name of this broker's node. */
  readonly hostname: string;
  /** In-process request to another service; resolves with the (last) success payload. */
  rpc<T = any>(topic: string, payload?: object, opts?: RpcOptions): Promise<T>;
  /** Publish an event to subscribers (in-process and over the socket). */
  publish(topic: string, payload?: object): void;
  /** In-process subscription to events whose topic starts with prefix. Returns unsubscribe. */
  subscribe(prefix: string, cb: (topic: string, payload: any) => void): () => void;
  /**
   * A service that exists for a while, e.g. a running job's shell service
   * (`<userid>-shell-<id>`, where `flux job attach` sends stdin). Throws if the name is taken.
   */
  addService(svc: Service): void;
  removeService(name: string): void;
  getattr(name: string): string | undefined;
  setattr(name: string, value: string, immutable?: boolean): void;
  log(level: 'err' | 'warning' | 'info' | 'debug', text: string): void;
}
