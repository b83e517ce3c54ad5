/**
 * The seed's part (a) flow as a benchmark client (run inside an instance by bench/bulk.ts):
 * submit N copies of a jobspec asynchronously, then wait for each in any order; BULK_ROUNDS
 * times (default 1) in the same instance. Prints one JSON line of figures per round.
 */
import { Flux } from '../src/client/handle.js';
import * as job from '../src/client/job/index.js';
import { JobspecV1 } from '../src/job/jobspec.js';
import fs from 'node:fs';

/** Which task launcher the broker runs: its child named tsflux-launcher (native) or tsflux-spawner (node). */
function launcherOf(pid: string): string {
  try {
    for (const child of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
      const comm = fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim();
      if (comm === 'tsflux-launcher') return 'native';
      if (comm === 'tsflux-spawner') return 'node';
    }
  } catch {
    /* not Linux, or gone */
  }
  return '?';
}

function rssMiB(pid: string): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const n = Number(process.argv[2] ?? 1025);
const rounds = Math.max(1, Number(process.env.BULK_ROUNDS ?? 1) || 1);
const cmd = process.argv.slice(3);
const spec = JobspecV1.fromCommand(cmd.length ? cmd : ['true'], {
  environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
}).dumps();

const h = await Flux.open();
// RPC round trip: a ping loop, one at a time.
const lat: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t = performance.now();
  await h.rpc('broker.ping', { seq: i });
  lat.push(performance.now() - t);
}
lat.sort((a, b) => a - b);

/** One pass of the seed's flow: submit n, then wait for each in any order. */
async function flow(): Promise<{ submitted: number; tSubmit: number; first: number; tRun: number }> {
  const t0 = performance.now();
  let submitted = 0;
  for (let i = 0; i < n; i++) void job.submitAsync(h, spec, { waitable: true }).then(() => submitted++);
  await h.reactorRun();
  const tSubmit = (performance.now() - t0) / 1000;
  let first = 0;
  for (let i = 0; i < n; i++) {
    const r = await job.wait(h);
    if (!r.success) throw new Error(`job ${r.jobid} failed: ${r.errstr}`);
    if (i === 0) first = (performance.now() - t0) / 1000;
  }
  return { submitted, tSubmit, first, tRun: (performance.now() - t0) / 1000 };
}

const brokerPid = await h.attrGet('broker.pid');
const launcher = launcherOf(brokerPid);
// Round 1 is a fresh instance (what a user's first bulk submission meets: nothing compiled
// by V8 yet, heap not grown); later rounds run in the same instance, as in a long allocation.
for (let round = 1; round <= rounds; round++) {
  const r = await flow();
  process.stdout.write(
    JSON.stringify({
      round,
      n: r.submitted,
      submitRate: r.submitted / r.tSubmit,
      firstFinish: r.first,
      runRate: n / r.tRun,
      pingMedianMs: lat[lat.length >> 1],
      pingP99Ms: lat[Math.floor(lat.length * 0.99)],
      brokerRssMiB: rssMiB(brokerPid),
      launcher,
    }) + '\n',
  );
}
h.close();
