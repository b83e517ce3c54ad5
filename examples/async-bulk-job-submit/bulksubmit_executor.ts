#!/usr/bin/env tsx
// Submit a command repeatedly through a FluxExecutor and watch the futures complete:
// the seed's bulksubmit_executor.py (part b), with tsflux.
import { Command, InvalidArgumentError } from 'commander';
import { FluxExecutor, JobspecV1, ProgressBar } from 'tsflux';

const label = 'bulksubmit_executor';
const log = (s: string) => process.stdout.write(`${label}: ${s}\n`);

const program = new Command()
  .name('bulksubmit_executor.ts')
  .description('Submit a command repeatedly using FluxExecutor')
  .option(
    '-n, --njobs <N>',
    'Set the total number of jobs to run',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
      return n;
    },
    100,
  )
  .argument('[command...]', 'the command to run (default: true)')
  .passThroughOptions()
  .parse();

const njobs: number = program.opts().njobs;
const command: string[] = program.args.length > 0 ? program.args : ['true'];

const t0 = performance.now();
const bar = new ProgressBar({ length: 58 });
let count = 0;
let firstDone = 0;
let submitted = false;
const showFirst = () => log(`First job finished in about ${(firstDone / 1000).toFixed(3)}s`);
// done callback: count the job and draw the bar (held back until the "submitted" line is out)
const progress = () => {
  count++;
  if (count === 1) firstDone = performance.now() - t0;
  if (!submitted) return;
  if (count === 1) showFirst();
  bar.update(count, njobs, t0);
};

{
  await using executor = new FluxExecutor();
  const jobspec = JobspecV1.fromCommand(command);
  const futures = Array.from({ length: njobs }, () => executor.submit(jobspec).addDoneCallback(progress));
  // wait for the jobid of each job, as a proxy for the job being submitted
  for (const fut of futures) await fut.jobid();
  const dt = (performance.now() - t0) / 1000;
  log(`submitted ${njobs} jobs in ${dt.toFixed(2)}s. ${(njobs / dt).toFixed(2)}job/s`);
  submitted = true;
  if (count > 0) {
    showFirst();
    bar.update(count, njobs, t0);
  }
  // leaving the block waits for every job to complete (executor.shutdown())
}

const dt = (performance.now() - t0) / 1000;
log(`Ran ${njobs} jobs in ${dt.toFixed(1)}s. ${(njobs / dt).toFixed(1)} job/s`);
