/** `tsflux job <subcommand>` — the group that `flux job` subcommands are added to. */
import { jobPurgeCommand } from './job-purge.js';
import { Command } from 'commander';
import { jobIdCommand } from './job-id.js';
import { jobAttachCommand } from './attach.js';
import { jobWaitCommand } from './job-wait.js';
import { jobEventlogCommand } from './job-eventlog.js';
import { jobCancelCommand } from './job-cancel.js';
import { jobKillCommand } from './job-kill.js';
import { jobUrgencyCommand } from './job-urgency.js';
import { jobRaiseCommand } from './job-raise.js';
import { jobInfoCommand } from './job-info.js';
import { jobStatusCommand } from './job-status.js';

export function jobCommand(): Command {
  const job = new Command('job').description('job housekeeping utilities').enablePositionalOptions();
  job.addCommand(jobIdCommand());
  job.addCommand(jobAttachCommand());
  job.addCommand(jobWaitCommand());
  job.addCommand(jobEventlogCommand());
  job.addCommand(jobCancelCommand());
  job.addCommand(jobKillCommand());
  job.addCommand(jobUrgencyCommand());
  job.addCommand(jobRaiseCommand());
  job.addCommand(jobInfoCommand());
  job.addCommand(jobStatusCommand());
  job.addCommand(jobPurgeCommand());
  return job;
}
