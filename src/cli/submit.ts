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
  type SubmitCommandOptions,
} from './lib/submit-options.js';
import { ccJobspecs, ccSettings, refusePerTaskInput } from './lib/cc-jobspecs.js';
import { submitToInstance } from './lib/instance-hooks.js';
import { verbAction, verbPath } from './lib/util.js';

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
      const ids = ccList(opts);
      if (opts.dryRun) {
        // like flux: the first jobspec is printed, then the command exits
        const jobspec = buildJobspec(command, opts, { cc: ids[0] });
        refusePerTaskInput(opts, ids[0]);
        process.stdout.write(jobspec.dumps() + '\n');
        return 0;
      }
      return submitToInstance({
        verb: verbPath(c),
        ids,
        jobspec: ccJobspecs(command, opts, ids),
        settings: ccSettings(opts, ids),
        opts,
      });
    }),
  );
  return cmd;
}
