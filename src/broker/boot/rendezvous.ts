/**
 * The rendezvous of the `slurm` bootstrap (docs/protocol.md §F.1): brokers of one Slurm job
 * step that have no PMI (`srun --mpi=none`) find each other at rank 0, which runs on the first
 * node of the step. Rank 0 listens on the first free port of a range both sides derive from the
 * step (`SLURM_STEP_RESV_PORTS`, else 32 ports from 10000 + FNV-1a(step) mod 20000), on the
 * address that node's name resolves to; the others try those ports until rank 0 answers.
 *
 * Authentication is MUNGE's (munge.ts): a joining broker's first line is
 * `tsflux-rendezvous/1 <credential>`, a credential only the instance owner can decode, whose
 * payload names the step, its rank and node, and a fresh 32-byte session key. Rank 0 checks it
 * with munged (right key, not expired, not replayed, made by the owner, this step, a rank not yet
 * joined); everything after is AES-256-GCM under the session key, with a counter per direction
 * as the nonce, so both ends know the other holds the key and nothing can be read, changed,
 * replayed or reordered. A connection that fails any of that is refused and logged.
 *
 * The exchange is PMI's, in one round trip per barrier: `joined` (every rank is in; each rank's
 * node, for the task map), then per barrier the keys put since the last one in, every key out;
 * then finalize. A broker that leaves, or aborts, before finalize fails everyone's bootstrap.
 */
import crypto from 'node:crypto';
import dns from 'node:dns/promises';
import net from 'node:net';
import { Errno, FluxError } from '../../protocol/errno.js';
import { mungeDecode, mungeEncode } from './munge.js';

const MAGIC = 'tsflux-rendezvous/1';
const MAX_LINE = 16 * 1024 * 1024;
const PORTS = 32;

