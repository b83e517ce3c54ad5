/**
 * The tree overlay: what a request costs per link, and how many a parent can route.
 *
 *   node dist/bench/overlay.js [--seq=2000] [--windowed=20000]
 *
 * Two instances, each `tsflux start --test-size=N ... node dist/bench/overlay-client.js`:
 *   - size 3 (Flux's default kary:32: ranks 1 and 2 are children of rank 0), the case:
 *     `broker.ping` to rank 0 from a client on rank 0 and from one on rank 2;
 *   - size 15 at kary:2 (levels 0..3), a client on the first rank of each level: the cost of
 *     each link a request climbs, which is what a 1,000-node instance's depth multiplies.
 * For each: sequential round trips (median, p99) and pings with 256 in flight (per second).
 * Then the model of the README's "1,000 nodes" plan, fed with these figures: the tree's depth
 * and rank 0's children at kary:32 for 1,000 and 10,000 brokers, and the round trip from the
 * deepest rank; then bench/overlay-plan.ts's simulation of rank 0's load with the cost of one
 * message measured here. Prints tables; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topology } from '../src/broker/overlay/topology.js';
import { run as plan1000 } from './overlay-plan.js';
import type { Row } from './overlay-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsflux = path.resolve(here, '../../bin/tsflux.js');

function inInstance(size: number, fanout: number, seq: number, windowed: number, ranks?: string): Row[] {
  const r = spawnSync(
    process.execPath,
    [
      tsflux,
      'start',
      `--test-size=${size}`,
      `-o,-Stbon.fanout=${fanout}`,
      process.execPath,
      path.join(here, 'overlay-client.js'),
      String(seq),
      String(windowed),
      ...(ranks ? [ranks] : []),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`--test-size=${size} failed (rc ${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: Row[] }).rows;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

export function run(seq = 2000, windowed = 20000): void {
  console.log(`load average ${os.loadavg()[0]!.toFixed(1)}, ${os.cpus().length} cores; broker.ping to rank 0`);
  const head = ['client on', 'links to rank 0', 'median ms', 'p99 ms', 'pings/s (256 in flight)'];
  const fmt = (r: Row): string[] => [
    `rank ${r.rank}`,
    String(r.level),
    r.median.toFixed(3),
    r.p99.toFixed(3),
    r.perSec.toFixed(0),
  ];
  const small = inInstance(3, 32, seq, windowed, '0,2');
  console.log('\n--test-size=3 (kary:32; flux-core on this kind of machine: ~1,050 job/s submit, ~50 run)');
  console.log(table([head, ...small.map(fmt)]));
  const deep = inInstance(15, 2, seq, windowed);
  console.log('\n--test-size=15 -o,-Stbon.fanout=2 (levels 0-3)');
  console.log(table([head, ...deep.map(fmt)]));

  // Per-link cost: the slope of the median over the levels of the deep tree.
  const l0 = deep.find((r) => r.level === 0)!;
  const far = deep.reduce((a, b) => (b.level > a.level ? b : a));
  const perLink = far.level > 0 ? (far.median - l0.median) / far.level : NaN;
  console.log(`\nper link climbed: +${perLink.toFixed(3)} ms median (from level 0 to level ${far.level})`);
  const plan: string[][] = [
    ['brokers (kary:32)', 'depth', "rank 0's children", 'ranks under each', 'ping rank 0 from the deepest, ms'],
  ];
  for (const n of [3, 16, 1000, 10000]) {
    const t = new Topology(n, 32);
    const kids = t.children(0);
    plan.push([
      String(n),
      String(t.maxlevel),
      String(kids.length),
      String(Math.max(0, ...kids.map((k) => t.descendants(k) + 1))),
      (l0.median + perLink * t.maxlevel).toFixed(3),
    ]);
  }
  console.log(table(plan));

  // The simulation of bench/overlay-plan.ts, with this run's cost of a message at rank 0: a
  // ping from rank 2 is one message received and one sent there, and the 256-in-flight rate
  // bounds it from above (rank 0 shares these 2 cores with rank 2's broker and the client).
  const r2 = small.find((r) => r.rank === 2)!;
  const usPerMsg = 1e6 / (2 * r2.perSec);
  console.log(`\none message at rank 0: at most ${usPerMsg.toFixed(1)} µs (from rank 2's pings, 256 in flight)`);
  plan1000(Number(usPerMsg.toFixed(1)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (k: string, d: number): number => {
    const a = process.argv.find((x) => x.startsWith(`--${k}=`));
    return a ? Number(a.slice(k.length + 3)) : d;
  };
  run(arg('seq', 2000), arg('windowed', 20000));
}
