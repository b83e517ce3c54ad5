/**
 * The tree overlay of a multi-broker instance (docs/protocol.md §F): this broker's links to its
 * parent and children, request routing between them, the events rank 0 sequences, and the
 * subtree status that tells rank 0 when every broker is up. Routing follows RFC 3 (route.ts);
 * each request forwarded over a link is tracked by (sender, matchtag) until its last response,
 * so that a link that drops fails its requests in flight with EHOSTUNREACH instead of leaving
 * them unanswered.
 *
 * A size-1 instance has an overlay too, with no links: it only routes (a request for another
 * rank gets EHOSTUNREACH) and sequences events.
 */
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { event as eventMessage, payloadString, withTextPayload } from '../../protocol/codec.js';
import { Errno, FluxError } from '../../protocol/errno.js';
import { parseJson } from '../../protocol/json.js';
import { fsd } from '../../job/fsd.js';
import { MsgFlag, MsgType, NODEID_ANY, NODEID_UPSTREAM, Role, type Message } from '../../protocol/types.js';
import type { Boot } from '../boot/boot.js';
import { nodeOfRanks } from '../boot/mapping.js';
import type { Broker, Router } from '../broker.js';
import { INTERNAL_CONN, type ConnId, type Request } from '../service.js';
import { chooseEndpoint, decodeCard, encodeCard, formatEndpoint, type Card, type Endpoint } from './card.js';
import { bindAddress, DEFAULT_INTERFACE_HINT } from './interface.js';
import { generateLinkKeys, linkPsk, peerPublicKey, type LinkKeys } from './keys.js';
import { Link } from './link.js';
import { PeerRequest, routeConn } from './peer-request.js';
import { nextHop } from './route.js';
import { connectLink, createLinkServer } from './tls.js';
import type { Topology } from './topology.js';
import { encodeIdset } from '../../job/idset.js';

/** Control message types (aux1 of a type-8 message; flux-core overlay.c). */
export const Control = { HEARTBEAT: 0, STATUS: 1, DISCONNECT: 2 } as const;

/** Subtree status (aux2 of a STATUS control message; flux-core overlay.c). */
export const Subtree = { UNKNOWN: 0, FULL: 1, PARTIAL: 2, DEGRADED: 3, LOST: 4, OFFLINE: 5 } as const;
const SUBTREE_NAMES = ['unknown', 'full', 'partial', 'degraded', 'lost', 'offline'];

/** Longest unix socket path (sun_path less its NUL). */
const MAX_SOCKET_PATH = 107;

export interface OverlayOptions {
  broker: Broker;
  topo: Topology;
  /** This broker's version: a child's hello must match its major.minor. */
  version: string;
  maxMessageSize?: number;
  /** `tbon.torpid_min` and `tbon.torpid_max` in seconds (default 5 and 30; max 0: never torpid). */
  torpidMin?: number;
  torpidMax?: number;
  /** `tbon.interface-hint`: the address a TCP listener binds (interface.ts); default `hostname`. */
  interfaceHint?: string;
  /** `tbon.prefertcp`: children on this broker's node connect over TCP too. */
  preferTcp?: boolean;
  /** `tbon.connect_timeout` in seconds: how long joining the parent may take (default 30). */
  connectTimeout?: number;
}

interface Child {
  rank: number;
  psk: Buffer;
  state: 'waiting' | 'online' | 'offline' | 'lost';
  link?: Link;
  uuid?: string;
  status: number;
  /** Silent for tbon.torpid_max: no new work goes there (flux-core overlay.c). */
  torpid: boolean;
  /** When its state or status last changed (performance.now()). */
  since: number;
}

interface Tracked {
  req: Request;
  link: Link;
  conn: ConnId;
}

/** A request this broker itself sends over one link (hello, goodbye), answered through a promise. */
class CallRequest implements Request {
  readonly conn = INTERNAL_CONN;
  readonly matchtag = 0;
  readonly streaming = false;
  readonly noresponse = false;
  readonly userid = 0;
  readonly rolemask = Role.OWNER;
  readonly payload = undefined;
  finished = false;
  constructor(
    readonly topic: string,
    private readonly resolve: (p: any) => void,
    private readonly reject: (e: Error) => void,
  ) {}
  respond(payload?: object): void {
    this.finished = true;
    this.resolve(payload);
  }
  error(errnum: number, text?: string): void {
    this.finished = true;
    this.reject(new FluxError(errnum, text));
  }
}

