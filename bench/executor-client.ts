/**
 * The seed's part (b) flow as a benchmark client, run inside an instance by bench/executor.ts:
 *
 *   node dist/bench/executor-client.js N [--events=journal|watch] [--ready] [--cpu=MS]
 *
 * --ready awaits executor.ready() before submitting.
 * Submits N jobs of `true` through a FluxExecutor, counts them done in a done callback, shuts
 * the executor down, and prints one JSON line of figures. With --cpu=MS the caller busy-loops
 * for MS right after submitting (the "caller computes" case): the figures then tell how long
 * after the loop the futures were all done.
 */
import fs from 'node:fs';
import { Flux } from '../src/client/handle.js';
import { FluxExecutor } from '../src/client/executor/index.js';
import { JobspecV1 } from '../src/job/jobspec.js';
import type { EventsMode } from '../src/client/executor/engine.js';

/** CPU seconds (user+system) a process has used, from /proc. */
function cpuS(pid: string | number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in USER_HZ
  } catch {
    return NaN;
  }
}

function rssMiB(pid: string | number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const n = Number(args.find((a) => !a.startsWith('--')) ?? 200);
const events = opt('events', 'journal') as EventsMode;
const cpuMs = Number(opt('cpu', '0'));
const awaitReady = args.includes('--ready');

const spec = JobspecV1.fromCommand(['true'], { environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

const hb = await Flux.open();
const brokerPid = await hb.attrGet('broker.pid');
hb.close();
const b0 = cpuS(brokerPid);
const c0 = process.cpuUsage();
const t0 = performance.now();
const executor = new FluxExecutor({ events });
if (awaitReady) await executor.ready();
let count = 0;
let first = 0;
let lastDone = 0;
let failed = 0;
const futures = [];
for (let i = 0; i < n; i++) {
  const fut = executor.submit(spec);
  fut.addDoneCallback((f) => {
    if (f.exceptionValue) failed++;
    count++;
    if (count === 1) first = performance.now() - t0;
    if (count === n) lastDone = performance.now() - t0;
  });
  futures.push(fut);
}
let loopEnd = 0;
if (cpuMs > 0) {
  const until = performance.now() + cpuMs;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  loopEnd = performance.now() - t0;
}
for (const f of futures) await f.jobid();
const tSubmit = performance.now() - t0;
await executor.shutdown({ wait: true });
const tRun = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const brokerCpu = cpuS(brokerPid) - b0;

process.stdout.write(
  JSON.stringify({
    n,
    events,
    cpuMs,
    awaitReady,
    failed,
    submitRate: n / (tSubmit / 1000),
    firstFinish: first / 1000,
    runRate: n / (tRun / 1000),
    allDoneS: lastDone / 1000,
    loopEndS: loopEnd / 1000,
    afterLoopS: cpuMs > 0 ? (lastDone - loopEnd) / 1000 : 0,
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    clientRssMiB: rssMiB(process.pid),
    brokerRssMiB: rssMiB(brokerPid),
    brokerCpuS: brokerCpu,
    eventsMode: executor.eventsMode,
  }) + '\n',
);