/** The ports rank 0 may listen on: the reserved ones, else a range derived from the step. */
export function rendezvousPorts(step: string, reserved?: number[]): number[] {
  if (reserved !== undefined && reserved.length > 0) return reserved;
  let h = 0x811c9dc5;
  for (const b of Buffer.from(step)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const base = 10000 + (h % 20000);
  return Array.from({ length: PORTS }, (_, i) => base + i);
}

type Msg = Record<string, any>;

/** Newline-separated lines: the hello in clear, then AES-256-GCM frames in base64. */
class Channel {
  private buf = '';
  private sendSeq = 0n;
  private recvSeq = 0n;
  private key: Buffer | undefined;
  closed = false;
  onLine: (line: string) => void = () => undefined;
  onMessage: (m: Msg) => void = () => undefined;
  onClose: (why: string) => void = () => undefined;

  constructor(
    readonly sock: net.Socket,
    /** Our direction byte in the nonce: 'c' (joining broker) or 's' (rank 0). */
    private readonly me: 'c' | 's',
  ) {
    sock.setEncoding('utf8');
    sock.setNoDelay(true);
    sock.on('data', (d: string) => this.data(d));
    sock.on('error', (e) => this.close(e.message));
    sock.on('close', () => this.close('the connection closed'));
  }

  setKey(key: Buffer): void {
    this.key = key;
  }

  private data(d: string): void {
    this.buf += d;
    if (this.buf.length > MAX_LINE) return this.close('a line longer than 16 MiB');
    let nl: number;
    while (!this.closed && (nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (this.key === undefined) this.onLine(line);
      else this.frame(line);
    }
  }

  private nonce(dir: string, seq: bigint): Buffer {
    const n = Buffer.alloc(12);
    n.write(dir, 0, 'latin1');
    n.writeBigUInt64BE(seq, 4);
    return n;
  }

  private frame(line: string): void {
    const raw = Buffer.from(line, 'base64');
    if (raw.length < 17) return this.close('a frame too short to be one');
    const peer = this.me === 'c' ? 's' : 'c';
    const d = crypto.createDecipheriv('aes-256-gcm', this.key!, this.nonce(peer, this.recvSeq++));
    d.setAuthTag(raw.subarray(raw.length - 16));
    let plain: string;
    try {
      plain = Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString('utf8');
    } catch {
      return this.close('a frame that does not authenticate under the session key');
    }
    let m: unknown;
    try {
      m = JSON.parse(plain);
    } catch {
      return this.close('a frame that is not JSON');
    }
    if (m === null || typeof m !== 'object' || typeof (m as Msg).op !== 'string')
      return this.close('a frame with no op');
    this.onMessage(m as Msg);
  }

  sendLine(line: string): void {
    if (!this.closed) this.sock.write(line + '\n');
  }

  send(m: Msg): void {
    if (this.closed) return;
    const c = crypto.createCipheriv('aes-256-gcm', this.key!, this.nonce(this.me, this.sendSeq++));
    const body = Buffer.concat([c.update(JSON.stringify(m), 'utf8'), c.final(), c.getAuthTag()]);
    this.sock.write(body.toString('base64') + '\n');
  }

  /** End the connection (after what was written); onClose once, with why. */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.end();
    this.sock.destroySoon();
    this.onClose(why);
  }
}

export interface RendezvousCommon {
  /** `<jobid>.<stepid>`. */
  step: string;
  size: number;
  /** The instance owner: credentials are made for, and must come from, this user. */
  uid: number;
  /** munged's socket (munge.ts mungeSocket). */
  socket: string | undefined;
  /** How long to wait for the others to find each other, in seconds (tbon.connect_timeout). */
  timeout: number;
  log: (text: string) => void;
}

/** What both ends offer the bootstrap: PMI's exchange. */
export interface RendezvousPeer {
  /** Every rank's node index (SLURM_NODEID), once all are in. */
  joined(): Promise<number[]>;
  /** Enter a barrier with the keys put since the last one; every key once all are in. */
  barrier(puts: Map<string, string>): Promise<Map<string, string>>;
  finalize(): Promise<void>;
  abort(message: string): void;
}

interface Joiner {
  rank: number;
  nodeid: number;
  ch: Channel;
  from: string;
  round: number;
  finalized: boolean;
}

/** Rank 0's end: the listener and the keys. */
export class RendezvousServer implements RendezvousPeer {
  private readonly joiners = new Map<number, Joiner>();
  private readonly kvs = new Map<string, string>();
  private readonly pending = new Map<string, string>();
  private readonly nodes: number[];
  private ownRound = 0;
  private failed: Error | undefined;
  private joinWait: { resolve: (n: number[]) => void; reject: (e: Error) => void } | undefined;
  private barrierWait: { resolve: (kvs: Map<string, string>) => void; reject: (e: Error) => void } | undefined;
  private finalWait: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  private constructor(
    private readonly opts: RendezvousCommon,
    private readonly server: net.Server,
    readonly address: string,
    readonly port: number,
    nodeid: number,
  ) {
    this.nodes = new Array<number>(opts.size).fill(-1);
    this.nodes[0] = nodeid;
    server.on('connection', (sock) => this.accept(sock));
  }

  /** Listen on the first free port of `ports` at `address`. */
  static async listen(
    opts: RendezvousCommon,
    address: string,
    ports: number[],
    nodeid: number,
  ): Promise<RendezvousServer> {
    let last = '';
    for (const port of ports) {
      const srv = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen({ host: address, port, exclusive: true }, () => resolve());
        });
        srv.removeAllListeners('error');
        srv.on('error', (e) => opts.log(`rendezvous listener: ${e.message}`));
        return new RendezvousServer(opts, srv, address, port, nodeid);
      } catch (e) {
        last = (e as Error).message;
        srv.close();
      }
    }
    throw new FluxError(
      Errno.EADDRINUSE,
      `bootstrap (slurm): rank 0 cannot listen on ${address} ports ${ports[0]}-${ports.at(-1)}: ${last}`,
    );
  }

  private refuse(from: string, ch: Channel, why: string): void {
    this.opts.log(`refused a rendezvous connection from ${from}: ${why}`);
    ch.close(why);
  }

  private accept(sock: net.Socket): void {
    const from = `${sock.remoteAddress}:${sock.remotePort}`;
    const ch = new Channel(sock, 's');
    let state: 'hello' | 'checking' | 'in' = 'hello';
    let joiner: Joiner | undefined;
    ch.onLine = (line) => {
      if (state !== 'hello') return this.refuse(from, ch, 'more than one line before its key was checked');
      state = 'checking';
      const m = /^(\S+) (\S+)$/.exec(line);
      if (!m || m[1] !== MAGIC) return this.refuse(from, ch, `not a ${MAGIC} hello`);
      void this.check(m[2]!).then(
        (who) => {
          if (ch.closed) return;
          if (this.done || this.failed) return this.refuse(from, ch, 'the bootstrap is over');
          if (this.joiners.has(who.rank)) return this.refuse(from, ch, `rank ${who.rank} has joined already`);
          state = 'in';
          ch.setKey(who.key);
          joiner = { rank: who.rank, nodeid: who.nodeid, ch, from, round: 0, finalized: false };
          this.joiners.set(who.rank, joiner);
          this.nodes[who.rank] = who.nodeid;
          ch.send({ op: 'welcome', step: this.opts.step });
          this.progress();
        },
        (e: Error) => this.refuse(from, ch, e.message),
      );
    };
    ch.onMessage = (msg) => {
      if (joiner !== undefined) this.fromJoiner(joiner, msg);
    };
    ch.onClose = (why) => {
      if (joiner === undefined || this.joiners.get(joiner.rank) !== joiner) return;
      if (!joiner.finalized && !this.done) {
        this.fail(
          new FluxError(
            Errno.EHOSTUNREACH,
            `bootstrap (slurm): rank ${joiner.rank} (${from}) left before the bootstrap was done: ${why}`,
          ),
        );
      }
      joiner.finalized = true;
      this.progress();
    };
  }

  /** A hello's credential: munged's verdict, then ours. */
  private async check(cred: string): Promise<{ rank: number; nodeid: number; key: Buffer }> {
    const d = await mungeDecode(cred, this.opts.socket);
    if (d.uid !== this.opts.uid)
      throw new Error(`its credential is user ${d.uid}'s, not the instance owner's (${this.opts.uid})`);
    let p: any;
    try {
      p = JSON.parse(d.payload);
    } catch {
      throw new Error('its credential does not carry JSON');
    }
    if (p?.step !== this.opts.step) throw new Error(`it belongs to step ${String(p?.step)}, not ${this.opts.step}`);
    if (!Number.isInteger(p.rank) || p.rank < 1 || p.rank >= this.opts.size) {
      throw new Error(`rank ${String(p.rank)} is not one of ranks 1-${this.opts.size - 1}`);
    }
    if (!Number.isInteger(p.nodeid) || p.nodeid < 0) throw new Error('no node id');
    const key = typeof p.key === 'string' ? Buffer.from(p.key, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) throw new Error('no 32-byte session key');
    return { rank: p.rank, nodeid: p.nodeid, key };
  }

  private fromJoiner(j: Joiner, msg: Msg): void {
    switch (msg.op) {
      case 'barrier': {
        if (msg.puts === null || typeof msg.puts !== 'object') return j.ch.close('a barrier without puts');
        for (const [k, v] of Object.entries(msg.puts)) if (typeof v === 'string') this.pending.set(k, v);
        j.round++;
        return this.progress();
      }
      case 'finalize':
        j.finalized = true;
        j.ch.send({ op: 'bye' });
        j.ch.close('finalized');
        return this.progress();
      case 'abort':
        return this.fail(
          new FluxError(Errno.ECANCELED, `bootstrap (slurm): rank ${j.rank} aborted: ${String(msg.message)}`),
        );
      default:
        return j.ch.close(`unknown op ${String(msg.op)}`);
    }
  }

  /** Complete whatever now can be: the join, a barrier, the finalize. */
  private progress(): void {
    if (this.failed) return;
    const all = this.joiners.size === this.opts.size - 1;
    if (all && this.joinWait) {
      clearTimeout(this.timer);
      const w = this.joinWait;
      this.joinWait = undefined;
      for (const j of this.joiners.values()) j.ch.send({ op: 'joined', nodes: this.nodes });
      w.resolve(this.nodes.slice());
    }
    if (all && this.barrierWait && [...this.joiners.values()].every((j) => j.round >= this.ownRound)) {
      for (const [k, v] of this.pending) this.kvs.set(k, v);
      this.pending.clear();
      const kvs = Object.fromEntries(this.kvs);
      for (const j of this.joiners.values()) j.ch.send({ op: 'kvs', kvs });
      const w = this.barrierWait;
      this.barrierWait = undefined;
      w.resolve(new Map(this.kvs));
    }
    if (this.finalWait && [...this.joiners.values()].every((j) => j.finalized)) {
      const w = this.finalWait;
      this.finalWait = undefined;
      w();
    }
  }

  private fail(e: Error): void {
    if (this.failed || this.done) return;
    this.failed = e;
    clearTimeout(this.timer);
    for (const j of this.joiners.values()) {
      j.ch.send({ op: 'abort', message: e.message });
      j.ch.close('aborted');
    }
    this.server.close();
    this.joinWait?.reject(e);
    this.barrierWait?.reject(e);
    this.joinWait = this.barrierWait = undefined;
    this.finalWait?.();
  }

  joined(): Promise<number[]> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.joinWait = { resolve, reject };
      if (Number.isFinite(this.opts.timeout))
        this.timer = setTimeout(() => {
          const missing = [...Array(this.opts.size).keys()].filter((r) => r > 0 && !this.joiners.has(r));
          this.fail(
            new FluxError(
              Errno.ETIMEDOUT,
              `bootstrap (slurm): rank${missing.length > 1 ? 's' : ''} ${missing.join(',')} of step ${this.opts.step} did not join rank 0 at ${this.address}:${this.port} within ${this.opts.timeout} s (tbon.connect_timeout)`,
            ),
          );
        }, this.opts.timeout * 1000);
      this.progress();
    });
  }

  barrier(puts: Map<string, string>): Promise<Map<string, string>> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      for (const [k, v] of puts) this.pending.set(k, v);
      this.ownRound++;
      this.barrierWait = { resolve, reject };
      this.progress();
    });
  }

  async finalize(): Promise<void> {
    this.server.close();
    await new Promise<void>((resolve) => {
      this.finalWait = resolve;
      this.progress();
    });
    this.done = true;
  }

  abort(message: string): void {
    this.fail(new FluxError(Errno.ECANCELED, `bootstrap (slurm): rank 0 aborted: ${message}`));
  }
}

