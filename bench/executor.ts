/**
 * The seed's part (b) (FluxExecutor) at 200 and 2,000 jobs of `true` (add 20000 on the command
 * line), each run in a fresh instance (`tsflux start node dist/bench/executor-client.js N ...`),
 * beside the low-level flow (bench/bulk-client.js: submitAsync + wait), the seed's and
 * flux-core's figures, and node's raw spawn rate of /bin/true measured in the same run.
 *
 *   node dist/bench/executor.js [N ...] [--reps=R] [--no-variants] [--no-cpu]
 *
 * (--reps: each row is the median run of R, by run rate.)
 *
 * Rows per N: executor with the journal design (default), with one eventlog watch per job
 * (flux-core's Python design), and the low-level flow. Then the "caller computes" case: 200 jobs
 * submitted, then a 2 s busy loop on the main thread.
 * Prints a table; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rawSpawnRate } from './spawn.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const tsflux = path.join(root, 'bin', 'tsflux.js');

export interface ExecFigures {
  n: number;
  submitRate: number;
  firstFinish: number;
  runRate: number;
  clientCpuS?: number;
  clientRssMiB?: number;
  brokerRssMiB: number;
  brokerCpuS?: number;
  afterLoopS?: number;
  allDoneS?: number;
  loopEndS?: number;
  failed?: number;
  eventsMode?: string;
}

function inInstance(script: string, args: string[]): ExecFigures {
  const r = spawnSync(process.execPath, [tsflux, 'start', process.execPath, path.join(here, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (rc ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ExecFigures;
}

export function runExecutor(n: number, events = 'journal', cpuMs = 0, ready = false): ExecFigures {
  return inInstance('executor-client.js', [
    String(n),
    `--events=${events}`,
    `--cpu=${cpuMs}`,
    ...(ready ? ['--ready'] : []),
  ]);
}

/** Run `fn` reps times and keep the run with the median of `key`. */
function median(reps: number, fn: () => ExecFigures, key: keyof ExecFigures = 'runRate'): ExecFigures {
  const runs = Array.from({ length: reps }, fn).sort((a, b) => Number(a[key]) - Number(b[key]));
  return runs[runs.length >> 1]!;
}

export function runLowLevel(n: number): ExecFigures {
  return inInstance('bulk-client.js', [String(n)]);
}

const f = (x: number | undefined, d = 0) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-');

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

export async function run(
  sizes = [200, 2000],
  opts: { variants?: boolean; cpu?: boolean; reps?: number } = {},
): Promise<Record<string, number>> {
  const variants = opts.variants ?? true;
  const reps = Math.max(1, opts.reps ?? 1);
  const raw = await rawSpawnRate();
  const out: Record<string, number> = { rawSpawnPerSec: raw };
  const rows: string[][] = [
    [
      '',
      'submit job/s',
      'first finish s',
      'run job/s',
      'run % of low-level',
      'run % of raw spawn',
      'client CPU s',
      'broker CPU s',
      'client RSS MiB',
      'broker RSS MiB',
    ],
  ];
  rows.push(['seed (flux, 3 nodes), 200 jobs', '441', '1.035', '24.4']);
  rows.push(['flux-core measured here, 200 jobs', '495', '', '46.5']);
  rows.push(['flux-core measured here, 2000 jobs', '992', '', '45.5']);
  for (const n of sizes) {
    const low = median(reps, () => runLowLevel(n));
    const cases: [string, string][] = [['journal', 'executor (journal)']];
    if (variants) cases.push(['watch', 'executor (eventlog-watch per job)']);
    for (const [events, label] of cases) {
      const e = median(reps, () => runExecutor(n, events));
      rows.push([
        `tsflux ${n} jobs, ${label}`,
        f(e.submitRate),
        f(e.firstFinish, 3),
        f(e.runRate, 1),
        f((100 * e.runRate) / low.runRate) + ' %',
        f((100 * e.runRate) / raw) + ' %',
        f(e.clientCpuS, 2),
        f(e.brokerCpuS, 2),
        f(e.clientRssMiB),
        f(e.brokerRssMiB),
      ]);
      const k = `${events}-${n}`;
      out[`submit:${k}`] = e.submitRate;
      out[`run:${k}`] = e.runRate;
      out[`cpu:${k}`] = e.clientCpuS ?? NaN;
      out[`brokerCpu:${k}`] = e.brokerCpuS ?? NaN;
    }
    rows.push([
      `tsflux ${n} jobs, low-level (submitAsync + wait)`,
      f(low.submitRate),
      f(low.firstFinish, 3),
      f(low.runRate, 1),
      '100 %',
      f((100 * low.runRate) / raw) + ' %',
      '',
      '',
      '',
      f(low.brokerRssMiB),
    ]);
    out[`submit:low-${n}`] = low.submitRate;
    out[`run:low-${n}`] = low.runRate;
  }
  rows.push(['node raw spawn of /bin/true (same run)', '', '', f(raw, 0), '', '100 %']);
  console.log(table(rows));

  if (opts.cpu ?? true) {
    const n = 200;
    const rows2: string[][] = [
      [
        '200 jobs, then a 2 s CPU loop on the main thread',
        'loop ends s',
        'all done s',
        'all done after loop s',
        'run job/s',
      ],
    ];
    const cases: [string, boolean][] = [
      ['executor', false],
      ['executor, after await executor.ready()', true],
    ];
    for (const [label, ready] of cases) {
      const e = median(reps, () => runExecutor(n, 'journal', 2000, ready), 'afterLoopS');
      rows2.push([label, f(e.loopEndS, 2), f(e.allDoneS, 2), f(e.afterLoopS, 2), f(e.runRate, 1)]);
      out[`afterLoop${ready ? ':ready' : ''}`] = e.afterLoopS ?? NaN;
    }
    console.log('');
    console.log(table(rows2));
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const sizes = argv
    .filter((a) => !a.startsWith('--'))
    .map(Number)
    .filter((x) => x > 0);
  const reps = Number(argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 1);
  await run(sizes.length ? sizes : undefined, {
    variants: !argv.includes('--no-variants'),
    cpu: !argv.includes('--no-cpu'),
    reps,
  });
}
