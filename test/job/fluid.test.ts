import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FluidGenerator,
  FluidGeneratorError,
  FLUID_SEQ_LIMIT,
  FLUID_TS_LIMIT,
  fluidCompose,
  fluidGenerator,
  fluidSequence,
  fluidTimestamp,
} from '../../src/job/fluid.js';
import { encodeJobId, parseJobId } from '../../src/job/jobid.js';

/** A controllable clock (ms since the Unix epoch). */
function fakeClock(start: number) {
  let t = start;
  return {
    now: () => t,
    set: (v: number) => {
      t = v;
    },
    advance: (d: number) => {
      t += d;
    },
  };
}

function assertStrictlyIncreasing(ids: bigint[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i]! > ids[i - 1]!)) assert.fail(`id[${i}]=${ids[i]} <= id[${i - 1}]=${ids[i - 1]}`);
  }
}

describe('FLUID layout', () => {
  test('compose/decode fields', () => {
    const id = fluidCompose(10880, 0, 0); // a real job: 182536110080 = 10880 << 24
    assert.equal(id, 182536110080n);
    assert.equal(fluidTimestamp(id), 10880);
    assert.equal(fluidGenerator(id), 0);
    assert.equal(fluidSequence(id), 0);
    const max = fluidCompose(FLUID_TS_LIMIT - 1, 16383, 1023);
    assert.equal(max, (1n << 64n) - 1n);
    assert.equal(fluidTimestamp(max), FLUID_TS_LIMIT - 1);
    assert.equal(fluidGenerator(max), 16383);
    assert.equal(fluidSequence(max), 1023);
    assert.throws(() => fluidCompose(FLUID_TS_LIMIT, 0, 0), RangeError);
    assert.throws(() => fluidCompose(0, 16384, 0), RangeError);
    assert.throws(() => fluidCompose(0, 0, 1024), RangeError);
  });
  test('property: fields round-trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: FLUID_TS_LIMIT - 1 }),
        fc.integer({ min: 0, max: 16383 }),
        fc.integer({ min: 0, max: 1023 }),
        (ts, gen, seq) => {
          const id = fluidCompose(ts, gen, seq);
          return (
            id === (BigInt(ts) << 24n) + (BigInt(gen) << 10n) + BigInt(seq) &&
            fluidTimestamp(id) === ts &&
            fluidGenerator(id) === gen &&
            fluidSequence(id) === seq
          );
        },
      ),
    );
  });
});

