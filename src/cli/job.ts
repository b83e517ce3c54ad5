/** `tsflux job <subcommand>` — the group that `flux job` subcommands are added to. */
import { Command } from 'commander';
import { jobIdCommand } from './job-id.js';

export function jobCommand(): Command {
  const job = new Command('job').description('job housekeeping utilities').enablePositionalOptions();
  job.addCommand(jobIdCommand());
  // LEAD: add further `tsflux job` subcommands here (job.addCommand(xxxCommand());)
  return job;
}
