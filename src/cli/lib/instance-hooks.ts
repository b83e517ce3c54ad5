/**
 * What `run` / `submit` (and `mini run|submit`) do without --dry-run: talk to the instance.
 * The CLI verbs build the request; these functions submit it.
 *
 * - run (Flux's `flux run` = submit + `flux job attach`): submit one job, attach to it
 *   (attach.ts), exit with its exit code. A submit error prints `tsflux-run: ERROR: <text>`.
 * - submit (Flux's SubmitBulkCmd): the jobs (--cc/--bcc) are pipelined on one connection, a
 *   window of submits in flight (submit-window.ts), each jobspec made as it is sent
 *   (cc-jobspecs.ts); ids are printed in f58, one per line, in submission order as they are
 *   acknowledged, gathered into few writes. A rejected job prints `[Errno N] <text>` (with
 *   `cc=I: ` before it under --cc/--bcc), as flux does, the others go on, and the exit code
 *   becomes 1. With --wait / --wait-event / --watch every job's eventlog is followed:
 *   exceptions print `<id>: exception: type=T note=N`, the exit code is the largest job exit
 *   code (flux's status_to_exitcode: 127+signal for a signaled shell), or 1 for a job that
 *   failed before it ran.
 *   With --progress (stdout a terminal) a bar on the terminal's last row shows the jobs'
 *   progress (job-progress.ts); without a terminal flux's warning is printed and the option
 *   has no effect, as in flux.
 */
import type { Flux } from '../../client/handle.js';
import * as job from '../../client/job/index.js';
import type { JobspecV1 } from '../../job/jobspec.js';
import { isIdset } from '../../job/idset.js';
import { exitCode, exited, signaled, termSig } from '../../job/waitstatus.js';
import { FluxError } from '../../protocol/errno.js';
import { OutputFollower, attachJob } from '../attach.js';
import { submitFlagNames } from '../../job/submit-flags.js';
import { JobProgress, SubmitProgress } from './job-progress.js';
import type { SubmitCommandOptions } from './submit-options.js';
import { LineWriter } from './line-writer.js';
import { submitInOrder, type SubmitAnswer, type SubmitJob } from './submit-window.js';
import type { CopySettings } from './cc-jobspecs.js';
import { f58, openFlux, reportError } from './util.js';

export interface RunRequest {
  /** Verb path for messages, e.g. `run` or `mini run`. */
  verb: string;
  jobspec: JobspecV1;
  urgency: number;
  /** Submit flags (WAITABLE 4, DEBUG 2, NOVALIDATE 8). */
  flags: number;
  opts: SubmitCommandOptions;
}

export interface SubmitRequest {
  verb: string;
  /** The --cc/--bcc ids, one job each, or `[undefined]`: one job. */
  ids: readonly (number | undefined)[];
  /** The jobspec (text) of the job of one of `ids`, made when it is submitted. */
  jobspec: (cc: number | undefined) => string;
  /** Its urgency, flags and the event waited for (they may differ by copy: cc-jobspecs.ts). */
  settings: (cc: number | undefined) => CopySettings;
  opts: SubmitCommandOptions;
}

function submitOpts(urgency: number, flags: number): job.SubmitOptions {
  return { urgency, ...submitFlagNames(flags) };
}

function programName(verb: string): string {
  return 'tsflux-' + verb.split(' ').pop();
}

