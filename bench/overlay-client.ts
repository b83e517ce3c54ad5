/**
 * The client half of bench/overlay.ts, run inside an instance of several brokers (`tsflux start
 * --test-size=N -o,-Stbon.fanout=K node dist/bench/overlay-client.js SEQ WINDOWED [RANKS]`): it
 * opens a handle on each rank it measures (RANKS, comma-separated; default the first rank of
 * each level of the tree) (local://<rundir>/local-R, next to FLUX_URI's local-0) and
 * times `broker.ping` from there to rank 0 (up the tree: as many links as the rank's level), SEQ
 * of them one after the other (median, p99), then WINDOWED of them 256 in flight (messages per
 * second through the tree, which bounds how much a parent can route). Prints one JSON line.
 */
import path from 'node:path';
import { Flux } from '../src/client/handle.js';

const seq = Number(process.argv[2] ?? 2000);
const windowed = Number(process.argv[3] ?? 20000);
const only = process.argv[4]?.split(',').map(Number);
const WINDOW = 256;

const root = await Flux.open();
const size = Number(await root.attrGet('size'));
const uri0 = process.env.FLUX_URI!;
const rundir = path.dirname(uri0.replace(/^local:\/\//, ''));
const levels = new Map<number, number>();
for (let r = 0; r < size; r++) {
  const h = r === 0 ? root : await Flux.open(`local://${path.join(rundir, `local-${r}`)}`);
  const level = Number(await h.attrGet('tbon.level'));
  if (only ? only.includes(r) : !levels.has(level)) levels.set(only ? r : level, r);
  if (h !== root) h.close();
}

const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** One client's figures (bench/overlay.ts reads them from the JSON line). */
export interface Row {
  rank: number;
  level: number;
  median: number;
  p99: number;
  perSec: number;
  route: string;
}
const rows: Row[] = [];
for (const rank of [...levels.values()].sort((a, b) => a - b)) {
  const h = rank === 0 ? root : await Flux.open(`local://${path.join(rundir, `local-${rank}`)}`);
  const level = Number(await h.attrGet('tbon.level'));
  let route = '';
  for (let i = 0; i < 200; i++) route = (await h.rpc<{ route: string }>('broker.ping', {}, { nodeid: 0 })).route; // warm-up
  const ms: number[] = [];
  for (let i = 0; i < seq; i++) {
    const t = performance.now();
    await h.rpc('broker.ping', {}, { nodeid: 0 });
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (sent < windowed) {
        sent++;
        await h.rpc('broker.ping', {}, { nodeid: 0 });
      }
    }),
  );
  const perSec = windowed / ((performance.now() - t0) / 1000);
  rows.push({ rank, level, median: q(ms, 0.5), p99: q(ms, 0.99), perSec, route });
  if (h !== root) h.close();
}
root.close();
console.log(JSON.stringify({ size, rows }));
