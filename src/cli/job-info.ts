/**
 * `tsflux job info ID KEY...` — Flux's `flux job info` (src/cmd/job/info.c): print the raw
 * value of a job key from job-info.lookup, one per line: `jobspec` and `R` are looked up with
 * FLUX_JOB_LOOKUP_CURRENT (flags 2) unless --base; others (`eventlog`, `J`,
 * `guest.exec.eventlog`, `guest.output`, ...) as stored. flux takes exactly one key; we take
 * several and print them in order. Errors print `tsflux-job: <error>`, exit 1.
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { CliError, fluxAction, jobIdArg, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';

const LOOKUP_CURRENT = 2;

export function jobInfoCommand(): Command {
  return new Command('info')
    .description('print raw job data: jobspec, R, eventlog, J, guest.exec.eventlog, guest.output')
    .argument('<id>', 'job id')
    .argument('<keys...>', 'keys to print')
    .option('-b, --base', 'for jobspec and R, do not apply updates from the eventlog')
    .action(
      fluxAction(JOB_PREFIX, async (idArg: string, keys: string[], opts: { base?: boolean }) => {
        const id = jobIdArg(idArg);
        const h = await openFlux();
        try {
          let text = '';
          for (const key of keys) {
            const flags = !opts.base && (key === 'R' || key === 'jobspec') ? LOOKUP_CURRENT : 0;
            let v: string | undefined;
            try {
              v = (await job.lookup(h, id, [key], flags))[key];
            } catch (e) {
              throw new CliError(`${JOB_PREFIX}: ${(e as Error).message}`, 1, { cause: e });
            }
            if (v === undefined) throw new CliError(`${JOB_PREFIX}: ${key}: No such file or directory`);
            text += v + '\n';
          }
          process.stdout.write(text);
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}
