/**
 * One row of bench/cli-submit.ts, run inside a fresh instance (`tsflux start node
 * dist/bench/cli-submit-client.js MODE N`): N held jobs of `true` (urgency 0) submitted
 *
 *   lib-same   by the client library, one jobspec N times, all requests at once (bench/bulk's way)
 *   lib-cc     by the client library, the N jobspecs of `submit --cc=1-N` (FLUX_JOB_CC differs)
 *   cli-cc     by `tsflux submit --cc=1-N --urgency=0 true` (a whole process: start-up included)
 *   cli-bcc    by `tsflux submit --bcc=1-N --urgency=0 true` (the same jobspec N times)
 *
 * Library rows use the jobspec texts the CLI builds (this process's environment), so the rows
 * differ only in who submits. Prints one JSON line: {mode, n, seconds, rate}.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flux } from '../src/client/handle.js';
import { submitAsync } from '../src/client/job/submit.js';
import { ccJobspecs } from '../src/cli/lib/cc-jobspecs.js';
import { parseIdset } from '../src/job/idset.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsflux = path.resolve(here, '../../bin/tsflux.js');

const mode = process.argv[2] ?? 'cli-cc';
const n = Number(process.argv[3] ?? 20000);

/** The library's bulk path: every submit sent at once, then all answers awaited. */
async function library(texts: (i: number) => string): Promise<number> {
  const h = await Flux.open();
  await h.rpc('broker.ping', {}); // connected and answering before the clock starts
  const t0 = performance.now();
  const all: Promise<bigint>[] = [];
  for (let i = 0; i < n; i++) all.push(submitAsync(h, texts(i), { urgency: 0 }));
  await Promise.all(all);
  const s = (performance.now() - t0) / 1000;
  h.close();
  return s;
}

/** The CLI as a user runs it: the whole command, its ids read from a pipe and counted. */
function cli(option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [tsflux, 'submit', `${option}=1-${n}`, '--urgency=0', 'true'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let lines = 0;
    child.stdout.on('data', (b: Buffer) => {
      for (const c of b) if (c === 10) lines++;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code !== 0 || lines !== n) reject(new Error(`tsflux submit ${option}: rc ${code}, ${lines} of ${n} ids`));
      else resolve(s);
    });
  });
}

let seconds: number;
if (mode === 'lib-same') {
  const text = ccJobspecs(['true'], {}, [undefined])(undefined);
  seconds = await library(() => text);
} else if (mode === 'lib-cc') {
  const ids = parseIdset(`1-${n}`);
  const texts = ccJobspecs(['true'], { cc: `1-${n}` }, ids);
  seconds = await library((i) => texts(ids[i]));
} else if (mode === 'cli-cc' || mode === 'cli-bcc') {
  seconds = await cli(mode === 'cli-cc' ? '--cc' : '--bcc');
} else {
  throw new Error(`unknown mode ${mode} (lib-same, lib-cc, cli-cc, cli-bcc)`);
}
process.stdout.write(JSON.stringify({ mode, n, seconds, rate: n / seconds }) + '\n');
