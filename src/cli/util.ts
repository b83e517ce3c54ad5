/**
 * Shared CLI plumbing: how verbs report their exit code to main(), and error printing.
 */
import type { Command } from 'commander';

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
