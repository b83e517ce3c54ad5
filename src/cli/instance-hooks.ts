/**
 * What `run` / `submit` do without --dry-run: talk to the instance. These are placeholders
 * until the client is wired in (the lead replaces the bodies); the CLI verbs only build the
 * request and call them.
 */
import type { JobspecV1 } from '../job/jobspec.js';
import type { SubmitOptions } from './submit-options.js';
import { printError } from './util.js';

export interface RunRequest {
  /** Verb path for messages, e.g. `run` or `mini run`. */
  verb: string;
  jobspec: JobspecV1;
  urgency: number;
  /** Submit flags (WAITABLE 4, DEBUG 2, NOVALIDATE 8). */
  flags: number;
  opts: SubmitOptions;
}

export interface SubmitRequest {
  verb: string;
  /** One jobspec per --cc/--bcc id (a single entry with cc undefined otherwise). */
  jobs: Array<{ cc: number | undefined; jobspec: JobspecV1 }>;
  urgency: number;
  flags: number;
  opts: SubmitOptions;
}

function noInstance(verb: string): number {
  const uri = process.env['FLUX_URI'];
  printError(verb, uri ? `cannot connect to ${uri}: not implemented yet` : 'cannot connect: no instance (FLUX_URI not set)');
  return 1;
}

/** Submit the job, attach to it, and return its exit code. Placeholder. */
export async function runOnInstance(req: RunRequest): Promise<number> {
  return noInstance(req.verb);
}

/** Submit the job(s), print the ids unless --quiet, optionally wait. Placeholder. */
export async function submitToInstance(req: SubmitRequest): Promise<number> {
  return noInstance(req.verb);
}
