#!/usr/bin/env tsx
// Asynchronously submit jobspec files and wait for them to finish in any order:
// the seed's bulksubmit.py (part a), line for line, with tsflux.
import fs from 'node:fs';
import { Flux, job, ProgressBar } from 'tsflux';

const label = 'bulksubmit';
const log = (s: string) => process.stdout.write(`${label}: ${s}\n`);

const jobs: bigint[] = [];
const submitCb = (id: bigint) => jobs.push(id);

log('Starting...');
const t0 = performance.now();
const h = new Flux();
for (const file of process.argv.slice(2)) {
  const jobspec = fs.readFileSync(file, 'utf8');
  void job.submitAsync(h, jobspec, { waitable: true }).then(submitCb); // a failed submit ends the script, as in the seed
}
if ((await h.reactorRun()) < 0) throw new Error('reactor start failed');

const total = jobs.length;
let dt = (performance.now() - t0) / 1000;
log(`submitted ${total} jobs in ${dt.toFixed(2)}s. ${(total / dt).toFixed(2)}job/s`);

const bar = new ProgressBar({ length: 58 });
let count = 0;
while (count < total) {
  // wait for jobs to complete in any order
  await job.wait(h);
  count++;
  if (count === 1) log(`First job finished in about ${((performance.now() - t0) / 1000).toFixed(3)}s`);
  bar.update(count, total, t0);
}
dt = (performance.now() - t0) / 1000;
log(`Ran ${total} jobs in ${dt.toFixed(1)}s. ${(total / dt).toFixed(1)} job/s`);
h.close();
