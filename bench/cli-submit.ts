/**
 * Bulk submission by the CLI against the client library: `tsflux submit --cc=1-N` and `--bcc`
 * beside the library submitting the same jobspecs, N held jobs of `true` (urgency 0), each row
 * in a fresh instance (`tsflux start node dist/bench/cli-submit-client.js MODE N`), with
 * flux-core's figure for this kind of machine. Prints a table; asserts nothing.
 * Usage: node dist/bench/cli-submit.js [N ...]   (default 20000)
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsflux = path.resolve(here, '../../bin/tsflux.js');
const client = path.join(here, 'cli-submit-client.js');

const MODES = [
  ['lib-same', 'library, one jobspec N times (bench/bulk)'],
  ['lib-cc', 'library, the N jobspecs of --cc'],
  ['cli-cc', 'tsflux submit --cc=1-N (whole command)'],
  ['cli-bcc', 'tsflux submit --bcc=1-N (whole command)'],
] as const;

/** One row in a fresh instance: submit seconds. */
function row(mode: string, n: number): number {
  const r = spawnSync(process.execPath, [tsflux, 'start', process.execPath, client, mode, String(n)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${mode} ${n} failed (rc ${r.status}): ${r.stderr}`);
  const line = r.stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${mode} ${n}: no figures in ${JSON.stringify(r.stdout)}`);
  return (JSON.parse(line) as { seconds: number }).seconds;
}

export async function run(sizes = [20000]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rows: string[][] = [['', 'N', 'seconds', 'submit job/s']];
  rows.push(['flux-core, this kind of machine (library)', '', '', '1100']);
  for (const n of sizes) {
    for (const [mode, label] of MODES) {
      const s = row(mode, n);
      out[`${mode}${n}`] = n / s;
      rows.push([label, String(n), s.toFixed(2), (n / s).toFixed(0)]);
    }
  }
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; held jobs of true, urgency 0`,
  );
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  await run(sizes.length ? sizes : undefined);
}
