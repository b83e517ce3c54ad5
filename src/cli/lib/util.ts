/**
 * Shared CLI plumbing: how verbs report their exit code to main(), and error printing.
 */
import type { Command } from 'commander';
import { Flux } from '../../client/handle.js';
import { Errno, FluxError, errnoOf, strerror } from '../../protocol/errno.js';
import { JobIdError, encodeJobId, parseJobId } from '../../job/jobid.js';

let pendingExitCode: number | undefined;

/** Record the exit code of the verb that ran (main() returns it). */
export function setExitCode(code: number): void {
  pendingExitCode = code;
}

/**
 * Read and reset the recorded exit code; undefined when no verb recorded one (verbs that set
 * process.exitCode themselves are then honoured by main()).
 */
export function takeExitCode(): number | undefined {
  const c = pendingExitCode;
  pendingExitCode = undefined;
  return c;
}

/** Print `tsflux: <verb>: <message>` on stderr. */
export function printError(verb: string, message: string): void {
  process.stderr.write(`tsflux: ${verb}: ${message}\n`);
}

/** Full verb path of a command, e.g. `mini run` or `job id`. */
export function verbPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Wrap a verb implementation for `.action()`: its return value becomes the exit code, and a
 * thrown error is printed as `tsflux: <verb>: <message>` with exit code 1.
 * The handler receives commander's arguments (positional args..., opts, command).
 */
export function verbAction<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void> | number | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    try {
      const code = await fn(...args);
      setExitCode(typeof code === 'number' ? code : 0);
    } catch (err) {
      printError(verbPath(cmd), err instanceof Error ? err.message : String(err));
      setExitCode(1);
    }
  };
}

// ---- talking to an instance -------------------------------------------------------------------

/**
 * An error whose text is printed exactly as given (with its own prefix, e.g. flux's
 * `flux-job: ...` forms) and the exit code to return. Its errno is the cause's when it wraps
 * an error from the instance (`{ cause }`), else EINVAL (bad usage or input).
 */
export class CliError extends FluxError {
  constructor(
    message: string,
    readonly exitCode = 1,
    options: { cause?: unknown } = {},
  ) {
    super(errnoOf(options.cause, Errno.EINVAL), message);
    this.message = message; // printed as is: an empty one prints nothing (not strerror)
    this.name = 'CliError';
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * No instance to talk to: printed as `tsflux: <verb>: <message>`. Its errno is the failed
 * connect's (`{ cause }`), else ENOENT (no instance named).
 */
export class NoInstanceError extends FluxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(errnoOf(options.cause, Errno.ENOENT), message);
    this.name = 'NoInstanceError';
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * Connect to the instance named by FLUX_URI. Throws NoInstanceError with a message naming
 * the URI when FLUX_URI is unset or nothing accepts the connection.
 */
export async function openFlux(): Promise<Flux> {
  const uri = process.env['FLUX_URI'];
  if (!uri) throw new NoInstanceError('cannot connect: no instance (FLUX_URI not set)');
  try {
    return await Flux.open(uri);
  } catch (e) {
    let reason = e instanceof Error ? e.message : String(e);
    reason = reason.replace(/^Unable to connect to Flux: /, '');
    if (reason.startsWith(`${uri}: `)) reason = reason.slice(uri.length + 2);
    else if (reason.startsWith(`${uri.trim()}: `)) reason = reason.slice(uri.trim().length + 2);
    if (reason === '' && e instanceof FluxError) reason = strerror(e.errno);
    throw new NoInstanceError(`cannot connect to ${uri}: ${reason}`, { cause: e });
  }
}

/**
 * Wrap a verb that talks to the instance: its return value is the exit code; errors print as
 * - NoInstanceError: `tsflux: <verb>: <message>`,
 * - CliError: its message as is, with its exit code,
 * - anything else (FluxError from the instance, malformed ids, ...): `<prefix>: <message>`,
 * and exit 1. `prefix` mirrors flux's program name (`tsflux-job` for `flux-job`, ...).
 */
export function fluxAction<A extends unknown[]>(
  prefix: string,
  fn: (...args: A) => Promise<number | void> | number | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    try {
      const code = await fn(...args);
      setExitCode(typeof code === 'number' ? code : 0);
    } catch (err) {
      setExitCode(reportError(err, prefix, verbPath(cmd)));
    }
  };
}

/** Print an error the way fluxAction does and return the exit code. */
export function reportError(err: unknown, prefix: string, verb: string): number {
  if (err instanceof NoInstanceError) {
    printError(verb, err.message);
    return 1;
  }
  if (err instanceof CliError) {
    if (err.message) process.stderr.write(err.message.endsWith('\n') ? err.message : err.message + '\n');
    return err.exitCode;
  }
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${prefix}: ${msg}\n`);
  return 1;
}

/** Parse a job id argument; a malformed one is `<prefix>: <input>: malformed input`. */
export function jobIdArg(s: string, prefix = 'tsflux-job'): bigint {
  try {
    return parseJobId(s);
  } catch (e) {
    if (e instanceof JobIdError) throw new CliError(`${prefix}: ${e.message}`, 1, { cause: e });
    throw e;
  }
}

/** f58 form of an id, as flux prints them. */
export function f58(id: bigint): string {
  return encodeJobId(id, 'f58');
}
