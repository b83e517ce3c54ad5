/**
 * `tsflux submit [OPTIONS] COMMAND [ARGS...]` — Flux's `flux submit`: submit a job (or one per
 * --cc/--bcc id) and print its id. With `--dry-run`, print the (first) jobspec and exit 0.
 */
import { Command } from 'commander';
import {
  addBulkOptions,
  addJobspecOptions,
  buildJobspec,
  ccList,
  parseSubmitFlags,
  parseUrgency,
  type SubmitCommandOptions,
} from './lib/submit-options.js';
import { ccJobspecs } from './lib/cc-jobspecs.js';
import { submitToInstance } from './lib/instance-hooks.js';
import { verbAction, verbPath } from './lib/util.js';
import { isIdset } from '../job/idset.js';

export function submitCommand(name = 'submit'): Command {
  const cmd = new Command(name)
    .description('submit a job (with --dry-run: print its jobspec)')
    .usage('[OPTIONS...] COMMAND [ARGS...]')
    .argument('<command...>', 'job command and arguments')
    .passThroughOptions();
  addJobspecOptions(cmd);
  addBulkOptions(cmd);
  cmd.action(
    verbAction(async (command: string[], opts: SubmitCommandOptions, c: Command) => {
      // flux ignores a lone --jps; tsflux refuses what would have no effect
      if (opts.jps && !opts.progress) throw new Error('--jps: only has an effect with --progress');
      // flux's submit -v logs job state changes under --wait; tsflux's does not
      if (opts.verbose) throw new Error('-v, --verbose: not supported by tsflux submit');
      // flux's message: per-task stdin (--input=RANKS) is for run only
      if (opts.input !== undefined && isIdset(opts.input)) throw new Error('per-task input not supported for submit');
      const ids = ccList(opts);
      if (opts.dryRun) {
        // like flux: the first jobspec is printed, then the command exits
        process.stdout.write(buildJobspec(command, opts, { cc: ids[0] }).dumps() + '\n');
        return 0;
      }
      return submitToInstance({
        verb: verbPath(c),
        ids,
        jobspec: ccJobspecs(command, opts, ids),
        urgency: parseUrgency(opts.urgency),
        flags: parseSubmitFlags(opts.flags),
        opts,
      });
    }),
  );
  return cmd;
}
