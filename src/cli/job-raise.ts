/**
 * `tsflux job raise [-t TYPE] [-s SEV] [-m NOTE] ID... [NOTE...]` — Flux's `flux job raise`
 * (src/cmd/job/cancel.c cmd_raise): raise an exception (default type `cancel`, severity 0)
 * on each job. Errors print `tsflux-job: raise <ID>: <error>` and exit 1.
 */
import { Command, InvalidArgumentError } from 'commander';
import * as job from '../client/job/index.js';
import { fluxAction, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';
import { forEachJob, jobidsAndNote } from './lib/job-args.js';

function severity(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('not an integer');
  return Number(v);
}

export function jobRaiseCommand(): Command {
  return new Command('raise')
    .description('raise an exception on one or more jobs')
    .usage('[OPTIONS] ID... [MESSAGE...]')
    .argument('<args...>', 'job ids, optionally followed by a message')
    .option('-s, --severity <N>', 'exception severity [0-7] (0 is fatal)', severity, 0)
    .option('-t, --type <TYPE>', 'exception type', 'cancel')
    .option('-m, --message <NOTE>', 'exception note')
    .action(
      fluxAction(JOB_PREFIX, async (args: string[], opts: { severity: number; type: string; message?: string }) => {
        const { ids, note } = jobidsAndNote(args, true, opts.message);
        const h = await openFlux();
        try {
          return await forEachJob(ids, 'raise', (id) => job.raise(h, id, opts.type, opts.severity, note));
        } finally {
          h.close();
        }
      }),
    );
}
