/**
 * FLUID: Flux Locally Unique ID (flux-core src/common/libutil/fluid.c).
 *
 *   id = (timestamp << 24) | (generator << 10) | sequence
 *
 * - timestamp: 40 bits, milliseconds since the instance's FLUID epoch
 * - generator: 14 bits (the broker rank)
 * - sequence:  10 bits (up to 1024 ids per millisecond)
 */
import { Errno, FluxError } from '../protocol/errno.js';

export const FLUID_TS_BITS = 40;
export const FLUID_GEN_BITS = 14;
export const FLUID_SEQ_BITS = 10;

/** Largest valid timestamp + 1 (2^40). */
export const FLUID_TS_LIMIT = 2 ** FLUID_TS_BITS;
/** Number of generators (2^14). */
export const FLUID_GEN_LIMIT = 2 ** FLUID_GEN_BITS;
/** Ids per millisecond (2^10). */
export const FLUID_SEQ_LIMIT = 2 ** FLUID_SEQ_BITS;

const SEQ_MASK = BigInt(FLUID_SEQ_LIMIT - 1);
const GEN_MASK = BigInt(FLUID_GEN_LIMIT - 1);
const SHIFT_GEN = BigInt(FLUID_SEQ_BITS);
const SHIFT_TS = BigInt(FLUID_SEQ_BITS + FLUID_GEN_BITS);

/** Timestamp field (ms since the FLUID epoch) of an id. */
export function fluidTimestamp(id: bigint): number {
  return Number(BigInt.asUintN(64, id) >> SHIFT_TS);
}

/** Generator field (broker rank) of an id. */
export function fluidGenerator(id: bigint): number {
  return Number((id >> SHIFT_GEN) & GEN_MASK);
}

/** Sequence field of an id. */
export function fluidSequence(id: bigint): number {
  return Number(id & SEQ_MASK);
}

/** Compose an id from its fields (validated). */
export function fluidCompose(timestamp: number, generator: number, sequence: number): bigint {
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp >= FLUID_TS_LIMIT)
    throw new RangeError(`FLUID timestamp out of range: ${timestamp}`);
  if (!Number.isInteger(generator) || generator < 0 || generator >= FLUID_GEN_LIMIT)
    throw new RangeError(`FLUID generator out of range: ${generator}`);
  if (!Number.isInteger(sequence) || sequence < 0 || sequence >= FLUID_SEQ_LIMIT)
    throw new RangeError(`FLUID sequence out of range: ${sequence}`);
  return (BigInt(timestamp) << SHIFT_TS) | BigInt(generator * FLUID_SEQ_LIMIT + sequence);
}

export interface FluidGeneratorOptions {
  /** Generator id, 0..16383 (the broker rank). */
  generator: number;
  /**
   * Wall-clock time (ms since the Unix epoch) that corresponds to timestamp 0.
   * Default: the clock at construction minus `startTs`, so that the first id's
   * timestamp is `startTs` and it then advances with the clock (flux's fluid_init()).
   */
  epochMs?: number;
  /**
   * Starting timestamp (default 0).  It is also a floor: ids never use a smaller
   * timestamp, so a restarted instance that passes the last saved timestamp + 1
   * (see {@link FluidGenerator.timestamp}) keeps its ids increasing.
   */
  startTs?: number;
  /** Clock in ms since the Unix epoch (default `Date.now`); injectable for tests. */
  clock?: () => number;
}

/** The generator cannot hand out another id (errno EOVERFLOW: the timestamp space is used up). */
export class FluidGeneratorError extends FluxError {
  constructor(message: string, errno: number = Errno.EOVERFLOW) {
    super(errno, message);
    this.name = 'FluidGeneratorError';
  }
}

/**
 * Generator of monotonically increasing FLUIDs.
 *
 * Differences from flux's fluid_generate(), which busy-waits for the next millisecond when
 * the sequence is exhausted: here the next millisecond is borrowed logically (timestamp =
 * last + 1), and when the clock steps backwards the last timestamp is kept.  Ids are
 * therefore strictly increasing for the life of the generator and next() never blocks.
 */
export class FluidGenerator {
  readonly generator: number;
  readonly epochMs: number;
  private readonly clock: () => number;
  /** timestamp of the last id (or the starting timestamp) */
  private ts: number;
  /** next sequence number to hand out within `ts` */
  private seq: number;
  /** (BigInt(ts) << 24) | (generator << 10), cached per timestamp */
  private base: bigint;

  constructor(opts: FluidGeneratorOptions) {
    const { generator } = opts;
    if (!Number.isInteger(generator) || generator < 0 || generator >= FLUID_GEN_LIMIT)
      throw new RangeError(`FLUID generator must be an integer in [0, ${FLUID_GEN_LIMIT - 1}]: ${generator}`);
    const startTs = opts.startTs ?? 0;
    if (!Number.isInteger(startTs) || startTs < 0 || startTs >= FLUID_TS_LIMIT)
      throw new RangeError(`FLUID startTs must be an integer in [0, 2^40): ${startTs}`);
    this.generator = generator;
    this.clock = opts.clock ?? Date.now;
    const epochMs = opts.epochMs ?? Math.floor(this.clock()) - startTs;
    if (!Number.isFinite(epochMs)) throw new RangeError(`FLUID epochMs must be finite: ${epochMs}`);
    this.epochMs = epochMs;
    this.ts = startTs;
    this.seq = 0;
    this.base = this.makeBase(startTs);
  }

  private makeBase(ts: number): bigint {
    return (BigInt(ts) << SHIFT_TS) | BigInt(this.generator * FLUID_SEQ_LIMIT);
  }

  /** Milliseconds since the FLUID epoch according to the clock (may go backwards). */
  private now(): number {
    return Math.floor(this.clock() - this.epochMs);
  }

  /** Generate the next id. Throws FluidGeneratorError once the timestamp reaches 2^40. */
  next(): bigint {
    const now = this.now();
    if (now > this.ts) {
      if (now >= FLUID_TS_LIMIT) throw new FluidGeneratorError('FLUID timestamp space exhausted (ts >= 2^40)');
      this.ts = now;
      this.seq = 0;
      this.base = this.makeBase(now);
    } else if (this.seq >= FLUID_SEQ_LIMIT) {
      // sequence exhausted in this ms (or the clock stalled / stepped back): borrow the next ms
      const ts = this.ts + 1;
      if (ts >= FLUID_TS_LIMIT) throw new FluidGeneratorError('FLUID timestamp space exhausted (ts >= 2^40)');
      this.ts = ts;
      this.seq = 0;
      this.base = this.makeBase(ts);
    }
    return this.base | BigInt(this.seq++);
  }

  /** Generate n ids (in increasing order). */
  nextMany(n: number): bigint[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`nextMany: bad count ${n}`);
    const out = new Array<bigint>(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  /**
   * The generator's current timestamp (like fluid_save_timestamp(): the clock is consulted
   * and the internal timestamp moves forward if it advanced).  Persist it and pass
   * `startTs: saved + 1` on restart to keep ids increasing across restarts.
   */
  get timestamp(): number {
    const now = this.now();
    if (now > this.ts && now < FLUID_TS_LIMIT) {
      this.ts = now;
      this.seq = 0;
      this.base = this.makeBase(now);
    }
    return this.ts;
  }
}
