/**
 * tsflux command line: `tsflux <verb> [options] ...`. Each verb lives in its own file and
 * exports `xxxCommand(): Command`; this file only assembles them and maps commander's
 * outcomes to an exit code (help/version 0, usage errors 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { takeExitCode, verbPath } from './lib/util.js';
import { exitQuietlyOnClosedOutput } from './lib/closed-output.js';

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

/**
 * The verbs, loaded on demand: a client verb starts faster when only its own modules are
 * loaded (and `start` pulls in the whole broker). Order is the order of `tsflux --help`.
 */
const VERBS: Array<[string, () => Promise<Command>]> = [
  ['start', async () => (await import('./start.js')).startCommand()],
  ['run', async () => (await import('./run.js')).runCommand()],
  ['submit', async () => (await import('./submit.js')).submitCommand()],
  ['mini', async () => (await import('./mini.js')).miniCommand()],
  ['job', async () => (await import('./job.js')).jobCommand()],
  ['jobs', async () => (await import('./jobs.js')).jobsCommand()],
  ['cancel', async () => (await import('./cancel.js')).cancelCommand()],
  ['resource', async () => (await import('./resource.js')).resourceCommand()],
  ['queue', async () => (await import('./queue.js')).queueCommand()],
  ['getattr', async () => (await import('./getattr.js')).getattrCommand()],
  ['config', async () => (await import('./config.js')).configCommand()],
  ['ping', async () => (await import('./ping.js')).pingCommand()],
  ['overlay', async () => (await import('./overlay.js')).overlayCommand()],
];

/** A stand-in for `start` in help listings (the real one loads the broker). */
function startStandIn(): Command {
  return new Command('start')
    .description('start a tsflux instance on this node and run CMD (default: a shell) inside it')
    .argument('[cmd...]', 'command to run inside the instance')
    .option('-v, --verbose', 'print the instance URI on stderr')
    .allowUnknownOption()
    .passThroughOptions()
    .action(async () => {
      throw new Error('start: internal error: not loaded');
    });
}

/**
 * The program for `argv`: with a known verb (or `help VERB`) only that verb is loaded;
 * otherwise (top-level help, unknown verbs) all of them, `start` as a stand-in.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const verb = words[0] === 'help' ? words[1] : words[0];
  const known = VERBS.some(([name]) => name === verb);
  const program = new Command('tsflux')
    .description('a Flux-compatible job manager in TypeScript')
    .version(packageVersion(), '-V, --version', 'print the tsflux version')
    .enablePositionalOptions();
  for (const [name, load] of VERBS) {
    if (known && name !== verb) continue;
    program.addCommand(!known && name === 'start' ? startStandIn() : await load());
  }
  configure(program);
  return program;
}

/** Run the CLI on `argv` (without node and script) and return the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `tsflux jobs | head`: a closed stdout or stderr ends any verb quietly (closed-output.ts)
  exitQuietlyOnClosedOutput();
  takeExitCode();
  const savedExitCode = process.exitCode;
  process.exitCode = undefined;
  const program = await buildProgram(argv);
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
