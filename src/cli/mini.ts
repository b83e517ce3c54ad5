/** `tsflux mini run|submit` — the old `flux mini` spelling of run and submit. */
import { Command } from 'commander';
import { runCommand } from './run.js';
import { submitCommand } from './submit.js';

export function miniCommand(): Command {
  return new Command('mini')
    .description('old spelling of run and submit (flux mini)')
    .enablePositionalOptions()
    .addCommand(runCommand())
    .addCommand(submitCommand());
}
