/**
 * The client half of bench/output.ts, run inside an instance (`tsflux start node
 * dist/bench/output-client.js MIB`): a job prints MIB MiB (`yes | head -c`) while one `tsflux job
 * attach` copies it to /dev/null and another is stalled (its stdout is a pipe nobody reads); the
 * broker's resident memory is sampled before, during and after. Then attach replays the inactive
 * job's output to /dev/null, timed, and `tsflux job info ID guest.output` is asked for it whole.
 * Prints one JSON line of figures.
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
const mib = Number(process.argv[2] ?? 1024);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function cli(args: string[], stdout: 'ignore' | 'pipe'): ChildProcess {
  return spawn(process.execPath, [tsflux, ...args], { stdio: ['ignore', stdout, 'pipe'] });
}

const exited = (c: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.on('exit', (code) => resolve(code))));

const h = await Flux.open();
const broker = Number(await h.attrGet('broker.pid'));
const before = rssMiB(broker);
const spec = JobspecV1.fromCommand(['sh', '-c', `yes | head -c ${mib}M`], {
  environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
});
const t0 = performance.now();
const id = await job.submit(h, spec, { waitable: true });
const f58 = encodeJobId(id, 'f58');
const live = cli(['job', 'attach', f58], 'ignore');
const stalled = cli(['job', 'attach', f58], 'pipe'); // its stdout is never read
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(broker))), 100);
const r = await job.wait(h, id);
const ran = (performance.now() - t0) / 1000;
const liveRc = await exited(live);
const liveDone = (performance.now() - t0) / 1000;
const during = peak;
const afterJob = rssMiB(broker);
stalled.kill('SIGKILL');
await exited(stalled);

// replay of the inactive job, to /dev/null
const t1 = performance.now();
const replay = cli(['job', 'attach', f58], 'ignore');
const replayRc = await exited(replay);
const replaySec = (performance.now() - t1) / 1000;
clearInterval(sampler);
const afterReplay = rssMiB(broker);

// a lookup of it whole
const info = cli(['job', 'info', f58, 'guest.output'], 'pipe');
let infoErr = '';
info.stderr!.on('data', (b: Buffer) => (infoErr += b.toString()));
const infoRc = await exited(info);

console.log(
  JSON.stringify({
    mib,
    success: r.success,
    jobSec: ran,
    liveAttachSec: liveDone,
    liveRc,
    rssBefore: before,
    rssPeakDuring: during,
    rssAfterJob: afterJob,
    replaySec,
    replayRc,
    replayMiBs: mib / replaySec,
    rssPeakWithReplay: peak,
    rssAfterReplay: afterReplay,
    infoRc,
    infoErr: infoErr.trim(),
  }),
);
h.close();
