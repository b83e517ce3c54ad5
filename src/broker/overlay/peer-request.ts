/**
 * A request that came over an overlay link (docs/protocol.md §F.4). It is served here or
 * forwarded further like any request; its answers go back over the link it came on, derived
 * from it, so that they carry its route stack (the last entry names the broker it came from).
 *
 * Its connection id is its route stack (each entry cut to 8 characters, as flux-core prints
 * routes, joined by `!`): the client at the far end and every broker on the way. Services key a
 * client's watches by it, and `broker.ping` prints it.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { parseJson } from '../../protocol/json.js';
import { Role, type Message } from '../../protocol/types.js';
import type { ConnId } from '../service.js';
import { MessageRequest } from '../message-request.js';
import type { Link } from './link.js';

/** A route stack as a connection id. */
export function routeConn(route: readonly string[]): ConnId {
  return route.map((r) => r.slice(0, 8)).join('!');
}

export class PeerRequest extends MessageRequest {
  readonly userid: number;
  readonly rolemask: number;
  readonly conn: ConnId;
  private decoded = false;
  private value: unknown;

  constructor(
    readonly link: Link,
    msg: Message,
  ) {
    super(msg);
    this.userid = msg.userid;
    // A message from another broker is not local to this one (flux-core clears FLUX_ROLE_LOCAL).
    this.rolemask = (msg.rolemask & ~Role.LOCAL) >>> 0;
    this.conn = routeConn(msg.route ?? []);
  }

  /** The payload, decoded on first use (a request only passing through is never decoded). */
  get payload(): any {
    if (!this.decoded) {
      this.decoded = true;
      if (this.msg.payload !== undefined) {
        try {
          this.value = parseJson(this.msg.payload);
        } catch (e) {
          throw new FluxError(Errno.EPROTO, `${this.topic}: invalid JSON payload: ${(e as Error).message}`);
        }
      }
    }
    return this.value;
  }

  protected send(msg: Message): void {
    this.link.send(msg);
  }
}
