/**
 * A job that prints a lot (default 1 GiB): broker resident memory before, during (one attach
 * copying the output, one stalled) and after, the time attach takes to replay the inactive job's
 * output, and what `job info ID guest.output` says. In a fresh instance with a scratch store, then
 * with a durable one (`--store`). Prints a table; asserts nothing.
 * Usage: node dist/bench/output.js [MIB]
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
  mib: number;
  success: boolean;
  jobSec: number;
  liveAttachSec: number;
  rssBefore: number;
  rssPeakDuring: number;
  rssAfterJob: number;
  replaySec: number;
  replayMiBs: number;
  rssPeakWithReplay: number;
  rssAfterReplay: number;
  infoErr: string;
}

function once(mib: number, store?: string): Figures {
  const args = [tsflux, 'start', ...(store ? ['--store', store] : []), process.execPath, client, String(mib)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`output bench failed (rc ${r.status}): ${r.stderr}`);
  const line = r.stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{'));
  return JSON.parse(line!) as Figures;
}

export function run(mib = 1024): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-bench-output-'));
  const f = (x: number, d = 0) => x.toFixed(d);
  try {
    const rows: string[][] = [
      [
        `${mib} MiB of output`,
        'job s',
        'live attach s',
        'RSS before',
        'peak during',
        'after job',
        'replay MiB/s',
        'peak w/ replay',
        'after replay',
      ],
    ];
    let info = '';
    for (const [label, store] of [
      ['scratch store', undefined],
      ['durable store (--store)', path.join(dir, 'state.db')],
    ] as const) {
      const x = once(mib, store);
      if (!x.success) throw new Error(`the job failed (${label})`);
      rows.push([
        label,
        f(x.jobSec, 1),
        f(x.liveAttachSec, 1),
        f(x.rssBefore),
        f(x.rssPeakDuring),
        f(x.rssAfterJob),
        f(x.replayMiBs),
        f(x.rssPeakWithReplay),
        f(x.rssAfterReplay),
      ]);
      info = x.infoErr;
      if (store) for (const s of ['', '-wal', '-shm']) fs.rmSync(store + s, { force: true });
    }
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log('broker resident memory in MiB; one attach copies the output to /dev/null, another is stalled');
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
    console.log(`job info ID guest.output: ${info}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run(process.argv[2] ? Number(process.argv[2]) : undefined);
}