export class Overlay implements Router {
  readonly rank: number;
  readonly size: number;
  readonly topo: Topology;
  readonly uuid: string;
  private readonly broker: Broker;
  private readonly version: string;
  private readonly maxMessageSize: number;
  private keys: LinkKeys | undefined;
  private kvsname = '-';
  /** Every rank's host, from the cards. */
  hostlist: string[];
  /** Where children connect (`ipc://…` and/or `tcp://…`, the first), if this broker has children. */
  endpoint: string | undefined;
  /** The parent's endpoint, on a follower. */
  parentEndpoint: string | undefined;
  readonly interfaceHint: string;
  readonly preferTcp: boolean;
  private readonly connectTimeout: number;
  private readonly servers: tls.Server[] = [];
  private socketPath: string | undefined;
  private parent: { rank: number; to: Endpoint; psk: Buffer; link?: Link; uuid?: string } | undefined;
  private readonly children = new Map<number, Child>();
  /** Requests forwarded over a link, by `<sender conn>:<matchtag>`, until their last response. */
  private readonly tracked = new Map<string, Tracked>();
  /** For each sender, the links its requests were forwarded over (told of its disconnect). */
  private readonly forwardedConns = new Map<ConnId, Set<Link>>();
  /** For each link, the senders of the requests that came over it. */
  private readonly peerConns = new Map<Link, Set<ConnId>>();
  private internalTag = 0;
  private lastSeq = 0;
  private selfUp = false;
  private reportedStatus: number = Subtree.UNKNOWN;
  /** This broker's subtree status when last computed, and since when (overlay.health). */
  private lastStatus: number = Subtree.UNKNOWN;
  private statusSince = performance.now();
  private shuttingDown = false;
  private saidGoodbye = false;
  private closing = false;
  private quorumWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private childrenGone: (() => void) | undefined;
  private endFollower!: (code: number) => void;
  private torpidMin: number;
  private torpidMax: number;
  private livenessTimer: NodeJS.Timeout | undefined;
  /** A follower's end: 0 when its parent shuts it down, 1 when it loses its parent. */
  readonly finished: Promise<number>;

  constructor(opts: OverlayOptions) {
    this.broker = opts.broker;
    this.rank = opts.broker.rank;
    this.size = opts.broker.size;
    this.topo = opts.topo;
    this.uuid = opts.broker.uuid;
    this.version = opts.version;
    this.maxMessageSize = opts.maxMessageSize ?? 64 * 1024 * 1024;
    this.interfaceHint = opts.interfaceHint ?? DEFAULT_INTERFACE_HINT;
    this.preferTcp = opts.preferTcp ?? false;
    this.connectTimeout = opts.connectTimeout ?? 30;
    this.hostlist = [opts.broker.hostname];
    this.torpidMin = opts.torpidMin ?? 5;
    this.torpidMax = opts.torpidMax ?? 30;
    this.finished = new Promise<number>((resolve) => (this.endFollower = resolve));
  }

  private log(level: 'err' | 'warning' | 'info' | 'debug', text: string): void {
    this.broker.log(level, `overlay: ${text}`);
  }

  private hostOf(rank: number): string {
    return `${this.hostlist[rank] ?? '?'} (rank ${rank})`;
  }

  // ------------------------------------------------------------------ bootstrap (§F.2)

  /**
   * The business card exchange (flux-core boot_pmi.c): listen for children, put our card,
   * barrier, read the parent's and the children's cards (their public keys make the links'
   * keys) and every host name, barrier again so that every listener is up and knows its
   * children before anyone connects, finalize. Then connect to the parent (connectParent).
   */
  async exchange(boot: Boot, rundir: string): Promise<void> {
    this.kvsname = boot.kvsname;
    if (this.size === 1) {
      await boot.finalize();
      return;
    }
    this.keys = generateLinkKeys();
    const children = this.topo.children(this.rank);
    // flux-core boot_pmi.c: a unix socket for children on this node, TCP for the others (all
    // of them with tbon.prefertcp); a rank whose node the process manager did not say is away
    const nodes = boot.mapping ? nodeOfRanks(boot.mapping, this.size) : undefined;
    const sameNode = (r: number): boolean => !this.preferTcp && nodes !== undefined && nodes[r] === nodes[this.rank];
    const uris: string[] = [];
    if (children.some(sameNode)) uris.push(await this.listenIpc(path.join(rundir, `tbon-${this.rank}`)));
    if (children.some((c) => !sameNode(c))) uris.push(await this.listenTcp());
    this.endpoint = uris[0];
    await boot.put(
      String(this.rank),
      encodeCard({ host: this.broker.hostname, uri: uris, pubkey: this.keys.publicKey }),
    );
    await boot.barrier();
    const cards = new Map<number, Card>();
    const card = async (r: number): Promise<Card> => {
      let c = cards.get(r);
      if (c === undefined) {
        let text: string;
        try {
          text = await boot.get(String(r));
        } catch (e) {
          throw new FluxError(Errno.EPROTO, `overlay: no business card for rank ${r}: ${(e as Error).message}`);
        }
        c = decodeCard(text, r);
        cards.set(r, c);
      }
      return c;
    };
    const parent = this.topo.parent(this.rank);
    if (parent !== undefined) {
      const pc = await card(parent);
      const to = chooseEndpoint(pc, sameNode(parent));
      if (to === undefined) {
        throw new FluxError(
          Errno.EPROTO,
          `overlay: rank ${parent} (the parent) offers no ${sameNode(parent) ? 'ipc:// or tcp://' : 'tcp://'} endpoint (its card: ${pc.uri.join(' ') || 'none'})`,
        );
      }
      const psk = linkPsk(
        this.keys.privateKey,
        peerPublicKey(pc.pubkey, `rank ${parent}`),
        this.kvsname,
        parent,
        this.rank,
      );
      this.parent = { rank: parent, to, psk };
      this.parentEndpoint = formatEndpoint(to);
    }
    for (const c of children) {
      const cc = await card(c);
      const psk = linkPsk(this.keys.privateKey, peerPublicKey(cc.pubkey, `rank ${c}`), this.kvsname, this.rank, c);
      this.children.set(c, {
        rank: c,
        psk,
        state: 'waiting',
        status: Subtree.UNKNOWN,
        torpid: false,
        since: performance.now(),
      });
    }
    // every host name before the second barrier: a child may connect (and its hello be checked
    // against hostlist) as soon as it is past it
    const hosts: string[] = [];
    for (let r = 0; r < this.size; r++) hosts.push(r === this.rank ? this.broker.hostname : (await card(r)).host);
    this.hostlist = hosts;
    await boot.barrier();
    await boot.finalize();
  }

