/**
 * A client that serves a service over a real socket, speaking the wire protocol itself (the
 * Flux handle has no service API): `service.add`, requests in, responses out.
 */
import net from 'node:net';
import { uriToPath } from '../../src/client/handle.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import { encodeMessage, errorResponse, request, response, withTextPayload } from '../../src/protocol/codec.js';
import { parseJson } from '../../src/protocol/json.js';
import { MsgType, type Message } from '../../src/protocol/types.js';

export class Provider {
  /** Requests the broker forwarded to this client, in order of arrival. */
  readonly requests: Message[] = [];
  private readonly replies = new Map<number, (m: Message) => void>();
  private readonly arrivals: (() => void)[] = [];
  private tag = 0;
  private readonly closedP: Promise<void>;

  private constructor(private readonly sock: net.Socket) {
    const dec = new StreamDecoder();
    sock.on('data', (c) => {
      for (const m of dec.push(c)) {
        if (m.type === MsgType.REQUEST) {
          this.requests.push(m);
          for (const w of this.arrivals.splice(0)) w();
        } else if (m.type === MsgType.RESPONSE) this.replies.get(m.aux2)?.(m);
      }
    });
    this.closedP = new Promise((resolve) => sock.on('close', () => resolve()));
  }

  static async connect(uri: string): Promise<Provider> {
    const sock = net.connect(uriToPath(uri));
    // the handshake byte comes alone: nothing else is sent before a request arrives
    await new Promise((resolve, reject) => {
      sock.once('data', resolve);
      sock.once('error', reject);
    });
    return new Provider(sock);
  }

  /** Send a request of our own; resolves with its response message. */
  call(topic: string, payload: object, cred: { userid?: number; rolemask?: number } = {}): Promise<Message> {
    const matchtag = ++this.tag;
    const p = new Promise<Message>((resolve) => this.replies.set(matchtag, resolve));
    this.sock.write(encodeMessage(request(topic, payload, { matchtag, ...cred })));
    return p;
  }

  /** service.add; throws with the errnum when refused. */
  async add(service: string, cred: { userid?: number; rolemask?: number } = {}): Promise<void> {
    const r = await this.call('service.add', { service }, cred);
    if (r.aux1 !== 0) throw Object.assign(new Error(`service.add ${service}: errno ${r.aux1}`), { errno: r.aux1 });
  }

  async remove(service: string): Promise<void> {
    const r = await this.call('service.remove', { service });
    if (r.aux1 !== 0) throw new Error(`service.remove ${service}: errno ${r.aux1}`);
  }

  /** Resolves once `n` requests in all have arrived. */
  async received(n: number): Promise<Message[]> {
    while (this.requests.length < n) await new Promise<void>((resolve) => this.arrivals.push(resolve));
    return this.requests.slice(0, n);
  }

  /** The JSON payload of a forwarded request. */
  static payload(m: Message): any {
    return m.payload ? parseJson(m.payload) : undefined;
  }

  respond(req: Message, payload?: object): void {
    this.sock.write(encodeMessage(withTextPayload(response(req), payload)));
  }

  fail(req: Message, errnum: number, text?: string): void {
    this.sock.write(encodeMessage(errorResponse(req, errnum, text)));
  }

  /** Disconnect, and resolve once the socket is closed. */
  close(): Promise<void> {
    this.sock.destroy();
    return this.closedP;
  }
}
