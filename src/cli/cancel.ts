/**
 * `tsflux cancel [-m NOTE] ID...` and `tsflux cancel --all [-u USER] [-S STATES]` — Flux's
 * `flux cancel` (src/cmd/flux-cancel.py): raise a `cancel` exception on each job, all at once.
 * Each failure prints `tsflux-cancel: ERROR: <f58 id>: <error>` (e.g. `unknown job id`, `job is
 * inactive`) and the exit code is 1. `--all` (implied by `-u` or `-S`) cancels the caller's
 * pending and running jobs (`-u all`: everyone's, instance owner only) with one
 * `job-manager.raiseall`, and prints `Canceled N jobs (E errors)`. `-n/--dry-run` only counts.
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { JobState, VirtualState } from '../job/states.js';
import { uidOf } from './lib/jobinfo.js';
import { CliError, f58, fluxAction, jobIdArg, openFlux } from './lib/util.js';

const PREFIX = 'tsflux-cancel';

/** The states `-S` takes (flux-cancel.py), case-insensitive. */
const STATES: Record<string, number> = {
  depend: JobState.DEPEND,
  priority: JobState.PRIORITY,
  sched: JobState.SCHED,
  run: JobState.RUN,
  pending: VirtualState.PENDING,
  running: VirtualState.RUNNING,
  active: VirtualState.ACTIVE,
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

interface CancelOpts {
  all?: boolean;
  user?: string;
  states?: string[];
  message?: string;
  dryRun?: boolean;
  quiet?: boolean;
}

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel pending or running jobs, with an optional exception note')
    .usage('[OPTIONS] [JOBID...]')
    .argument('[jobids...]', 'jobs to cancel')
    .option('--all', 'target all jobs (of the user: see --user)')
    .option('-u, --user <USER>', "set target user or 'all' (instance owner only); implies --all")
    .option('-S, --states <STATES>', 'job states to target (default: pending,running); implies --all', collect)
    .option('-m, --message <NOTE>', 'set the cancel exception note')
    .option('-n, --dry-run', 'do not cancel any jobs')
    .option('-q, --quiet', 'suppress output when no jobs match')
    .action(
      fluxAction(PREFIX, async (args: string[], opts: CancelOpts) => {
        if (opts.user !== undefined || opts.states !== undefined) opts.all = true;
        if (opts.all && args.length > 0) {
          throw new CliError(`${PREFIX}: ERROR: Do not specify a list of jobids with --all,--user,--states options`);
        }
        return opts.all
          ? await cancelAll(opts)
          : await cancelIds(
              args.map((a) => jobIdArg(a, PREFIX)),
              opts,
            );
      }),
    );
}

async function cancelIds(ids: bigint[], opts: CancelOpts): Promise<number> {
  if (ids.length === 0) throw new CliError(`${PREFIX}: ERROR: No target jobs were provided`);
  if (opts.dryRun) {
    process.stderr.write(`${PREFIX}: Would cancel ${plural(ids.length, 'job')}\n`);
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
}

async function cancelAll(opts: CancelOpts): Promise<number> {
  let userid: number | 'all' | undefined;
  try {
    userid = opts.user === undefined ? undefined : opts.user === 'all' ? 'all' : uidOf(opts.user);
  } catch (e) {
    throw new CliError(`${PREFIX}: ERROR: ${(e as Error).message}`);
  }
  let states = VirtualState.PENDING | VirtualState.RUNNING;
  if (opts.states) {
    states = 0;
    for (const s of opts.states.join(',').split(',')) {
      const bit = STATES[s.toLowerCase()];
      if (bit === undefined) throw new CliError(`${PREFIX}: ERROR: Invalid state ${s} specified`);
      states |= bit;
    }
  }
  const h = await openFlux();
  try {
    const { count, errors } = await job.cancelAll(h, { userid, states, note: opts.message, dryRun: opts.dryRun });
    if (count > 0) {
      const msg = opts.dryRun
        ? `Would cancel ${plural(count, 'job')}`
        : `Canceled ${plural(count, 'job')} (${plural(errors, 'error')})`;
      process.stderr.write(`${PREFIX}: ${msg}\n`);
    } else if (!opts.quiet) {
      process.stderr.write(`${PREFIX}: Matched 0 jobs\n`);
    }
    return 0;
  } finally {
    h.close();
  }
}
