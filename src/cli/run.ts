/**
 * `tsflux run [OPTIONS] COMMAND [ARGS...]` — Flux's `flux run`: submit a job and attach to it.
 * With `--dry-run`, print the jobspec exactly as flux does and exit 0.
 */
import { Command } from 'commander';
import {
  addJobspecOptions,
  buildJobspec,
  parseSubmitFlags,
  parseUrgency,
  type SubmitCommandOptions,
} from './lib/submit-options.js';
import { runOnInstance } from './lib/instance-hooks.js';
import { verbAction, verbPath } from './lib/util.js';

export function runCommand(name = 'run'): Command {
  const cmd = new Command(name)
    .description('run a job interactively (with --dry-run: print its jobspec)')
    .usage('[OPTIONS...] COMMAND [ARGS...]')
    .argument('<command...>', 'job command and arguments')
    .passThroughOptions();
  addJobspecOptions(cmd);
  cmd.option('--wait-event <NAME>', 'wait for event NAME before attaching (passed to job attach)');
  cmd.action(
    verbAction(async (command: string[], opts: SubmitCommandOptions, c: Command) => {
      // one -v prints the job id; flux's -vv and more also log the job's events
      if ((opts.verbose ?? 0) > 1) throw new Error('-vv: more than one -v is not supported by tsflux run');
      const jobspec = buildJobspec(command, opts);
      if (opts.dryRun) {
        process.stdout.write(jobspec.dumps() + '\n');
        return 0;
      }
      return runOnInstance({
        verb: verbPath(c),
        jobspec,
        urgency: parseUrgency(opts.urgency),
        flags: parseSubmitFlags(opts.flags),
        opts,
      });
    }),
  );
  return cmd;
}
