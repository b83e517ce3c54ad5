/**
 * Shared argument handling of the `job` subcommands that act on several jobs (flux-core
 * src/cmd/job/cancel.c parse_jobids_and_note, wait_all_check).
 */
import { JobIdError, parseJobId } from '../../job/jobid.js';
import { CliError } from './util.js';
import { JOB_PREFIX } from '../attach.js';

export interface JobArg {
  arg: string;
  id: bigint;
}

/**
 * Leading arguments that parse as job ids, then (when `allowNote`) the rest joined by spaces as
 * the note. `--message` and a free-text note are exclusive.
 */
export function jobidsAndNote(
  args: readonly string[],
  allowNote: boolean,
  message?: string,
): { ids: JobArg[]; note?: string } {
  const ids: JobArg[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    try {
      ids.push({ arg: args[i]!, id: parseJobId(args[i]!) });
    } catch (e) {
      if (e instanceof JobIdError) break;
      throw e;
    }
  }
  let note: string | undefined;
  if (i < args.length) {
    if (!allowNote || ids.length === 0) {
      // flux parses each argument as an id first: a bad one is a malformed id
      throw new CliError(
        allowNote || ids.length === 0
          ? `${JOB_PREFIX}: ${args[i]}: malformed input`
          : `${JOB_PREFIX}: invalid jobid: ${args[i]}`,
      );
    }
    const rest = args[i] === '--' ? args.slice(i + 1) : args.slice(i);
    note = rest.join(' ');
  }
  if (message !== undefined) {
    if (note !== undefined) throw new CliError(`${JOB_PREFIX}: Do not set note on command line and with --message`);
    note = message;
  }
  return note === undefined ? { ids } : { ids, note };
}

/**
 * Run `fn` on every job at once; print `<what> <arg>: <error>` for each failure, in argument
 * order. Returns the exit code (1 if any failed).
 */
export async function forEachJob(
  ids: readonly JobArg[],
  what: string,
  fn: (id: bigint) => Promise<unknown>,
): Promise<number> {
  const results = await Promise.allSettled(ids.map((j) => fn(j.id)));
  let rc = 0;
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      const e = r.reason as Error;
      process.stderr.write(`${JOB_PREFIX}: ${what} ${ids[i]!.arg}: ${e?.message ?? String(e)}\n`);
      rc = 1;
    }
  });
  return rc;
}