describe('FluidGenerator', () => {
  test('validates options', () => {
    assert.throws(() => new FluidGenerator({ generator: -1 }), RangeError);
    assert.throws(() => new FluidGenerator({ generator: 16384 }), RangeError);
    assert.throws(() => new FluidGenerator({ generator: 1.5 }), RangeError);
    assert.throws(() => new FluidGenerator({ generator: 0, startTs: -1 }), RangeError);
    assert.throws(() => new FluidGenerator({ generator: 0, startTs: FLUID_TS_LIMIT }), RangeError);
  });

  test('timestamps follow the clock from epochMs; generator field is set', () => {
    const clk = fakeClock(1_700_000_000_000);
    const g = new FluidGenerator({ generator: 5, epochMs: 1_700_000_000_000 - 1000, clock: clk.now });
    const a = g.next();
    assert.equal(fluidTimestamp(a), 1000);
    assert.equal(fluidGenerator(a), 5);
    assert.equal(fluidSequence(a), 0);
    assert.equal(fluidSequence(g.next()), 1);
    clk.advance(7);
    const b = g.next();
    assert.equal(fluidTimestamp(b), 1007);
    assert.equal(fluidSequence(b), 0);
  });

  test('default epoch is the construction time (first ts = startTs)', () => {
    const clk = fakeClock(5_000_000);
    const g = new FluidGenerator({ generator: 0, clock: clk.now });
    assert.equal(g.epochMs, 5_000_000);
    assert.equal(g.next(), 0n, 'fresh instance: first id is 0 like flux');
    const r = new FluidGenerator({ generator: 0, startTs: 12345, clock: clk.now });
    assert.equal(fluidTimestamp(r.next()), 12345);
    clk.advance(10);
    assert.equal(fluidTimestamp(r.next()), 12355);
  });

  test('startTs is a floor when epochMs is given (restart continuity)', () => {
    const clk = fakeClock(1000);
    const g = new FluidGenerator({ generator: 0, epochMs: 0, startTs: 5000, clock: clk.now });
    assert.equal(fluidTimestamp(g.next()), 5000);
    clk.set(6000);
    assert.equal(fluidTimestamp(g.next()), 6000);
  });

  test('5000 ids in one millisecond: unique, increasing, seq wraps, ts borrowed', () => {
    const clk = fakeClock(1_000_000);
    const g = new FluidGenerator({ generator: 3, epochMs: 0, clock: clk.now });
    const ids = Array.from({ length: 5000 }, () => g.next());
    assertStrictlyIncreasing(ids);
    assert.equal(new Set(ids).size, 5000);
    for (const [i, id] of ids.entries()) {
      assert.equal(fluidSequence(id), i % FLUID_SEQ_LIMIT);
      assert.equal(fluidTimestamp(id), 1_000_000 + Math.floor(i / FLUID_SEQ_LIMIT));
      assert.equal(fluidGenerator(id), 3);
    }
    // the clock catching up to the borrowed ms does not reuse ids
    clk.advance(2);
    const next = g.next();
    assert.ok(next > ids[4999]!);
    assert.equal(fluidTimestamp(next), 1_000_004);
    assert.equal(fluidSequence(next), 5000 % FLUID_SEQ_LIMIT);
    clk.advance(10);
    assert.equal(fluidTimestamp(g.next()), 1_000_012);
  });

  test('monotonic when the clock steps backwards', () => {
    const clk = fakeClock(2_000_000);
    const g = new FluidGenerator({ generator: 1, epochMs: 1_000_000, clock: clk.now });
    const ids: bigint[] = [];
    for (let i = 0; i < 10; i++) ids.push(g.next());
    clk.set(1_500_000); // 500 s backwards
    for (let i = 0; i < 3000; i++) ids.push(g.next());
    clk.set(1_999_999);
    ids.push(g.next());
    clk.set(2_000_010);
    ids.push(g.next());
    clk.set(0); // before the epoch: negative "now"
    ids.push(g.next());
    assertStrictlyIncreasing(ids);
    assert.equal(fluidTimestamp(ids[10]!), 1_000_000, 'keeps the last timestamp');
    assert.equal(fluidTimestamp(ids.at(-2)!), 1_000_010);
  });

  test('property: monotonic under an arbitrary clock walk', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: 1, max: 3000 })), { maxLength: 20 }),
        (steps) => {
          const clk = fakeClock(10_000_000);
          const g = new FluidGenerator({ generator: 7, epochMs: 0, clock: clk.now });
          let last = -1n;
          for (const [dt, n] of steps) {
            clk.advance(dt);
            for (let i = 0; i < n; i++) {
              const id = g.next();
              if (id <= last || fluidGenerator(id) !== 7) return false;
              last = id;
            }
          }
          return true;
        },
      ),
      { numRuns: 100 },
    );
  });

  test('throws once the timestamp reaches 2^40', () => {
    const clk = fakeClock(FLUID_TS_LIMIT - 1);
    const g = new FluidGenerator({ generator: 0, epochMs: 0, clock: clk.now });
    const ids = g.nextMany(1024);
    assert.equal(fluidTimestamp(ids[1023]!), FLUID_TS_LIMIT - 1);
    assert.equal(ids[1023], fluidCompose(FLUID_TS_LIMIT - 1, 0, 1023));
    assert.throws(() => g.next(), FluidGeneratorError, 'borrowing past 2^40-1');
    const h = new FluidGenerator({ generator: 0, epochMs: 0, clock: () => FLUID_TS_LIMIT });
    assert.throws(
      () => h.next(),
      (e: unknown) => e instanceof FluidGeneratorError && e.code === 'EOVERFLOW',
    );
  });

  test('timestamp getter (fluid_save_timestamp) and restart continuity', () => {
    const clk = fakeClock(100_000);
    const g = new FluidGenerator({ generator: 0, clock: clk.now });
    g.nextMany(3000); // borrows ts 0..2
    assert.equal(g.timestamp, 2);
    clk.advance(50);
    assert.equal(g.timestamp, 50);
    const last = g.next();
    const r = new FluidGenerator({ generator: 0, startTs: g.timestamp + 1, clock: clk.now });
    assert.ok(r.next() > last);
  });

  test('real clock: 20000 ids increasing and encodable', () => {
    const g = new FluidGenerator({ generator: 0 });
    const ids = g.nextMany(20000);
    assertStrictlyIncreasing(ids);
    for (const id of ids.slice(0, 200)) assert.equal(parseJobId(encodeJobId(id, 'f58')), id);
  });

  test('next() never waits for the clock: one reading per id, timestamps within the borrowed ms', () => {
    // flux's fluid_generate() spins until the next millisecond once 1024 ids used up the current
    // one; ours borrows it instead. A counting clock (a real, monotonic one) shows that without
    // timing anything: each id costs exactly one reading, however fast the ids come, and each
    // id's timestamp is that reading, or ahead of it by at most one ms per 1024 ids so far.
    const readings: number[] = [];
    const clock = (): number => {
      const t = performance.timeOrigin + performance.now();
      readings.push(t);
      return t;
    };
    const g = new FluidGenerator({ generator: 1, clock });
    const n = 200_000;
    const ids = g.nextMany(n);
    assert.equal(readings.length, 1 + n, 'one reading at construction, then one per id');
    assertStrictlyIncreasing(ids);
    for (const [i, id] of ids.entries()) {
      const now = Math.floor(readings[i + 1]! - g.epochMs);
      const ts = fluidTimestamp(id);
      if (ts < now || ts > now + Math.floor(i / FLUID_SEQ_LIMIT) || fluidGenerator(id) !== 1)
        assert.fail(`id ${i}: timestamp ${ts}, generator ${fluidGenerator(id)}; clock at ${now}`);
    }
  });
});
