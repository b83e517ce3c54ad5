/**
 * `tsflux job urgency [-v] ID N` — Flux's `flux job urgency` (src/cmd/job/urgency.c): set a
 * pending job's urgency (0-31, or `hold` 0, `default` 16, `expedite` 31). With -v the old
 * urgency is printed on stderr (`old urgency: 16`, `old urgency: job held`, `... job
 * expedited`). Errors print `tsflux-job: <ID>: <error>`, exit 1.
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { CliError, fluxAction, jobIdArg, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';

export function parseUrgencyArg(s: string): number {
  const l = s.toLowerCase();
  if (l === 'hold') return 0;
  if (l === 'expedite') return 31;
  if (l === 'default') return 16;
  if (!/^\d+$/.test(s)) throw new CliError(`${JOB_PREFIX}: error parsing urgency: '${s}'`);
  return Number(s);
}

export function jobUrgencyCommand(): Command {
  return new Command('urgency')
    .description("change a pending job's urgency (0-31, hold, default, expedite)")
    .argument('<id>', 'job id')
    .argument('<urgency>', 'new urgency')
    .option('-v, --verbose', 'print the old urgency on stderr')
    .action(
      fluxAction(JOB_PREFIX, async (idArg: string, u: string, opts: { verbose?: boolean }) => {
        const id = jobIdArg(idArg);
        const urgency = parseUrgencyArg(u);
        const h = await openFlux();
        try {
          let old: number;
          try {
            old = await job.urgency(h, id, urgency);
          } catch (e) {
            throw new CliError(`${JOB_PREFIX}: ${idArg}: ${(e as Error).message}`, 1, { cause: e });
          }
          if (opts.verbose) {
            if (old === 0) process.stderr.write('old urgency: job held\n');
            else if (old === 31) process.stderr.write('old urgency: job expedited\n');
            else process.stderr.write(`old urgency: ${old}\n`);
          }
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}
