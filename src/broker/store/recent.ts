/**
 * The last `capacity` ids added, for a membership test without a query (the store's jobs known
 * to exist). First in, first out through a ring: evicting the oldest is O(1). (A Set used as a
 * FIFO, deleting `values().next()`, is not: each call walks the deleted slots at the Set's
 * start, about 8 µs an id at 8,192, seconds for a million submits.)
 */
export class RecentIds {
  private readonly ring: (bigint | undefined)[];
  private next = 0;
  private readonly set = new Set<bigint>();

  constructor(capacity: number) {
    this.ring = new Array<bigint | undefined>(capacity);
  }

  has(id: bigint): boolean {
    return this.set.has(id);
  }

  add(id: bigint): void {
    if (this.set.has(id)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.ring.length;
    this.set.add(id);
  }

  /** Forget `id` (its slot in the ring stays until it comes round). */
  delete(id: bigint): void {
    this.set.delete(id);
  }
}
