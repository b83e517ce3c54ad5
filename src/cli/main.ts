/**
 * tsflux command line: `tsflux <verb> [options] ...`. Each verb lives in its own file and
 * exports `xxxCommand(): Command`; this file only assembles them and maps commander's
 * outcomes to an exit code (help/version 0, usage errors 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { jobCommand } from './job.js';
import { miniCommand } from './mini.js';
import { runCommand } from './run.js';
import { submitCommand } from './submit.js';
import { startCommand } from './start.js';
import { takeExitCode, verbPath } from './util.js';

/** Version from the package.json above this module (src/ or dist/src/). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      try {
        return String((JSON.parse(fs.readFileSync(p, 'utf8')) as { version?: unknown }).version ?? '0.0.0');
      } catch {
        return '0.0.0';
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}

/** Apply the settings every command needs: throw instead of exit, hint at --help on errors. */
function configure(cmd: Command): void {
  const verb = verbPath(cmd);
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (str, write) => write(`tsflux: ${verb ? verb + ': ' : ''}${str}`),
  });
  cmd.showHelpAfterError('(add --help for additional information)');
  for (const sub of cmd.commands) configure(sub);
}

export function buildProgram(): Command {
  const program = new Command('tsflux')
    .description('a Flux-compatible job manager in TypeScript')
    .version(packageVersion(), '-V, --version', 'print the tsflux version')
    .enablePositionalOptions()
    .addCommand(startCommand())
    .addCommand(runCommand())
    .addCommand(submitCommand())
    .addCommand(miniCommand())
    .addCommand(jobCommand());
  // LEAD: register further verbs here, e.g. .addCommand(startCommand()) from ./start.js
  configure(program);
  return program;
}

/** Run the CLI on `argv` (without node and script) and return the exit code. */
export async function main(argv: string[]): Promise<number> {
  takeExitCode();
  const savedExitCode = process.exitCode;
  process.exitCode = undefined;
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      return err.exitCode === 0 ? 0 : err.exitCode || 1;
    }
    throw err;
  }
  const code = takeExitCode();
  if (code !== undefined) return code;
  // verbs that report through process.exitCode (e.g. via their own I/O hooks)
  const pe = process.exitCode;
  process.exitCode = savedExitCode;
  return typeof pe === 'number' ? pe : pe !== undefined ? Number(pe) || 0 : 0;
}