  /** Listen on a unix socket in the rundir; its `ipc://` URI. */
  private async listenIpc(sockPath: string): Promise<string> {
    if (Buffer.byteLength(sockPath) > MAX_SOCKET_PATH) {
      throw new FluxError(Errno.ENAMETOOLONG, `overlay: ${sockPath} is longer than a unix socket path may be`);
    }
    fs.rmSync(sockPath, { force: true });
    await this.listenOn({ path: sockPath });
    fs.chmodSync(sockPath, 0o700);
    this.socketPath = sockPath;
    return `ipc://${sockPath}`;
  }

  /** Listen on an ephemeral TCP port of the address tbon.interface-hint names; its `tcp://` URI. */
  private async listenTcp(): Promise<string> {
    const host = await bindAddress(this.interfaceHint, this.broker.hostname);
    const srv = await this.listenOn({ host, port: 0 });
    const port = (srv.address() as { port: number }).port;
    return formatEndpoint({ kind: 'tcp', host, port });
  }

  private async listenOn(where: { path: string } | { host: string; port: number }): Promise<tls.Server> {
    const srv = createLinkServer({
      pskFor: (identity) => {
        const c = /^\d+$/.test(identity) ? this.children.get(Number(identity)) : undefined;
        return c?.psk;
      },
      onLink: (sock, identity) => this.childConnected(sock, Number(identity)),
      onRefused: (why, identity) => {
        const who =
          identity === undefined
            ? 'a connection that did not complete a TLS-PSK handshake'
            : /^\d+$/.test(identity) && this.children.has(Number(identity))
              ? `a connection claiming to be rank ${identity} without its key`
              : `a connection claiming to be '${identity}', which is not a child of rank ${this.rank}`;
        this.log('err', `refused ${who}: ${why}`);
      },
    });
    const what = 'path' in where ? where.path : `${where.host}:${where.port}`;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', (e) =>
        reject(new FluxError(Errno.EADDRNOTAVAIL, `overlay: cannot listen on ${what}: ${e.message}`)),
      );
      srv.listen(where, () => {
        srv.removeAllListeners('error');
        resolve();
      });
    });
    srv.on('error', (e) => this.log('err', `listener: ${e.message}`));
    this.servers.push(srv);
    return srv;
  }

  /** Join the parent: TLS with our link key, then `overlay.hello` (docs/protocol.md §F.3). */
  async connectParent(): Promise<void> {
    const p = this.parent;
    if (p === undefined) return;
    let sock: tls.TLSSocket;
    try {
      sock = await connectLink(p.to, String(this.rank), p.psk, this.connectTimeout);
    } catch (e) {
      throw new FluxError(
        Errno.ECONNREFUSED,
        `overlay: cannot reach rank ${p.rank} at ${formatEndpoint(p.to)}: ${(e as Error).message}`,
      );
    }
    const link = new Link(sock, p.rank, this.maxMessageSize);
    p.link = link;
    this.peerConns.set(link, new Set());
    link.onMessage = (m) => this.fromParent(link, m);
    link.onClose = (why) => this.parentGone(link, why);
    let answer: any;
    try {
      answer = await this.call(link, 'overlay.hello', {
        rank: this.rank,
        version: this.version,
        uuid: this.uuid,
        status: this.status(),
        hostname: this.broker.hostname,
      });
    } catch (e) {
      link.close();
      throw new FluxError(Errno.EPROTO, `overlay: rank ${p.rank} refused our hello: ${(e as Error).message}`);
    }
    if (typeof answer?.uuid !== 'string') {
      link.close();
      throw new FluxError(Errno.EPROTO, `overlay: rank ${p.rank} answered our hello without its uuid`);
    }
    p.uuid = answer.uuid;
    this.reportedStatus = this.status();
  }

  /** A request of this broker's own to the peer at the other end of `link`. */
  private call(link: Link, topic: string, payload: object): Promise<any> {
    return new Promise((resolve, reject) => {
      const tag = this.nextTag();
      this.tracked.set(`:${tag}`, { req: new CallRequest(topic, resolve, reject), link, conn: '' });
      link.send(
        withTextPayload(
          {
            type: MsgType.REQUEST,
            flags: 0,
            topic,
            route: [this.uuid],
            userid: this.broker.owner,
            rolemask: Role.OWNER,
            aux1: link.peer,
            aux2: tag,
          },
          payload,
        ),
      );
    });
  }

  private nextTag(): number {
    this.internalTag = (this.internalTag % 0x7fffffff) + 1;
    return this.internalTag;
  }

  // ------------------------------------------------------------------ children

  private childConnected(sock: tls.TLSSocket, rank: number): void {
    const child = this.children.get(rank);
    if (child === undefined) {
      sock.destroy();
      return;
    }
    const link = new Link(sock, rank, this.maxMessageSize);
    let hello = false;
    link.onMessage = (m) => {
      if (hello) return this.fromChild(child, link, m);
      if (m.type === MsgType.REQUEST && m.topic === 'overlay.hello') {
        hello = this.hello(child, link, m);
        return;
      }
      this.log('err', `rank ${rank} sent ${m.topic ?? `a type ${m.type} message`} before its hello: disconnecting it`);
      link.send(control(Control.DISCONNECT, 0));
      link.close();
    };
    link.onClose = (why) => this.childGone(child, link, why);
  }

  /** Check a child's hello and answer it (flux-core overlay.c hello_request_handler). */
  private hello(child: Child, link: Link, m: Message): boolean {
    const refuse = (why: string): false => {
      this.log('err', `refused rank ${child.rank}'s hello: ${why}`);
      link.send(withTextPayload(errorFor(m, Errno.EPROTO), why));
      link.close();
      return false;
    };
    let p: any;
    try {
      p = m.payload ? parseJson(m.payload) : undefined;
    } catch {
      return refuse('the payload is not JSON');
    }
    if (p === null || typeof p !== 'object') return refuse('no payload');
    if (p.rank !== child.rank) return refuse(`it says it is rank ${String(p.rank)} but holds rank ${child.rank}'s key`);
    if (typeof p.uuid !== 'string' || m.route?.length !== 1 || m.route[0] !== p.uuid)
      return refuse('bad uuid or route');
    if (typeof p.version !== 'string' || majorMinor(p.version) !== majorMinor(this.version)) {
      return refuse(`version ${String(p.version)} does not match ours (${this.version})`);
    }
    if (p.hostname !== this.hostlist[child.rank]) {
      return refuse(`hostname ${String(p.hostname)} is not ${this.hostlist[child.rank]} (mismatched config?)`);
    }
    if (child.state === 'online' && child.link) {
      this.log('err', `${this.hostOf(child.rank)} reconnected after crash`);
      this.lose(child, child.link);
    }
    child.link = link;
    child.uuid = p.uuid;
    child.state = 'online';
    child.status = typeof p.status === 'number' ? p.status : Subtree.UNKNOWN;
    child.since = performance.now();
    this.peerConns.set(link, new Set());
    link.send(withTextPayload(responseTo(m), { uuid: this.uuid }));
    this.log('debug', `${this.hostOf(child.rank)} is online`);
    if (this.shuttingDown) this.tellShutdown(child);
    this.statusChanged();
    return true;
  }

  private fromChild(child: Child, link: Link, m: Message): void {
    switch (m.type) {
      case MsgType.REQUEST:
        if (this.ownRequest(m, child.uuid) && m.topic === 'overlay.goodbye') {
          child.state = 'offline';
          child.since = performance.now();
          this.setTorpid(child, false);
          link.send(responseTo(m));
          this.log('debug', `${this.hostOf(child.rank)} said goodbye`);
          this.failTracked(link, `${this.hostOf(child.rank)} left the instance`);
          this.statusChanged();
          return;
        }
        return this.request(link, m);
      case MsgType.RESPONSE:
        return this.response(link, m);
      case MsgType.EVENT:
        // an event raised below us: rank 0 sequences it, others pass it up
        if (this.rank === 0) this.broker.publish(m.topic ?? '', eventPayload(m));
        else this.parent?.link?.send(m);
        return;
      case MsgType.CONTROL:
        if (m.aux1 === Control.STATUS) {
          child.status = m.aux2;
          child.since = performance.now();
          this.statusChanged();
        }
        return;
    }
  }

  private childGone(child: Child, link: Link, why: string | undefined): void {
    if (child.link !== link) return; // an earlier incarnation, already replaced
    if (child.state === 'online') {
      child.since = performance.now();
      if (this.closing) child.state = 'offline';
      else this.lose(child, link, why);
    }
    this.statusChanged();
  }

  /** A child left without goodbye (flux-core: "<host> (rank N) failed"). */
  private lose(child: Child, link: Link, why?: string): void {
    child.state = 'lost';
    child.since = performance.now();
    this.setTorpid(child, false);
    const below = this.topo.descendants(child.rank);
    this.log(
      'err',
      `${this.hostOf(child.rank)} failed${below > 0 ? ` and severed contact with ${below} other nodes` : ''}${why ? ` (${why})` : ''}`,
    );
    link.close();
    this.failTracked(link, `${this.hostOf(child.rank)} is unreachable`);
    // rank 0's resource service takes the subtree offline (docs/protocol.md §F.5)
    const subtree: number[] = [];
    for (const todo = [child.rank]; todo.length > 0;) {
      const r = todo.pop()!;
      subtree.push(r);
      todo.push(...this.topo.children(r));
    }
    this.broker.publish('overlay.lost', { ranks: encodeIdset(subtree.sort((a, b) => a - b)) });
  }

  // ------------------------------------------------------------------ parent

  private fromParent(link: Link, m: Message): void {
    const p = this.parent!;
    if (p.uuid === undefined && m.type !== MsgType.RESPONSE && m.type !== MsgType.CONTROL) return; // before the hello's answer
    switch (m.type) {
      case MsgType.REQUEST:
        if (this.ownRequest(m, p.uuid) && m.topic === 'overlay.shutdown') {
          this.log('debug', `rank ${p.rank} asks us to shut down`);
          this.endFollower(0);
          return;
        }
        return this.request(link, m);
      case MsgType.RESPONSE:
        return this.response(link, m);
      case MsgType.EVENT:
        return this.eventFromParent(m);
      case MsgType.CONTROL:
        if (m.aux1 === Control.DISCONNECT) {
          this.log('err', `rank ${p.rank} disconnected us`);
          link.close('disconnected by the parent');
        }
        return;
    }
  }

  private parentGone(link: Link, why: string | undefined): void {
    this.failTracked(link, `rank ${link.peer} (the parent) is unreachable`);
    if (this.saidGoodbye) return;
    this.log('err', `lost rank ${link.peer} (the parent)${why ? `: ${why}` : ''}: parent-fail`);
    this.endFollower(1);
  }

  /** Events from rank 0: to our children first, then here (flux-core overlay.c). */
  private eventFromParent(m: Message): void {
    const seq = m.aux1;
    if (seq <= this.lastSeq) {
      this.log('err', `event ${m.topic} with sequence ${seq} after ${this.lastSeq}: dropped`);
      return;
    }
    if (this.lastSeq !== 0 && seq > this.lastSeq + 1) this.log('err', `lost event(s) ${this.lastSeq + 1}-${seq - 1}`);
    this.lastSeq = seq;
    for (const c of this.children.values()) if (c.state === 'online') c.link!.send(m);
    this.broker.deliver(m.topic ?? '', eventPayload(m), seq);
  }

  // ------------------------------------------------------------------ routing (Router)

  /** A request that came over `link`: intercepted if it is the overlay's own, else dispatched. */
  private request(link: Link, m: Message): void {
    if (m.topic === 'overlay.disconnect') {
      // a client whose requests came this way went away (flux-core: its disconnect message)
      const conn = routeConn(m.route ?? []);
      this.peerConns.get(link)?.delete(conn);
      this.broker.disconnect(conn);
      return;
    }
    const req = new PeerRequest(link, m);
    if (!req.noresponse) this.peerConns.get(link)?.add(req.conn);
    this.broker.dispatch(req);
  }

  route(req: Request, hasService: boolean): boolean {
    const nodeid = req.msg ? req.msg.aux1 : (req.nodeid ?? NODEID_ANY);
    const upstream = req.msg ? (req.msg.flags & MsgFlag.UPSTREAM) !== 0 : false;
    const hop = nextHop(this.topo, this.rank, req.topic, nodeid, upstream, hasService);
    if (hop.to === 'local') return false;
    if (hop.to === 'error') {
      if (!req.noresponse) req.error(hop.errnum, hop.text);
      return true;
    }
    const link = hop.to === 'parent' ? this.parent?.link : this.children.get(hop.rank)?.link;
    const online =
      hop.to === 'parent' ? this.parent?.uuid !== undefined : this.children.get(hop.rank)?.state === 'online';
    if (link === undefined || link.closed || !online) {
      const whom = hop.to === 'parent' ? `rank ${this.parent?.rank} (the parent)` : this.hostOf(hop.rank);
      if (!req.noresponse) req.error(Errno.EHOSTUNREACH, `${req.topic}: ${whom} is unreachable`);
      return true;
    }
    const up = nodeid === NODEID_UPSTREAM || upstream;
    this.forward(req, link, nodeid === NODEID_UPSTREAM ? this.rank : nodeid, up);
    return true;
  }

  private forward(req: Request, link: Link, nodeid: number, upstream: boolean): void {
    let inRoute: string[];
    let conn: ConnId;
    let tag = req.matchtag;
    if (req instanceof PeerRequest) {
      inRoute = req.msg.route ?? [];
      conn = req.conn;
    } else if (req.conn === INTERNAL_CONN) {
      inRoute = [];
      conn = '';
      tag = req.noresponse ? 0 : this.nextTag();
    } else {
      inRoute = [req.conn];
      conn = req.conn;
    }
    const kind = req.streaming ? MsgFlag.STREAMING : req.noresponse ? MsgFlag.NORESPONSE : 0;
    const flags = ((req.msg?.flags ?? kind) & ~MsgFlag.UPSTREAM) | (upstream ? MsgFlag.UPSTREAM : 0);
    const out: Message = {
      type: MsgType.REQUEST,
      flags,
      topic: req.topic,
      route: [...inRoute, this.uuid],
      userid: req.userid,
      rolemask: req.rolemask,
      aux1: nodeid,
      aux2: tag,
    };
    if (req.msg?.payload !== undefined) {
      out.payload = req.msg.payload;
      out.payloadNul = req.msg.payloadNul;
    } else if (req.msg === undefined && req.payload !== undefined) {
      withTextPayload(out, req.payload);
    }
    if (!req.noresponse) {
      const key = `${conn}:${tag}`;
      if (this.tracked.has(key)) {
        req.error(Errno.EEXIST, `${req.topic}: matchtag ${tag} is already in flight from this sender`);
        return;
      }
      this.tracked.set(key, { req, link, conn });
    }
    if (conn !== '') {
      let links = this.forwardedConns.get(conn);
      if (!links) this.forwardedConns.set(conn, (links = new Set()));
      links.add(link);
    }
    link.send(out);
  }

  /** A response over `link`: its route's last entry is ours; the rest names the sender. */
  private response(link: Link, m: Message): void {
    const route = m.route ?? [];
    if (route[route.length - 1] !== this.uuid) {
      this.log('debug', `dropped a response to ${m.topic} that is not for this broker`);
      return;
    }
    const key = `${routeConn(route.slice(0, -1))}:${m.aux2}`;
    const t = this.tracked.get(key);
    if (t === undefined || t.link !== link) return; // its sender went away
    const last = m.aux1 !== 0 || (m.flags & MsgFlag.STREAMING) === 0;
    if (last) this.tracked.delete(key);
    const req = t.req;
    if (req.relay) return req.relay(m);
    if (m.aux1 !== 0) return req.error(m.aux1, payloadString(m));
    let payload: any;
    try {
      payload = m.payload ? parseJson(m.payload) : undefined;
    } catch (e) {
      return req.error(Errno.EPROTO, `${m.topic}: invalid JSON in a response: ${(e as Error).message}`);
    }
    req.respond(payload);
  }

  /** Fail what is in flight over a link that is gone (flux-core rpc_track). */
  private failTracked(link: Link, text: string): void {
    for (const [key, t] of this.tracked) {
      if (t.link !== link) continue;
      this.tracked.delete(key);
      t.req.error(Errno.EHOSTUNREACH, `${t.req.topic}: ${text}`);
    }
    for (const [conn, links] of this.forwardedConns) {
      links.delete(link);
      if (links.size === 0) this.forwardedConns.delete(conn);
    }
    const conns = this.peerConns.get(link);
    this.peerConns.delete(link);
    for (const conn of conns ?? []) this.broker.disconnect(conn);
  }

  /** A sender went away: forget its requests and tell the brokers that served them. */
  disconnect(conn: ConnId): void {
    for (const [key, t] of this.tracked) if (t.conn === conn) this.tracked.delete(key);
    const links = this.forwardedConns.get(conn);
    if (!links) return;
    this.forwardedConns.delete(conn);
    for (const link of links) {
      if (link.closed) continue;
      link.send({
        type: MsgType.REQUEST,
        flags: MsgFlag.NORESPONSE,
        topic: 'overlay.disconnect',
        route: [...conn.split('!'), this.uuid],
        userid: this.broker.owner,
        rolemask: Role.OWNER,
        aux1: link.peer,
        aux2: 0,
      });
    }
  }

  // ------------------------------------------------------------------ events (Router)

  publishUpstream(topic: string, payload: any): void {
    this.parent?.link?.send(eventMessage(topic, payload, 0));
  }

  broadcast(topic: string, payload: any, seq: number): void {
    let msg: Message | undefined;
    for (const c of this.children.values()) {
      if (c.state !== 'online') continue;
      msg ??= eventMessage(topic, payload, seq);
      c.link!.send(msg);
    }
  }

  // ------------------------------------------------------------------ liveness (docs/protocol.md §F.8)

  /**
   * Start watching the links (flux-core overlay.c sync_cb): every so often, send the parent a
   * HEARTBEAT control message if we have sent it nothing for tbon.torpid_min, and flag as torpid
   * each child we have heard nothing from for tbon.torpid_max (and clear the flag when it speaks
   * again). Each change is logged and published as the event `overlay.torpid` {rank, torpid}.
   */
  startLiveness(): void {
    clearInterval(this.livenessTimer);
    if (this.size === 1 || this.closing) return;
    const shortest = Math.min(this.torpidMin, this.torpidMax > 0 ? this.torpidMax : Infinity);
    const every = Math.min(1, Math.max(0.05, shortest / 4));
    this.livenessTimer = setInterval(() => this.checkLiveness(), every * 1000);
    this.livenessTimer.unref();
  }

  /** New tbon.torpid_min / torpid_max (seconds), from `flux setattr` while running. */
  setTorpidLimits(min: number, max: number): void {
    this.torpidMin = min;
    this.torpidMax = max;
    this.checkLiveness();
    if (this.livenessTimer !== undefined) this.startLiveness();
  }

  private checkLiveness(): void {
    const now = performance.now();
    const p = this.parent;
    if (p?.link && p.uuid !== undefined && !p.link.closed && now - p.link.lastSent >= this.torpidMin * 1000) {
      p.link.send(control(Control.HEARTBEAT, 0));
    }
    for (const c of this.children.values()) {
      if (c.state !== 'online' || c.link === undefined) continue;
      const idle = (now - c.link.lastHeard) / 1000;
      this.setTorpid(c, this.torpidMax > 0 && idle >= this.torpidMax, idle);
    }
  }

  private setTorpid(c: Child, torpid: boolean, idle = 0): void {
    if (c.torpid === torpid) return;
    c.torpid = torpid;
    this.log(
      'err',
      torpid
        ? `broker on ${this.hostOf(c.rank)} has been unresponsive for ${fsd(idle)}`
        : `broker on ${this.hostOf(c.rank)} is responsive now`,
    );
    this.broker.publish('overlay.torpid', { rank: c.rank, torpid });
  }

  /** The ranks of this broker's children that are torpid now. */
  torpidChildren(): number[] {
    return [...this.children.values()].filter((c) => c.torpid).map((c) => c.rank);
  }

  /**
   * Cut the link to the parent (flux-core `overlay.disconnect-parent`, which the heartbeat module
   * sends when rank 0's pulses stop): logged, then handled as a lost parent (parent-fail, exit 1).
   */
  disconnectParent(reason: string): void {
    const link = this.parent?.link;
    if (link === undefined || link.closed) return;
    this.log('err', `disconnecting: ${reason}`);
    link.close(reason);
  }

  // ------------------------------------------------------------------ status, quorum, shutdown

  /** This broker's subtree: full once it and every broker below it are up (flux-core overlay.c). */
  status(): number {
    let s: number = this.selfUp ? Subtree.FULL : Subtree.PARTIAL;
    for (const c of this.children.values()) {
      if (c.state === 'lost' || c.status === Subtree.DEGRADED || c.status === Subtree.LOST) return Subtree.DEGRADED;
      if (c.state !== 'online' || c.status !== Subtree.FULL) s = Subtree.PARTIAL;
    }
    return s;
  }

  /** This broker's own services are up. */
  setReady(): void {
    this.selfUp = true;
    this.statusChanged();
  }

  private statusChanged(): void {
    const s = this.status();
    if (s !== this.lastStatus) {
      this.lastStatus = s;
      this.statusSince = performance.now();
    }
    const p = this.parent;
    if (p?.uuid !== undefined && p.link && !p.link.closed && s !== this.reportedStatus) {
      this.reportedStatus = s;
      p.link.send(control(Control.STATUS, s));
    }
    const q = this.quorumWaiter;
    if (q && s === Subtree.FULL) {
      this.quorumWaiter = undefined;
      q.resolve();
    } else if (q && s === Subtree.DEGRADED) {
      this.quorumWaiter = undefined;
      const lost = [...this.children.values()].filter((c) => c.state === 'lost' || c.status !== Subtree.FULL);
      q.reject(
        new FluxError(
          Errno.EHOSTUNREACH,
          `overlay: ${lost.map((c) => this.hostOf(c.rank)).join(', ')} failed before the instance was up`,
        ),
      );
    }
    if (this.childrenGone && ![...this.children.values()].some((c) => c.state === 'online')) {
      const done = this.childrenGone;
      this.childrenGone = undefined;
      done();
    }
  }

  /**
   * `overlay.health` (flux-core overlay.c): this broker's subtree status and each child's, as
   * names (full, partial, degraded, lost, offline), with the seconds since each last changed
   * and whether the child is torpid.
   */
  health(): object {
    const now = performance.now();
    const name = (n: number): string => SUBTREE_NAMES[n] ?? 'unknown';
    return {
      rank: this.rank,
      status: name(this.status()),
      duration: (now - this.statusSince) / 1000,
      children: [...this.children.values()].map((c) => ({
        rank: c.rank,
        status: c.state === 'online' ? name(c.status) : c.state === 'lost' ? 'lost' : 'offline',
        duration: (now - c.since) / 1000,
        torpid: c.torpid,
      })),
    };
  }

  /** What this broker still waits for before its subtree is full, in words (the quorum warning). */
  waitingFor(): string[] {
    const out: string[] = [];
    for (const c of this.children.values()) {
      const below = this.topo.descendants(c.rank);
      if (c.state !== 'online')
        out.push(`${this.hostOf(c.rank)}${below > 0 ? ` and the ${below} ranks below it` : ''}`);
      else if (c.status !== Subtree.FULL) out.push(`ranks below ${this.hostOf(c.rank)}`);
    }
    return out;
  }

  /** Resolves once every broker of the instance is up (rank 0 waits for it before the initial program). */
  quorum(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.quorumWaiter = { resolve, reject };
      this.statusChanged();
    });
  }

  private tellShutdown(c: Child): void {
    c.link!.send({
      type: MsgType.REQUEST,
      flags: MsgFlag.NORESPONSE,
      topic: 'overlay.shutdown',
      route: [this.uuid],
      userid: this.broker.owner,
      rolemask: Role.OWNER,
      aux1: c.rank,
      aux2: 0,
    });
  }

  /** Shut down the brokers below this one, deepest first; resolves when all have left or failed. */
  shutdownChildren(): Promise<void> {
    this.shuttingDown = true;
    const waiting = new Promise<void>((resolve) => (this.childrenGone = resolve));
    for (const c of this.children.values()) if (c.state === 'online') this.tellShutdown(c);
    this.statusChanged();
    return waiting;
  }

  /** A follower's last word to its parent before it exits (flux-core overlay.goodbye). */
  async goodbye(): Promise<void> {
    const link = this.parent?.link;
    if (link === undefined || link.closed || this.parent?.uuid === undefined) return;
    this.saidGoodbye = true;
    try {
      await this.call(link, 'overlay.goodbye', {});
    } catch (e) {
      this.log('debug', `goodbye: ${(e as Error).message}`);
    }
  }

  /** Close every link and the listener. */
  close(): void {
    this.closing = true;
    clearInterval(this.livenessTimer);
    this.saidGoodbye = true;
    this.shuttingDown = true;
    this.parent?.link?.close();
    for (const c of this.children.values()) c.link?.close();
    for (const srv of this.servers) srv.close();
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true });
  }

  /** This message is a request the broker at the other end sent itself (not a client's, relayed). */
  private ownRequest(m: Message, peerUuid: string | undefined): boolean {
    return peerUuid !== undefined && m.route?.length === 1 && m.route[0] === peerUuid;
  }
}

function control(type: number, status: number): Message {
  return { type: MsgType.CONTROL, flags: 0, userid: 0, rolemask: 0, aux1: type, aux2: status };
}

function responseTo(m: Message): Message {
  return {
    type: MsgType.RESPONSE,
    flags: m.flags & (MsgFlag.STREAMING | MsgFlag.NORESPONSE),
    topic: m.topic,
    route: m.route?.slice() ?? [],
    userid: 0,
    rolemask: 0,
    aux1: 0,
    aux2: m.aux2,
  };
}

function errorFor(m: Message, errnum: number): Message {
  const r = responseTo(m);
  r.aux1 = errnum;
  return r;
}

function eventPayload(m: Message): any {
  if (m.payload === undefined) return undefined;
  try {
    return parseJson(m.payload);
  } catch {
    return undefined;
  }
}

function majorMinor(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}
