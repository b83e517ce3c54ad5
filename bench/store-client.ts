/**
 * bench/store.ts's client, run inside an instance (`tsflux start [--store FILE] node
 * dist/bench/store-client.js MODE ...`). Prints one JSON line of figures per measurement.
 *
 *   submit N ROUNDS     N held jobs (urgency 0) of `true` submitted at once (as bench/bulk-client),
 *                       ROUNDS times in this instance: submit rate, the broker's longest
 *                       event-loop stall while they went in (when bench/loop-delay.js is
 *                       preloaded into it), its peak RSS
 *   backlog N           N held jobs submitted WINDOW at a time: submit rate, the broker's
 *                       peak and settled RSS, the store's size on disk
 *   restarted T0 [kill] an instance started on a store that holds a backlog: start-to-ready
 *                       (T0: the wall clock, ms, when `tsflux start` was spawned; BENCH_READY_FILE
 *                       is created then), the broker's longest event-loop stall until then and
 *                       while the commands below ran, the time of `tsflux jobs --stats` and
 *                       `tsflux jobs -a -c 100`, the broker's RSS; with `kill`, the broker is then
 *                       killed with SIGKILL
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flux } from '../src/client/handle.js';
import * as job from '../src/client/job/index.js';
import { JobspecV1 } from '../src/job/jobspec.js';
import { storeMiB } from './store-size.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsflux = path.resolve(here, '../..', 'bin', 'tsflux.js');
const WINDOW = 20_000;

function status(pid: string, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface LoopFigures {
  maxMs: number;
  p99Ms: number;
  commits: number;
  commitMaxMs: number;
  commitTotalMs: number;
  syncs: number;
  syncMedianMs: number;
  syncMaxMs: number;
  cpuMs: number;
  heapUsedMiB: number;
}

/** The broker's event-loop and commit figures since the last call (bench/loop-delay.ts), or undefined. */
async function loopDelay(pid: string): Promise<LoopFigures | undefined> {
  const file = process.env.BENCH_LOOP_FILE;
  if (!file) return undefined;
  fs.rmSync(file, { force: true });
  process.kill(Number(pid), 'SIGUSR2');
  for (let i = 0; i < 500; i++) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as LoopFigures;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

/** RSS once it stops moving (2 s without a change of more than 1 MiB), at most 30 s. */
async function settledRss(pid: string): Promise<number> {
  let last = status(pid, 'VmRSS');
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = status(pid, 'VmRSS');
    if (Math.abs(now - last) < 1) return now;
    last = now;
  }
  return last;
}

/** Wall seconds of a tsflux command run in this instance. */
function timed(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [tsflux, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`tsflux ${args.join(' ')} failed (rc ${r.status}): ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

const out = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');

const [mode, a1, a2] = process.argv.slice(2);
const spec = JobspecV1.fromCommand(['true'], { environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).dumps();
const h = await Flux.open();
const pid = await h.attrGet('broker.pid');

if (mode === 'submit') {
  const n = Number(a1);
  const rounds = Number(a2 ?? 1);
  for (let round = 1; round <= rounds; round++) {
    await loopDelay(pid);
    const t0 = performance.now();
    let submitted = 0;
    for (let i = 0; i < n; i++) void job.submitAsync(h, spec, { urgency: 0 }).then(() => submitted++);
    await h.reactorRun();
    const t = (performance.now() - t0) / 1000;
    const loop = await loopDelay(pid);
    out({
      round,
      n: submitted,
      submitRate: submitted / t,
      loopMaxMs: loop?.maxMs,
      loopP99Ms: loop?.p99Ms,
      commits: loop?.commits,
      commitMaxMs: loop?.commitMaxMs,
      commitTotalMs: loop?.commitTotalMs,
      syncs: loop?.syncs,
      syncMedianMs: loop?.syncMedianMs,
      syncMaxMs: loop?.syncMaxMs,
      brokerCpuMs: loop?.cpuMs,
      brokerRssMiB: status(pid, 'VmHWM'),
    });
  }
} else if (mode === 'backlog') {
  const n = Number(a1);
  const store = await h.attrGet('store-path');
  const startRss = status(pid, 'VmRSS');
  await loopDelay(pid);
  const t0 = performance.now();
  for (let done = 0; done < n;) {
    const k = Math.min(WINDOW, n - done);
    const all: Promise<bigint>[] = [];
    for (let i = 0; i < k; i++) all.push(job.submitAsync(h, spec, { urgency: 0 }));
    await Promise.all(all);
    done += k;
  }
  const t = (performance.now() - t0) / 1000;
  const loop = await loopDelay(pid);
  const peak = status(pid, 'VmHWM');
  const settled = await settledRss(pid);
  out({
    n,
    submitRate: n / t,
    loopMaxMs: loop?.maxMs,
    commitMaxMs: loop?.commitMaxMs,
    commitTotalMs: loop?.commitTotalMs,
    syncMaxMs: loop?.syncMaxMs,
    heapUsedMiB: loop?.heapUsedMiB,
    startRssMiB: startRss,
    peakRssMiB: peak,
    settledRssMiB: settled,
    storeMiB: storeMiB(store),
    endedAt: Date.now(),
  });
} else if (mode === 'restarted') {
  const readyS = (performance.timeOrigin - Number(a1)) / 1000;
  if (process.env.BENCH_READY_FILE) fs.writeFileSync(process.env.BENCH_READY_FILE, '');
  const loopStart = await loopDelay(pid);
  const statsS = timed(['jobs', '--stats']);
  const listS = timed(['jobs', '-a', '-c', '100']);
  const statsAgainS = timed(['jobs', '--stats']);
  const listAgainS = timed(['jobs', '-a', '-c', '100']);
  const loopAfter = await loopDelay(pid);
  out({
    readyS,
    statsS,
    listS,
    statsAgainS,
    listAgainS,
    loopMaxMs: loopStart?.maxMs,
    loopAfterMaxMs: loopAfter?.maxMs,
    peakRssMiB: status(pid, 'VmHWM'),
    rssMiB: status(pid, 'VmRSS'),
    endedAt: Date.now(),
  });
  if (a2 === 'kill') {
    h.close();
    process.kill(Number(pid), 'SIGKILL');
    process.exit(0);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
h.close();
