/**
 * A client that speaks the local connector's protocol message by message (docs/protocol.md
 * §A), for tests that need what the Flux handle does not offer: serving a service
 * (service.add), publishing an event, seeing an event's sequence number.
 */
import net from 'node:net';
import { encodeMessage } from '../../src/protocol/codec.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import type { Message } from '../../src/protocol/types.js';
import { uriToPath } from '../../src/client/handle.js';

export class RawClient {
  private readonly decoder = new StreamDecoder();
  private readonly queue: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => {
      for (const m of this.decoder.push(chunk)) this.deliver(m);
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => sock.destroy());
  }

  static connect(uri: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(uriToPath(uri));
      s.once('error', reject);
      s.once('data', (b: Buffer) => {
        s.off('error', reject);
        if (b[0] !== 0) return reject(new Error(`handshake refused: ${b[0]}`));
        const c = new RawClient(s);
        if (b.length > 1) c.sock.emit('data', b.subarray(1));
        resolve(c);
      });
    });
  }

  private deliver(m: Message): void {
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    else this.queue.push(m);
  }

  send(m: Message): void {
    this.sock.write(encodeMessage(m));
  }

  /** The next message (already received or to come) that `match` accepts. */
  next(match: (m: Message) => boolean): Promise<Message> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  close(): void {
    this.sock.destroy();
  }
}
