/**
 * A CLI whose output is closed (`tsflux jobs | head -2`: the reader of the pipe went away) ends
 * at once and quietly, as a Unix filter does (`yes | head`): killed by SIGPIPE, which a shell
 * shows as status 141, with nothing on stderr. Every verb that prints goes through here: the
 * listeners are on process.stdout and process.stderr, installed once by main().
 *
 * (Node ignores SIGPIPE, so a write to a closed pipe fails with EPIPE instead, and with no
 * listener the stream's 'error' event ended the CLI with a stack trace. Flux's Python commands
 * differ among themselves: `flux submit` reports a `[Errno 32] Broken pipe` line for each id it
 * could not print and exits 1; tsflux takes the plain Unix behaviour for every verb.)
 */
import os from 'node:os';

let installed = false;

/** End the process as if killed by SIGPIPE (its default action restored, then raised). */
function dieOfSigpipe(): never {
  // a listener makes Node handle the signal; removing the last one restores the default action
  const ignore = (): void => undefined;
  process.on('SIGPIPE', ignore);
  process.off('SIGPIPE', ignore);
  process.kill(process.pid, 'SIGPIPE');
  // not reached when the signal killed us; otherwise the status a shell shows for it
  process.exit(128 + os.constants.signals.SIGPIPE);
}

function onError(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') dieOfSigpipe();
  throw e; // any other error stays fatal, as without this listener
}

/** Install, once, the listeners that end the CLI quietly when its stdout or stderr is closed. */
export function exitQuietlyOnClosedOutput(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}
