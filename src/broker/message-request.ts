/**
 * What a request that arrived as a wire message shares, whichever way it came (a client's
 * socket: server.ts; another broker's link: overlay/peer-request.ts): its fields read from the
 * message, and answers derived from it, at most one unless streaming, none if NORESPONSE.
 * Subclasses say where answers go (`send`) and with which credentials.
 */
import { errorResponse, response, withPayloadWriter, withTextPayload, type Cred } from '../protocol/codec.js';
import { Errno } from '../protocol/errno.js';
import { MsgFlag, type Message, type PayloadWriter } from '../protocol/types.js';
import type { ConnId, Request } from './service.js';

export abstract class MessageRequest implements Request {
  readonly topic: string;
  readonly matchtag: number;
  readonly streaming: boolean;
  readonly noresponse: boolean;
  finished = false;
  abstract readonly payload: any;
  abstract readonly conn: ConnId;
  abstract readonly userid: number;
  abstract readonly rolemask: number;

  constructor(readonly msg: Message) {
    this.topic = msg.topic ?? '';
    this.matchtag = msg.aux2;
    this.streaming = (msg.flags & MsgFlag.STREAMING) !== 0;
    this.noresponse = (msg.flags & MsgFlag.NORESPONSE) !== 0;
  }

  /** Send an answer on the way the request came. */
  protected abstract send(msg: Message): void;
  /** The credentials answers carry (undefined: those of the request). */
  protected get responseCred(): Cred | undefined {
    return undefined;
  }

  respond(payload?: object): void {
    if (this.finished || this.noresponse) return;
    if (!this.streaming) this.finished = true;
    this.send(withTextPayload(response(this.msg, undefined, this.responseCred), payload));
  }

  respondWith(payload: PayloadWriter): void {
    if (this.finished || this.noresponse) return;
    if (!this.streaming) this.finished = true;
    this.send(withPayloadWriter(response(this.msg, undefined, this.responseCred), payload));
  }

  respondRaw(payload: Buffer): void {
    if (this.finished || this.noresponse) return;
    if (!this.streaming) this.finished = true;
    this.send(response(this.msg, payload, this.responseCred));
  }

  /**
   * Pass on a response from another broker as it came, payload bytes and errnum (flux-core's
   * broker pops the route and forwards it): never decoded here, whatever its payload is.
   */
  relay(resp: Message): void {
    if (this.finished || this.noresponse) return;
    if (resp.aux1 !== 0 || !this.streaming) this.finished = true;
    const out = response(this.msg, undefined, this.responseCred);
    out.aux1 = resp.aux1;
    if (resp.payload !== undefined) {
      out.payload = resp.payload;
      out.payloadNul = resp.payloadNul;
      out.flags |= MsgFlag.PAYLOAD;
    }
    this.send(out);
  }

  error(errnum: number, text?: string): void {
    if (this.finished || this.noresponse) return;
    this.finished = true;
    this.send(errorResponse(this.msg, errnum || Errno.EINVAL, text, this.responseCred));
  }
}
