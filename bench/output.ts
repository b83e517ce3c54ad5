/**
 * A job that prints a lot (default 1 GiB), with a durable store (`--store`), each figure in a
 * fresh instance: the broker's resident memory idle, and at its peak while a job prints with
 * nobody attached, while one prints with an attach copying it and another stalled, and while
 * `tsflux job attach` replays the inactive job's output (an instance restarted on the store);
 * how fast that replay is; and, in the same run, how fast the machine reads the store file
 * (`cat`, from the page cache as the replay does, and `dd iflag=direct`, from the disk).
 * Once for `yes` output (a newline every 2 bytes: the most JSON escaping for Flux's readers;
 * tsflux's attach copies the bytes) and once for base64
 * lines. Prints a table; asserts nothing.
 * Usage: node dist/bench/output.js [MIB] [yes|base64 ...]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsflux = path.resolve(here, '../../bin/tsflux.js');
const client = path.join(here, 'output-client.js');

interface Figures {
  ok: boolean;
  id: string;
  idle: number;
  peak: number;
  sec: number;
}

/** One fresh instance on `store` running output-client.js with `args`. */
function once(store: string, args: string[]): Figures {
  const argv = [tsflux, 'start', '--store', store, process.execPath, client, ...args];
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`output bench failed (rc ${r.status}): ${r.stderr}`);
  const line = r.stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{'));
  const x = JSON.parse(line!) as Figures;
  if (!x.ok) throw new Error(`a job or an attach failed: ${args.join(' ')}`);
  return x;
}

/** MiB/s of reading `file` whole with `argv` (its output discarded). */
function readRate(argv: string[], file: string): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const sec = (performance.now() - t0) / 1000;
  if (r.status !== 0) return NaN; // e.g. a file system without O_DIRECT
  return fs.statSync(file).size / 2 ** 20 / sec;
}

export function run(mib = 1024, kinds = ['yes', 'base64']): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-bench-output-'));
  const f = (x: number, d = 0) => (Number.isNaN(x) ? '-' : x.toFixed(d));
  try {
    const rows: string[][] = [
      [
        `${mib} MiB of output`,
        'idle',
        'peak, none attached',
        'peak, attached',
        'peak, replay',
        'job s, none attached',
        'replay MiB/s',
        'store MiB',
        'cat MiB/s',
        'dd direct MiB/s',
      ],
    ];
    for (const kind of kinds) {
      const store = path.join(dir, `${kind}.db`);
      const other = path.join(dir, `${kind}-attached.db`);
      const quiet = once(store, ['quiet', String(mib), kind]);
      const attached = once(other, ['attached', String(mib), kind]);
      const replay = once(store, ['replay', String(mib), kind, quiet.id]);
      const size = fs.statSync(store).size / 2 ** 20;
      const cat = readRate(['cat', store], store);
      const dd = readRate(['dd', `if=${store}`, 'of=/dev/null', 'bs=4M', 'iflag=direct'], store);
      const peak = (x: Figures) => `${f(x.peak)} (+${f(x.peak - x.idle)})`;
      rows.push([
        kind,
        f(quiet.idle),
        peak(quiet),
        peak(attached),
        peak(replay),
        f(quiet.sec, 1),
        f(mib / replay.sec),
        f(size),
        f(cat),
        f(dd),
      ]);
      for (const file of [store, other]) for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
    }
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(
      'broker resident memory (VmRSS) in MiB; attached: one attach copies the output to /dev/null, another is stalled;',
    );
    console.log('replay: attach of the inactive job to /dev/null, MiB of output per second');
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const kinds = process.argv.slice(3);
  run(process.argv[2] ? Number(process.argv[2]) : undefined, kinds.length ? kinds : undefined);
}
