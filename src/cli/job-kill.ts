/**
 * `tsflux job kill [-s SIG] ID...` — Flux's `flux job kill`: send a signal (default SIGTERM)
 * to the tasks of running jobs with job-manager.kill. SIG is a name (`SIGKILL`, `KILL`) or a
 * number. Errors print `tsflux-job: kill <ID>: <error>` (e.g. `job is not running`), exit 1.
 */
import os from 'node:os';
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { CliError, fluxAction, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';
import { forEachJob, jobidsAndNote } from './lib/job-args.js';

/** flux's sigutil_signum(): `SIGTERM`, `TERM` or `15`. */
export function signum(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n > 0 && n < 65 ? n : undefined;
  }
  const name = s.startsWith('SIG') ? s : 'SIG' + s;
  const n = (os.constants.signals as Record<string, number>)[name];
  return typeof n === 'number' ? n : undefined;
}

export function jobKillCommand(): Command {
  return new Command('kill')
    .description('send a signal to the tasks of one or more running jobs')
    .argument('<ids...>', 'job ids')
    .option('-s, --signal <SIG>', 'signal to send (name or number)', 'SIGTERM')
    .action(
      fluxAction(JOB_PREFIX, async (args: string[], opts: { signal: string }) => {
        const { ids } = jobidsAndNote(args, false);
        const sig = signum(opts.signal);
        if (sig === undefined) throw new CliError(`${JOB_PREFIX}: kill: Invalid signal ${opts.signal}`);
        const h = await openFlux();
        try {
          return await forEachJob(ids, 'kill', (id) => job.kill(h, id, sig));
        } finally {
          h.close();
        }
      }),
    );
}
