/**
 * `tsflux cancel [-m NOTE] ID...` — Flux's `flux cancel` (src/cmd/flux-cancel.py): raise a
 * `cancel` exception on each job, all at once. Each failure prints
 * `tsflux-cancel: ERROR: <f58 id>: <error>` (e.g. `unknown job id`, `job is inactive`) and
 * the exit code is 1. `-n/--dry-run` only counts the jobs.
 * Not supported: --all, --user, --states (job-manager.raiseall).
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { CliError, f58, fluxAction, jobIdArg, openFlux } from './util.js';

const PREFIX = 'tsflux-cancel';

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel pending or running jobs, with an optional exception note')
    .usage('[OPTIONS] [JOBID...]')
    .argument('[jobids...]', 'jobs to cancel')
    .option('-m, --message <NOTE>', 'set the cancel exception note')
    .option('-n, --dry-run', 'do not cancel any jobs')
    .option('-q, --quiet', 'suppress output when no jobs match')
    .action(
      fluxAction(PREFIX, async (args: string[], opts: { message?: string; dryRun?: boolean }) => {
        const ids = args.map((a) => jobIdArg(a, PREFIX));
        if (ids.length === 0) throw new CliError(`${PREFIX}: ERROR: No target jobs were provided`);
        if (opts.dryRun) {
          process.stderr.write(`${PREFIX}: Would cancel ${ids.length} job${ids.length === 1 ? '' : 's'}\n`);
          return 0;
        }
        const h = await openFlux();
        try {
          const results = await Promise.allSettled(ids.map((id) => job.cancel(h, id, opts.message)));
          let rc = 0;
          results.forEach((r, i) => {
            if (r.status === 'rejected') {
              process.stderr.write(`${PREFIX}: ERROR: ${f58(ids[i]!)}: ${(r.reason as Error)?.message ?? r.reason}\n`);
              rc = 1;
            }
          });
          return rc;
        } finally {
          h.close();
        }
      }),
    );
}
