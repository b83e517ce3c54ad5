/**
 * The contract between the broker and its services (docs/architecture.md: one folder per service, one
 * table of method → {roles, handler}; services never import each other and talk only through topics).
 *
 * A request reaches a handler as a `Request`, whether it came over the local socket from a
 * client (payload decoded from JSON) or from another service in this process through
 * `ctx.rpc()` (payload passed as an object, never encoded). The handler answers through
 * `respond()` / `error()`; a streaming request may be answered many times and must end with
 * one `error()` (ENODATA for a normal end), exactly as on the wire (docs/protocol.md §A.5).
 */
import { Errno } from '../protocol/errno.js';
import { toJobId } from '../protocol/json.js';
import { Role, type Message, type PayloadWriter } from '../protocol/types.js';
import type { JobStore } from './store/store.js';

/** Identifies where a request came from: a client connection, or INTERNAL_CONN. */
export type ConnId = string;

/** The ConnId of requests made in this process by one service to another (`ctx.rpc()`). */
export const INTERNAL_CONN: ConnId = 'internal';

/**
 * The outgoing queue of a client's connection, for a service that streams much (job-info's
 * watches of job output): it sends more only while the queue is short, and waits for it to
 * drain otherwise, so that a client that reads slowly or not at all costs the broker a bounded
 * amount of memory (docs/architecture.md "Flow control").
 */
export interface Outflow {
  /** Bytes queued for the client and not yet taken by the kernel. */
  readonly queuedBytes: number;
  /**
   * Call `cb` once, later (never from within this call), when queuedBytes is at most `bytes`.
   * It is never called if the connection closes first. Returns a function that cancels it.
   */
  whenBelow(bytes: number, cb: () => void): () => void;
}

export interface Request {
  readonly topic: string;
  /**
   * Decoded JSON payload (lossless: ids past 2^53 are bigint), or undefined without one.
   * Read-only: a repeated payload is one shared, frozen value (server.ts).
   */
  readonly payload: any;
  /** The wire message, when the request came over a socket or an overlay link. */
  readonly msg?: Message;
  /**
   * The rank it is for (RFC 3 nodeid) when it has no wire message (`ctx.rpc()` with
   * `nodeid`); default FLUX_NODEID_ANY.
   */
  readonly nodeid?: number;
  readonly conn: ConnId;
  readonly userid: number;
  readonly rolemask: number;
  readonly matchtag: number;
  readonly streaming: boolean;
  readonly noresponse: boolean;
  /** The client connection's outgoing queue; undefined in-process (INTERNAL_CONN): no socket. */
  readonly outflow?: Outflow;
  /** Answer with success (any number of times when streaming). */
  respond(payload?: object): void;
  /**
   * Answer with success, the payload's JSON text written by `payload` straight into the wire
   * buffer when the answer is sent (no string or object of it is made here). Only requests that
   * came as wire messages have it; others are answered with respond().
   */
  respondWith?(payload: PayloadWriter): void;
  /**
   * Answer with success, `payload` as raw bytes (no JSON: flux_msg_set_payload). Only requests
   * that came as wire messages have it.
   */
  respondRaw?(payload: Buffer): void;
  /** Answer with an error; ends a stream. errnum 0 becomes EINVAL. */
  error(errnum: number, text?: string): void;
  /** True once an error (or the single non-streaming response) has been sent. */
  readonly finished: boolean;
  /**
   * Pass on a response that came from another broker as it is (payload bytes and errnum),
   * where the request itself came as a wire message (a client's socket or a link:
   * message-request.ts). Others (in-process) get the response decoded, through respond() or
   * error().
   */
  relay?(resp: Message): void;
}

export type Handler = (req: Request) => void;

/**
 * Who may call a method: RFC 12 roles (`Role` in protocol/types.ts), of which the request's
 * rolemask must hold one, or 'internal'. The instance owner may call every method that is not
 * internal (as in flux-core, where a handler's rolemask always includes FLUX_ROLE_OWNER), so
 * `Role.OWNER` means the owner only and `Role.USER` lets guests call it too. 'internal': only
 * services of this broker (`ctx.rpc()`) may call it, never a client (the in-process protocols of
 * contract.ts). Checks that depend on the payload (a guest acting on its own job only) stay in
 * the handler.
 */
export type Roles = number | 'internal';

/**
 * May this request act on something of `userid`'s (a job)? The owner may, a guest only on its
 * own (flux-core flux_msg_authorize): the per-job check a USER method's handler makes.
 */
export function authorized(req: Request, userid: number): boolean {
  return (req.rolemask & Role.OWNER) !== 0 || req.userid === userid;
}

/**
 * The job id in a request's payload (`id`: a number, a bigint or a decimal string, -1 for any
 * job; toJobId, docs/protocol.md §C.4). When it is missing or is no job id, the request is
 * answered EPROTO and the result is undefined.
 */
export function requestJobId(req: Request): bigint | undefined {
  const id: unknown = req.payload?.id;
  if (id === undefined) {
    req.error(Errno.EPROTO, 'invalid payload: id is required');
    return undefined;
  }
  try {
    return toJobId(id);
  } catch {
    req.error(Errno.EPROTO, 'invalid payload: id must be a job id');
    return undefined;
  }
}

/** One entry of a service's method table (flux-core's `{topic, handler, rolemask}`). */
export interface Method {
  readonly roles: Roles;
  readonly handler: Handler;
  /**
   * Which requests the method takes while its service is still starting (its start() has been
   * called and has not finished); every other request waits until the start has ended
   * (broker.ts). The job manager's journal takes job-list's this way, so that a restart's own
   * pass over the store feeds job-list (job-manager/journal.ts).
   */
  readonly whileStarting?: (req: Request) => boolean;
}

export interface Service {
  /** The service name: the topic prefix before the first '.', e.g. 'job-manager'. */
  readonly name: string;
  /**
   * Method name (after the first '.') → roles and handler: `job-manager.wait` → methods['wait'].
   * The broker refuses a request whose credentials the roles do not allow, with EPERM, before
   * the handler runs (broker.ts).
   */
  readonly methods: Readonly<Record<string, Method>>;
  /** Answers every method not in `methods` (a service a client registered: all go to it). */
  readonly fallback?: Method;
  /** A client went away: drop its waits, watches and streams. */
  disconnect?(conn: ConnId): void;
  /** Called once when the broker starts, in registration order. */
  start?(ctx: BrokerContext): void | Promise<void>;
  /** Called once at shutdown, in reverse order. */
  stop?(): void | Promise<void>;
}

/** Options of a request from one part of the broker to a service (BrokerContext.rpc). */
export interface ServiceRpcOptions {
  /** Receive every response of a streaming request through `onResponse`. */
  streaming?: boolean;
  onResponse?: (payload: any) => void;
  userid?: number;
  rolemask?: number;
  /** The rank to send it to (RFC 3 nodeid); default any: a local service, else upstream. */
  nodeid?: number;
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
  rpc<T = any>(topic: string, payload?: object, opts?: ServiceRpcOptions): Promise<T>;
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
  /**
   * Names of the services loaded at broker start, in load order (flux-core's modules: they are
   * told of a new configuration with `<name>.config-reload`). Not those added later.
   */
  modules(): string[];
  getattr(name: string): string | undefined;
  setattr(name: string, value: string, immutable?: boolean): void;
  log(level: 'err' | 'warning' | 'info' | 'debug', text: string): void;
}
