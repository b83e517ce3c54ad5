/**
 * What the half-received messages of all client connections may hold together (server.ts).
 * Each connection holds at most one incomplete message, itself at most the largest message
 * size; this bounds their sum. When a connection needs more than is left, the connections
 * holding the most are closed until it fits, or, when it holds the most itself, it is: a client
 * that starts a large message and never finishes it cannot keep the others' room forever.
 */
import type { PendingBudget, StreamDecoder } from '../protocol/stream.js';

/** Default bound on what all connections' incomplete messages hold together. */
export const DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024;

export class InboundBudget implements PendingBudget {
  private used = 0;
  private readonly held = new Map<StreamDecoder, number>();

  /** `evict(d, why)` must close d's connection (whose decoder then releases what it holds). */
  constructor(
    readonly limit: number,
    private readonly evict: (d: StreamDecoder, why: string) => void,
  ) {}

  /** Bytes held by all incomplete messages now. */
  get bytes(): number {
    return this.used;
  }

  reserve(d: StreamDecoder, bytes: number): boolean {
    const mine = this.held.get(d) ?? 0;
    while (this.used + bytes > this.limit) {
      let worst: StreamDecoder | undefined;
      let most = mine + bytes;
      for (const [other, n] of this.held) {
        if (other !== d && n > most) {
          worst = other;
          most = n;
        }
      }
      if (worst === undefined) return false; // this one holds the most: it is the offender
      const before = this.used;
      this.evict(worst, `${this.why()}; it holds the most (${most} bytes)`);
      if (this.used >= before) this.drop(worst); // it did not release: forget it anyway
    }
    this.used += bytes;
    this.held.set(d, mine + bytes);
    return true;
  }

  release(d: StreamDecoder, bytes: number): void {
    const n = (this.held.get(d) ?? 0) - bytes;
    this.used -= bytes;
    if (n > 0) this.held.set(d, n);
    else this.held.delete(d);
  }

  why(): string {
    return `incomplete messages of all connections would hold more than ${this.limit} bytes`;
  }

  private drop(d: StreamDecoder): void {
    this.used -= this.held.get(d) ?? 0;
    this.held.delete(d);
  }
}