/** Submit the job, attach to it, and return its exit code. */
export async function runOnInstance(req: RunRequest): Promise<number> {
  let h: Flux;
  try {
    h = await openFlux();
  } catch (e) {
    return reportError(e, programName(req.verb), req.verb);
  }
  try {
    let id: bigint;
    try {
      id = await job.submitAsync(h, req.jobspec, submitOpts(req.urgency, req.flags));
    } catch (e) {
      if (e instanceof FluxError) {
        process.stderr.write(`${programName(req.verb)}: ERROR: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    return await attachJob(h, id, f58(id), {
      ...((req.opts.verbose ?? 0) > 0 ? { announce: `jobid: ${f58(id)}` } : {}),
      ...(req.opts.waitEvent ? { waitEvent: req.opts.waitEvent } : {}),
      ...(req.opts.labelIo ? { labelIo: true } : {}),
      ...(req.opts.input !== undefined && isIdset(req.opts.input) ? { stdinRanks: req.opts.input } : {}),
    });
  } catch (e) {
    return reportError(e, 'tsflux-job', req.verb);
  } finally {
    h.close();
  }
}

/** flux submit's status_to_exitcode (note: 127+signal, not 128+signal). */
function statusToExitcode(status: number): number {
  if (exited(status)) return exitCode(status);
  if (signaled(status)) return 127 + termSig(status);
  return status;
}

/** Submit the job(s), print the ids unless --quiet, optionally wait. */
export async function submitToInstance(req: SubmitRequest): Promise<number> {
  let h: Flux;
  try {
    h = await openFlux();
  } catch (e) {
    return reportError(e, programName(req.verb), req.verb);
  }
  const o = req.opts;
  // with --wait/--wait-event/--watch every copy is followed (to its own event: cc-jobspecs.ts)
  const following = req.settings(req.ids[0]).waitEvent !== undefined;
  let rc = 0;
  const progress = startProgress(o, following, req.ids.length);
  // ids are gathered into few writes, unless followed jobs print their own lines among them
  const out = new LineWriter(process.stdout, following ? 0 : undefined);
  const watches: Promise<void>[] = [];
  const labelled = !!(o.cc || o.bcc);
  const answer = (i: number, a: SubmitAnswer): void => {
    if (a instanceof FluxError) {
      out.flush();
      process.stderr.write(`${labelled ? `cc=${req.ids[i]}: ` : ''}[Errno ${a.errno}] ${a.message}\n`);
      rc = 1;
      if (progress instanceof SubmitProgress) progress.submitted();
      return;
    }
    if (!o.quiet) out.write(f58(a) + '\n');
    if (progress instanceof SubmitProgress) progress.submitted();
    const waitEvent = following ? req.settings(req.ids[i]).waitEvent : undefined;
    if (waitEvent !== undefined) {
      const jobProgress = progress instanceof JobProgress ? progress : undefined;
      jobProgress?.addJob(a);
      watches.push(follow(h, a, waitEvent, !!o.watch, !!o.labelIo, (code) => (rc = Math.max(rc, code)), jobProgress));
    }
  };
  try {
    // pipelined on one connection, a window of submits in flight, answered in order
    const copy = (i: number): SubmitJob => {
      const cc = req.ids[i];
      return { jobspec: req.jobspec(cc), opts: req.settings(cc).submit };
    };
    await submitInOrder(h, req.ids.length, copy, answer);
    out.flush();
    await Promise.all(watches);
    return rc;
  } catch (e) {
    out.flush();
    return Math.max(rc, reportError(e, programName(req.verb), req.verb));
  } finally {
    progress?.stop();
    h.close();
  }
}

/**
 * The --progress bar, if asked for and stdout is a terminal (flux: otherwise a warning and no
 * bar): job states with --wait/--watch, the submission alone without.
 */
function startProgress(
  o: SubmitCommandOptions,
  following: boolean,
  total: number,
): JobProgress | SubmitProgress | undefined {
  if (!o.progress) return undefined;
  if (!process.stdout.isTTY) {
    process.stderr.write('tsflux: WARNING: stdout is not a tty. Ignoring --progress option\n');
    return undefined;
  }
  const jps = !!o.jps;
  return following ? new JobProgress({ jps }).start() : new SubmitProgress(total, { jps }).start();
}

/** Follow one submitted job (flux submit --wait/--watch): report exceptions and its exit code. */
async function follow(
  h: Flux,
  id: bigint,
  waitEvent: string,
  watch: boolean,
  labelIo: boolean,
  report: (code: number) => void,
  progress?: JobProgress,
): Promise<void> {
  const jobid = f58(id);
  let running = false;
  let output: OutputFollower | undefined;
  const w = job.eventWatch(h, id);
  for await (const ev of w) {
    progress?.processEvent(id, ev);
    const c = ev.context as Record<string, any>;
    if (ev.name === 'exception') {
      if (!running) report(1);
      process.stderr.write(`${jobid}: exception: type=${c.type} note=${c.note ?? ''}\n`);
    } else if (ev.name === 'alloc') {
      running = true;
    } else if (ev.name === 'start' && watch) {
      output = new OutputFollower(h, id, labelIo ? { label: `${jobid}: ` } : {});
    } else if (ev.name === 'finish') {
      report(statusToExitcode(Number(c.status)));
    }
    if (ev.name === waitEvent) {
      w.cancel();
      break;
    }
  }
  // done: the awaited event came or the eventlog ended
  progress?.processEvent(id, undefined);
  await output?.finish();
}
