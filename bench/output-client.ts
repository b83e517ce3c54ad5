/**
 * The client half of bench/output.ts, run inside a fresh instance (`tsflux start --store FILE
 * node dist/bench/output-client.js MODE MIB KIND [ID]`). Samples the broker's resident memory
 * (VmRSS in /proc/PID/status, every 20 ms) idle, then at its peak while (MODE) `quiet`: a job
 * prints MIB MiB with nobody attached; `attached`: as much with one `tsflux job attach` copying
 * it to /dev/null and another stalled (its stdout a pipe nobody reads); `replay`: attach copies
 * the output of job ID (inactive, of an earlier instance on the store) to /dev/null. KIND is `yes`
 * (`yes | head -c`: a newline every 2 bytes, the most JSON escaping
 * for Flux's readers) or `base64` (`head -c N
 * /dev/zero | base64`: lines of 76). Prints one JSON line, with the time it took.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flux } from '../src/client/handle.js';
import * as job from '../src/client/job/index.js';
import { JobspecV1 } from '../src/job/jobspec.js';
import { encodeJobId } from '../src/job/jobid.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsflux = path.resolve(here, '../../bin/tsflux.js');
const mode = process.argv[2] ?? 'quiet';
const mib = Number(process.argv[3] ?? 1024);
const kind = process.argv[4] ?? 'yes';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The highest VmRSS seen from start() until stop(). */
function sampler(pid: number): { stop: () => number } {
  let peak = rssMiB(pid);
  const t = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

function cli(args: string[], stdout: 'ignore' | 'pipe'): ChildProcess {
  return spawn(process.execPath, [tsflux, ...args], { stdio: ['ignore', stdout, 'pipe'] });
}

const exited = (c: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.on('exit', (code) => resolve(code))));

const cmd =
  kind === 'base64'
    ? `head -c ${Math.round((mib * 1024 * 1024 * 57) / 77)} /dev/zero | base64` // 76 + \n per 57 bytes: MIB MiB
    : `yes | head -c ${mib}M`;
const spec = (): JobspecV1 =>
  JobspecV1.fromCommand(['sh', '-c', cmd], { environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

const h = await Flux.open();
const broker = Number(await h.attrGet('broker.pid'));
await new Promise((r) => setTimeout(r, 500));
const idle = rssMiB(broker);
const s = sampler(broker);
const t0 = performance.now();
let id: bigint;
let ok: boolean;
if (mode === 'replay') {
  // the output of a job of an earlier instance on this store, to /dev/null
  id = BigInt(process.argv[5]!);
  ok = (await exited(cli(['job', 'attach', encodeJobId(id, 'f58')], 'ignore'))) === 0;
} else {
  id = await job.submit(h, spec(), { waitable: true });
  let attaches: Promise<boolean> = Promise.resolve(true);
  if (mode === 'attached') {
    const f58 = encodeJobId(id, 'f58');
    const live = cli(['job', 'attach', f58], 'ignore');
    const stalled = cli(['job', 'attach', f58], 'pipe'); // its stdout is never read
    attaches = exited(live).then(async (rc) => {
      stalled.kill('SIGKILL');
      await exited(stalled);
      return rc === 0;
    });
  }
  ok = (await job.wait(h, id)).success && (await attaches);
}
const sec = (performance.now() - t0) / 1000;
const peak = s.stop();
console.log(JSON.stringify({ mode, mib, kind, ok, id: String(id), idle, peak, sec }));
h.close();
