/**
 * `tsflux job purge [--age-limit=FSD] [--num-limit=N] [--batch=N] [--force]` — Flux's
 * `flux job purge` (src/cmd/job/purge.c): remove inactive jobs past the limits from the
 * instance (memory and store) through `job-manager.purge`. Without --force it only counts
 * (`use --force to purge N inactive jobs`); with it, it purges in batches until none is left
 * (`purged N inactive jobs`). Instance owner only.
 */
import { Command } from 'commander';
import { parseFsd } from '../job/fsd.js';
import { CliError, fluxAction, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';

const UNLIMITED = -1;

interface PurgeOpts {
  ageLimit?: string;
  numLimit?: string;
  batch: string;
  force?: boolean;
}

function count(s: string, what: string): number {
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new CliError(`${JOB_PREFIX}: ${what}: '${s}' is not an integer >= 0`);
  }
  return Number(s);
}

export function jobPurgeCommand(): Command {
  return new Command('purge')
    .description('purge the oldest inactive jobs')
    .option('--age-limit <FSD>', 'purge inactive jobs older than this')
    .option('--num-limit <N>', 'keep at most N inactive jobs')
    .option('--batch <N>', 'jobs purged per request (1-100)', '50')
    .option('-f, --force', 'purge (without it: only count what would be purged)')
    .action(
      fluxAction(JOB_PREFIX, async (opts: PurgeOpts) => {
        let age = UNLIMITED;
        if (opts.ageLimit !== undefined) {
          try {
            age = parseFsd(opts.ageLimit);
          } catch {
            throw new CliError(`${JOB_PREFIX}: invalid --age-limit duration '${opts.ageLimit}'`);
          }
        }
        const num = opts.numLimit === undefined ? UNLIMITED : count(opts.numLimit, '--num-limit');
        const batch = count(opts.batch, '--batch');
        const force = opts.force === true;
        const h = await openFlux();
        try {
          let total = 0;
          for (;;) {
            const r = await h.rpc<{ count: number }>('job-manager.purge', {
              age_limit: age,
              num_limit: num,
              batch,
              force,
            });
            total += r.count;
            if (!force || r.count < batch) break;
          }
          process.stdout.write(
            force ? `purged ${total} inactive jobs\n` : `use --force to purge ${total} inactive jobs\n`,
          );
          return 0;
        } catch (e) {
          if (e instanceof CliError) throw e;
          throw new CliError(`${JOB_PREFIX}: purge: ${(e as Error).message}`, 1, { cause: e });
        } finally {
          h.close();
        }
      }),
    );
}
