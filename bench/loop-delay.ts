/**
 * Preloaded into the broker by bench/store.ts (`node --import dist/bench/loop-delay.js
 * bin/tsflux.js start ...`, with BENCH_LOOP_FILE set): watches the broker's event loop with
 * perf_hooks' monitorEventLoopDelay, and times the store's commits (each better-sqlite3
 * transaction the broker runs) and a durable store's syncs (fs.fdatasync). On SIGUSR2 it
 * writes what it saw since the last SIGUSR2 as JSON to BENCH_LOOP_FILE, then starts again from
 * zero: the longest stall, p99 and mean of the loop's delay; the number of commits, the longest
 * one and the time spent in them; the number of syncs, their median and longest; the broker's
 * CPU time (all in ms); the V8 heap's used and total size (MiB). Nothing of it is part of the
 * broker.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';

const file = process.env.BENCH_LOOP_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let commits = 0;
  let commitMaxMs = 0;
  let commitTotalMs = 0;
  let cpu = process.cpuUsage();
  // the durable store's syncs of its WAL (fs.fdatasync on the thread pool): how long the disk takes
  let syncs: number[] = [];
  const fdatasync = fs.fdatasync;
  fs.fdatasync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
    const t = performance.now();
    fdatasync(fd, (e) => {
      syncs.push(performance.now() - t);
      cb(e);
    });
  }) as typeof fs.fdatasync;
  type Fn = (...args: unknown[]) => unknown;
  const proto = Database.prototype as unknown as { transaction: (fn: Fn) => Fn };
  const transaction = proto.transaction;
  proto.transaction = function (this: unknown, fn: Fn) {
    const tx = transaction.call(this, fn);
    return (...args: unknown[]) => {
      const t = performance.now();
      try {
        return tx(...args);
      } finally {
        const ms = performance.now() - t;
        commits++;
        commitTotalMs += ms;
        if (ms > commitMaxMs) commitMaxMs = ms;
      }
    };
  };
  process.on('SIGUSR2', () => {
    const ms = (ns: number) => ns / 1e6;
    const out = {
      maxMs: ms(h.max),
      p99Ms: ms(h.percentile(99)),
      meanMs: ms(h.mean),
      commits,
      commitMaxMs,
      commitTotalMs,
      syncs: syncs.length,
      syncMedianMs: syncs.length ? [...syncs].sort((a, b) => a - b)[syncs.length >> 1] : 0,
      syncMaxMs: syncs.length ? Math.max(...syncs) : 0,
      cpuMs: (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000,
      heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20,
      heapTotalMiB: process.memoryUsage().heapTotal / 2 ** 20,
    };
    h.reset();
    cpu = process.cpuUsage();
    syncs = [];
    commits = 0;
    commitMaxMs = 0;
    commitTotalMs = 0;
    fs.writeFileSync(file + '.tmp', JSON.stringify(out));
    fs.renameSync(file + '.tmp', file);
  });
}
