/**
 * The seed's part (a) at 1025 and 20,000 jobs of `true`, each in a fresh instance
 * (`tsflux start node dist/bench/bulk-client.js N`), beside the seed's and flux-core's figures
 * and node's raw spawn rate of /bin/true measured in the same run. Prints a table; asserts
 * nothing. Usage: node dist/bench/bulk.js [--test-size=B] [N ...]; with --test-size each size
 * also runs in an instance of B brokers (`tsflux start --test-size=B`, jobs on every rank),
 * beside one broker.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rawSpawnRate } from './spawn.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const tsflux = path.join(root, 'bin', 'tsflux.js');
const client = path.join(here, 'bulk-client.js');

export interface BulkFigures {
  n: number;
  submitRate: number;
  firstFinish: number;
  runRate: number;
  pingMedianMs: number;
  pingP99Ms: number;
  brokerRssMiB: number;
  /** The broker's task launcher: 'native', 'node' (TSFLUX_LAUNCHER chooses), or '?'. */
  launcher: string;
}

/** The flow `rounds` times in one fresh instance (on a durable store with `store`): the figures of each round. */
export function runBulk(n: number, rounds = 1, cores?: string, store?: string, brokers = 1): BulkFigures[] {
  const args = [
    tsflux,
    'start',
    ...(brokers > 1 ? [`--test-size=${brokers}`] : []),
    ...(cores ? [`--cores=${cores}`] : []),
    ...(store ? ['--store', store] : []),
    process.execPath,
    client,
    String(n),
  ];
  const env = { ...process.env, BULK_ROUNDS: String(rounds) };
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) throw new Error(`bulk run of ${n} failed (rc ${r.status}): ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as BulkFigures);
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

export async function run(sizes = [1025, 20000], brokers = 1): Promise<Record<string, number>> {
  const raw = await rawSpawnRate();
  const rows: string[][] = [];
  const out: Record<string, number> = { rawSpawnPerSec: raw };
  let launcher = '?';
  rows.push(['', 'submit job/s', 'first finish s', 'run job/s', 'run % of raw spawn', 'broker peak RSS MiB']);
  rows.push(['seed (flux, 3 nodes)', '337', '3.089', '29.4', '', '']);
  rows.push(['flux-core, this kind of machine', '1082', '1.097', '51.9', '', '']);
  for (const n of sizes) {
    for (const size of brokers > 1 ? [1, brokers] : [1]) {
      // A fresh instance, then the same flow again in it (V8 warm, heap grown).
      const [b, again] = runBulk(n, 2, undefined, undefined, size);
      const tag = size > 1 ? `, ${size} brokers` : brokers > 1 ? ', 1 broker' : '';
      const k = size > 1 ? `Size${size}` : '';
      for (const [x, label, key] of [
        [b!, 'fresh instance', k],
        [again!, 'again, same instance', `Again${k}`],
      ] as const) {
        rows.push([
          `tsflux ${n} jobs${tag}, ${label}`,
          f(x.submitRate),
          f(x.firstFinish, 3),
          f(x.runRate, 1),
          f((100 * x.runRate) / raw, 0) + ' %',
          f(x.brokerRssMiB, 0),
        ]);
        out[`submit${key}${n}`] = x.submitRate;
        out[`first${key}${n}`] = x.firstFinish;
        out[`run${key}${n}`] = x.runRate;
      }
      if (size > 1) continue;
      out[`pingMedianMs${n}`] = b!.pingMedianMs;
      out[`pingP99Ms${n}`] = b!.pingP99Ms;
      launcher = b!.launcher;
    }
  }
  rows.push([`node raw spawn of /bin/true (same run)`, '', '', f(raw, 0), '100 %', '']);
  console.log(`task launcher: ${launcher} (TSFLUX_LAUNCHER=node|native chooses); broker RSS is its peak so far`);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  console.log(
    `RPC round trip (broker.ping, 2000 sequential): median ${f(out[`pingMedianMs${sizes[0]}`]!, 3)} ms, p99 ${f(out[`pingP99Ms${sizes[0]}`]!, 3)} ms`,
  );
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const b = args.find((a) => a.startsWith('--test-size='));
  const brokers = b === undefined ? 1 : Number(b.slice('--test-size='.length));
  if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`bad ${b}`);
  const sizes = args
    .filter((a) => !a.startsWith('--'))
    .map(Number)
    .filter((x) => x > 0);
  await run(sizes.length ? sizes : undefined, brokers);
}
