/**
 * `tsflux job cancel ID... [NOTE...]` — Flux's `flux job cancel` (src/cmd/job/cancel.c):
 * raise a `cancel` exception (severity 0) on each job; the note is `-m NOTE` or the words
 * after the ids. Errors print `tsflux-job: cancel <ID>: <error>` and exit 1.
 * (flux also prints a deprecation warning pointing at flux-cancel(1); we do not.)
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { fluxAction, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';
import { forEachJob, jobidsAndNote } from './lib/job-args.js';

export function jobCancelCommand(): Command {
  return new Command('cancel')
    .description('cancel one or more jobs')
    .usage('[OPTIONS] ID... [MESSAGE...]')
    .argument('<args...>', 'job ids, optionally followed by a message')
    .option('-m, --message <NOTE>', 'set the cancel exception note')
    .action(
      fluxAction(JOB_PREFIX, async (args: string[], opts: { message?: string }) => {
        const { ids, note } = jobidsAndNote(args, true, opts.message);
        const h = await openFlux();
        try {
          return await forEachJob(ids, 'cancel', (id) => job.cancel(h, id, note));
        } finally {
          h.close();
        }
      }),
    );
}
