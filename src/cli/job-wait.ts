/**
 * `tsflux job wait [--all] [-v] [ID]` — Flux's `flux job wait` (src/cmd/job/wait.c): reap
 * waitable jobs with job-manager.wait.
 *
 * - `ID`: wait for that job; on failure print `tsflux-job: <errstr>` and exit 1.
 * - no ID: wait for any waitable job and print its id (f58); exit as above.
 * - `--all`: reap every waitable job; failures print `<id>: <errstr>` and make the exit code
 *   1, with -v successes print `<id>: job completed successfully`; exit 0 when all succeeded
 *   (also when there was nothing to wait for).
 * An ECHILD error (nothing waitable, or not waitable) prints the server's text and exits 2.
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { JOBID_ANY } from '../protocol/json.js';
import { Errno, FluxError } from '../protocol/errno.js';
import { CliError, f58, fluxAction, jobIdArg, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';

async function waitMain(idArg: string | undefined, opts: { all?: boolean; verbose?: boolean }): Promise<number> {
  const id = idArg === undefined ? JOBID_ANY : jobIdArg(idArg);
  if (idArg !== undefined && opts.all) throw new CliError(`${JOB_PREFIX}: jobid not supported with --all`);
  const h = await openFlux();
  try {
    if (opts.all) {
      let rc = 0;
      for (;;) {
        let r: job.JobWaitResult;
        try {
          r = await job.wait(h, JOBID_ANY);
        } catch (e) {
          if (e instanceof FluxError && e.errno === Errno.ECHILD) break;
          throw new CliError(`${JOB_PREFIX}: flux_job_wait_get_status: ${(e as Error).message}`, 1, { cause: e });
        }
        if (!r.success) {
          process.stderr.write(`${f58(r.jobid)}: ${r.errstr}\n`);
          rc = 1;
        } else if (opts.verbose) {
          process.stderr.write(`${f58(r.jobid)}: job completed successfully\n`);
        }
      }
      return rc;
    }
    let r: job.JobWaitResult;
    try {
      r = await job.wait(h, id);
    } catch (e) {
      if (e instanceof FluxError)
        throw new CliError(`${JOB_PREFIX}: ${e.message}`, e.errno === Errno.ECHILD ? 2 : 1, { cause: e });
      throw e;
    }
    if (id === JOBID_ANY) process.stdout.write(f58(r.jobid) + '\n');
    if (!r.success) throw new CliError(`${JOB_PREFIX}: ${r.errstr}`);
    return 0;
  } finally {
    h.close();
  }
}

export function jobWaitCommand(): Command {
  return new Command('wait')
    .description('wait for a waitable job (or any, or --all) to complete and report its result')
    .argument('[id]', 'job id (default: any waitable job)')
    .option('-a, --all', 'wait for all waitable jobs')
    .option('-v, --verbose', 'with --all, emit a line for every job, not just failing ones')
    .action(
      fluxAction(JOB_PREFIX, (id: string | undefined, opts: { all?: boolean; verbose?: boolean }) =>
        waitMain(id, opts),
      ),
    );
}
