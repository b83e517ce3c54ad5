/**
 * One overlay link: Flux messages over an authenticated TLS stream, framed as on the local
 * socket (docs/protocol.md §A.2–A.4: an 8-byte header, then the RFC 3 frames) but without the
 * connect handshake byte. Sends are queued and written as the socket takes them (outqueue.ts).
 * Bytes that are not messages end the link; so does the peer going away.
 */
import type tls from 'node:tls';
import { StreamDecoder } from '../../protocol/stream.js';
import { OutQueue } from '../../protocol/outqueue.js';
import type { Message } from '../../protocol/types.js';

export class Link {
  private readonly decoder: StreamDecoder;
  private readonly out = new OutQueue();
  private flushScheduled = false;
  closed = false;
  /** When we last sent, and last heard from the peer (performance.now(), ms): liveness (docs/protocol.md §F.8). */
  lastSent = performance.now();
  lastHeard = performance.now();
  onMessage: (m: Message) => void = () => {};
  onClose: (why: string | undefined) => void = () => {};

  constructor(
    readonly sock: tls.TLSSocket,
    /** The rank at the other end. */
    readonly peer: number,
    maxMessageSize: number,
  ) {
    this.decoder = new StreamDecoder({ maxMessageSize });
    sock.setNoDelay?.(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e: Error) => this.end(e.message));
    sock.on('close', () => this.end('the connection closed'));
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = performance.now();
    let msgs: Message[];
    try {
      msgs = this.decoder.push(chunk);
    } catch (e) {
      this.close(`bad message: ${(e as Error).message}`);
      return;
    }
    for (const m of msgs) {
      if (this.closed) return;
      this.onMessage(m);
    }
  }

  send(msg: Message): void {
    if (this.closed) return;
    this.lastSent = performance.now();
    this.out.push(msg);
    if (this.out.length >= 4096) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (!this.closed) this.out.pump(this.sock);
  }

  /** Write what is queued, then close; `why` (if any) is passed to onClose as the reason. */
  close(why?: string): void {
    if (this.closed) return;
    this.out.drain(this.sock);
    this.sock.end();
    this.sock.destroySoon?.();
    this.end(why);
  }

  /** The link is over: onClose once, with the reason (undefined: we closed it cleanly). */
  private end(why: string | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.out.discard();
    this.onClose(why);
  }
}