export interface JoinOptions extends RendezvousCommon {
  rank: number;
  nodeid: number;
  /** Rank 0's node name (the step's first node). */
  host: string;
  ports: number[];
}

/** A joining broker's end. */
export class RendezvousClient implements RendezvousPeer {
  private waiter: { op: string; resolve: (m: Msg) => void; reject: (e: Error) => void } | undefined;
  private readonly inbox: Msg[] = [];
  private failed: Error | undefined;
  private finishing = false;

  private constructor(private readonly ch: Channel) {
    ch.onMessage = (m) => {
      if (m.op === 'abort') return this.fail(new FluxError(Errno.ECANCELED, String(m.message)));
      this.inbox.push(m);
      this.deliver();
    };
    ch.onClose = (why) => {
      if (!this.finishing) this.fail(new FluxError(Errno.EHOSTUNREACH, `bootstrap (slurm): rank 0 went away: ${why}`));
    };
  }

  /** Find rank 0: every port in turn, again and again, until it answers or the timeout. */
  static async join(o: JoinOptions): Promise<RendezvousClient> {
    const deadline = Date.now() + o.timeout * 1000;
    let address: string | undefined;
    let last = 'nothing tried';
    let pause = 50;
    while (Date.now() < deadline) {
      try {
        address ??= (await dns.lookup(o.host)).address;
      } catch (e) {
        last = `${o.host} does not resolve: ${(e as Error).message}`;
      }
      for (const port of address === undefined ? [] : o.ports) {
        if (Date.now() >= deadline) break;
        try {
          return await RendezvousClient.attempt(o, address!, port, Math.min(10_000, deadline - Date.now()));
        } catch (e) {
          last = `port ${port}: ${(e as Error).message}`;
        }
      }
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(0, deadline - Date.now()))));
      pause = Math.min(pause * 2, 1000);
    }
    throw new FluxError(
      Errno.ETIMEDOUT,
      `bootstrap (slurm): rank ${o.rank} of step ${o.step} found no rank 0 at ${o.host}${address ? ` (${address})` : ''} ports ${o.ports[0]}-${o.ports.at(-1)} within ${o.timeout} s (tbon.connect_timeout); last: ${last}`,
    );
  }

  private static attempt(o: JoinOptions, address: string, port: number, ms: number): Promise<RendezvousClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: address, port });
      const ch = new Channel(sock, 'c');
      let settled = false;
      const timer = setTimeout(() => ch.close('no answer'), ms);
      const settle = (e?: Error, c?: RendezvousClient): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(c!);
      };
      ch.onClose = (why) => settle(new Error(why));
      ch.onLine = () => ch.close('an answer before its key');
      sock.once('connect', () => {
        const key = crypto.randomBytes(32);
        const payload = JSON.stringify({ step: o.step, rank: o.rank, nodeid: o.nodeid, key: key.toString('base64') });
        mungeEncode(payload, o.uid, o.socket).then(
          (cred) => {
            ch.setKey(key);
            ch.onMessage = (m) => {
              if (m.op !== 'welcome' || m.step !== o.step) return ch.close(`not rank 0 of step ${o.step}`);
              settle(undefined, new RendezvousClient(ch));
            };
            ch.sendLine(`${MAGIC} ${cred}`);
          },
          (e: Error) => {
            ch.close(e.message);
            settle(e);
          },
        );
      });
    });
  }

  private deliver(): void {
    const w = this.waiter;
    if (w === undefined || this.inbox.length === 0) return;
    const m = this.inbox.shift()!;
    this.waiter = undefined;
    if (m.op !== w.op)
      return w.reject(new FluxError(Errno.EPROTO, `bootstrap (slurm): rank 0 sent ${m.op}, not ${w.op}`));
    w.resolve(m);
  }

  private next(op: string): Promise<Msg> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiter = { op, resolve, reject };
      this.deliver();
    });
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.ch.close(e.message);
    this.waiter?.reject(e);
    this.waiter = undefined;
  }

  async joined(): Promise<number[]> {
    const m = await this.next('joined');
    if (!Array.isArray(m.nodes)) throw new FluxError(Errno.EPROTO, 'bootstrap (slurm): joined without nodes');
    return m.nodes as number[];
  }

  async barrier(puts: Map<string, string>): Promise<Map<string, string>> {
    if (this.failed) throw this.failed;
    this.ch.send({ op: 'barrier', puts: Object.fromEntries(puts) });
    const m = await this.next('kvs');
    return new Map(Object.entries(m.kvs as Record<string, string>));
  }

  async finalize(): Promise<void> {
    if (this.failed) throw this.failed;
    this.ch.send({ op: 'finalize' });
    try {
      await this.next('bye');
    } finally {
      this.finishing = true;
      this.ch.close('finalized');
    }
  }

  abort(message: string): void {
    this.ch.send({ op: 'abort', message });
    this.finishing = true;
    this.ch.close('aborted');
  }
}
