/**
 * `tsflux job status [-v] [-e N] [-j] ID...` — Flux's `flux job status`
 * (src/cmd/job/status.c): wait for the jobs to finish and exit with the largest exit code
 * (128+signal for a signaled shell; `-e N`, default 1, for a job ended only by a fatal
 * exception). -v prints `<ID>: exited with exit code N` / `<ID>: exception type=T` /
 * `<ID>: job shell died by signal N` for failed jobs (all jobs with -vv).
 */
import { Command } from 'commander';
import * as job from '../client/job/index.js';
import { exitCode as wexitstatus, signaled, termSig } from '../job/waitstatus.js';
import { Errno, FluxError } from '../protocol/errno.js';
import { CliError, fluxAction, jobIdArg, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';

function statusToExitcode(status: number): number {
  if (status < 0) return 0;
  if (signaled(status)) return 128 + termSig(status);
  return wexitstatus(status);
}

interface StatusOptions {
  verbose?: number;
  exceptionExitCode: string;
  json?: boolean;
}

export function jobStatusCommand(): Command {
  return new Command('status')
    .description('wait for jobs to finish and exit with the largest job exit code')
    .argument('<ids...>', 'job ids')
    .option(
      '-v, --verbose',
      'increase verbosity (repeatable)',
      (_v: string, prev: number | undefined) => (prev ?? 0) + 1,
    )
    .option('-e, --exception-exit-code <N>', 'exit code for jobs that end only by an exception', '1')
    .option('-j, --json', 'print the job result information as JSON')
    .action(
      fluxAction(JOB_PREFIX, async (args: string[], opts: StatusOptions) => {
        const ids = args.map((a) => jobIdArg(a));
        const excCode = Number(opts.exceptionExitCode);
        if (!Number.isInteger(excCode))
          throw new CliError(`${JOB_PREFIX}: invalid --exception-exit-code '${opts.exceptionExitCode}'`);
        const verbose = opts.verbose ?? 0;
        const h = await openFlux();
        try {
          if (verbose && ids.length > 1)
            process.stderr.write(`${JOB_PREFIX}: fetching status for ${ids.length} jobs\n`);
          const results = await Promise.allSettled(ids.map((id) => job.result(h, id)));
          if (verbose && ids.length > 1) process.stderr.write(`${JOB_PREFIX}: all done.\n`);
          let rc = 0;
          for (let i = 0; i < ids.length; i++) {
            const r = results[i]!;
            const jobid = args[i]!;
            if (r.status === 'rejected') {
              if (r.reason instanceof FluxError && r.reason.errno === Errno.ENOENT)
                throw new CliError(`${JOB_PREFIX}: ${jobid}: No such job`);
              throw r.reason;
            }
            const res = r.value;
            const status = res.waitstatus ?? -1;
            const exc = res.exception !== undefined && res.exception.severity === 0;
            if (opts.json) {
              const o: Record<string, unknown> = {
                id: Number(res.id),
                result: res.result,
                success: res.success,
                exception_occurred: res.exception !== undefined,
              };
              if (res.exception)
                Object.assign(o, {
                  exception_type: res.exception.type,
                  exception_severity: res.exception.severity,
                  exception_note: res.exception.note,
                });
              if (res.waitstatus !== undefined) o.waitstatus = res.waitstatus;
              process.stdout.write(JSON.stringify(o) + '\n');
            }
            const code = statusToExitcode(status);
            if (code > rc) rc = code;
            if (exc && excCode > rc) rc = excCode;
            if (verbose) {
              if (status >= 0 && signaled(status))
                process.stderr.write(`${JOB_PREFIX}: ${jobid}: job shell died by signal ${termSig(status)}\n`);
              else if (verbose > 1 || code !== 0) {
                if (exc) process.stderr.write(`${JOB_PREFIX}: ${jobid}: exception type=${res.exception!.type}\n`);
                else process.stderr.write(`${JOB_PREFIX}: ${jobid}: exited with exit code ${code}\n`);
              }
            }
          }
          return rc;
        } finally {
          h.close();
        }
      }),
    );
}
