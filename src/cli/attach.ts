/**
 * `tsflux job attach ID` — Flux's `flux job attach` (src/cmd/job/attach.c), also the second
 * half of `tsflux run`: follow the job's eventlog, copy its output (guest.output, RFC 24) to
 * our stdout/stderr as it arrives, and exit with the job's exit code.
 *
 * Like flux: a fatal exception prints `<t>s: job.exception <ID> type=<t> severity=<n> <note>`;
 * a nonzero finish prints `tsflux-job: <errstr>` (`task(s) exited with exit code N`, ...);
 * the exit code is the job's (exit code, 128+signal), or 1 when the job never finished or
 * got a fatal exception. SIGINT cancels the job (flux asks for a second ctrl-C within 2s; we
 * cancel on the first and detach on the second); SIGTERM, SIGHUP, SIGALRM, SIGUSR1/2 are
 * forwarded to the job's tasks with job-manager.kill. Our stdin goes to the job's tasks (all,
 * or `-i RANKS`) through the shell service named by the exec eventlog's `shell.init`
 * (`<service>.stdin`, as flux's attach does), ending with an eof; `-r` reads no stdin.
 * Not supported: ptys, the interactive status line, --debug.
 */
import { Command } from 'commander';
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import type { Flux } from '../client/handle.js';
import * as job from '../client/job/index.js';
import type { EventlogEvent } from '../job/eventlog.js';
import { waitstatusToExitcode } from '../job/waitstatus.js';
import { parseIdset } from '../job/idset.js';
import { Errno, FluxError } from '../protocol/errno.js';
import { CliError, fluxAction, jobIdArg, openFlux } from './lib/util.js';

export const JOB_PREFIX = 'tsflux-job';

export interface AttachOptions {
  /** Event of the main eventlog after which to stop (default `clean`). */
  waitEvent?: string;
  /** Print the job's events on stderr (-E). */
  showEvents?: boolean;
  /** Print the exec events on stderr (-X). */
  showExec?: boolean;
  /** Prefix output lines with the task rank (-l). */
  labelIo?: boolean;
  /** Suppress warnings (-q). */
  quiet?: boolean;
  /** Do not capture signals nor read our stdin (-r). */
  readOnly?: boolean;
  /** Task ranks our stdin goes to: `all` (default) or an idset (`-i`, `run --input=RANKS`). */
  stdinRanks?: string;
  /** A line to print on stderr once attached (signal handlers in place), e.g. `jobid: ƒ...`. */
  announce?: string;
}

function write(stream: NodeJS.WriteStream, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(data)) resolve();
    else stream.once('drain', resolve);
  });
}

const FWD_SIGNALS: Array<[NodeJS.Signals, number]> = [
  ['SIGTERM', 15],
  ['SIGHUP', 1],
  ['SIGALRM', 14],
  ['SIGUSR1', 10],
  ['SIGUSR2', 12],
];

/** Number of ranks in an RFC 24 `rank` idset (1 when it cannot be parsed). */
function rankCount(rank: unknown): number {
  try {
    return typeof rank === 'string' ? Math.max(1, parseIdset(rank).length) : 1;
  } catch {
    return 1;
  }
}

/**
 * Copies a job's guest.output (RFC 24) to stdout/stderr as it is appended. The watch ends by
 * itself once the job is inactive; `finish()` (called when the job is over) also stops it as
 * soon as every stream has delivered its eof.
 */
export class OutputFollower {
  private readonly watch: job.JobOutputWatch;
  private readonly done: Promise<void>;
  private streams = 0;
  private eofs = 0;
  private jobDone = false;

  constructor(
    h: Flux,
    id: bigint,
    private readonly opts: { label?: string; quiet?: boolean; stamp?: (ts: number) => string },
  ) {
    this.watch = job.outputWatch(h, id, { waitcreate: true });
    this.done = this.run();
    // eslint-disable-next-line no-restricted-syntax -- awaited and reported by finish(); not wanted after cancel()
    this.done.catch(() => undefined);
  }

  private complete(): boolean {
    return this.jobDone && this.streams > 0 && this.eofs >= this.streams;
  }

  private async run(): Promise<void> {
    try {
      for await (const item of this.watch) {
        if (item.data !== undefined) await this.output(item.data.stream, String(item.data.rank), item.data.data);
        else await this.handle(item.event);
        if (this.complete()) this.watch.cancel();
      }
    } catch (e) {
      if (e instanceof FluxError && e.errno === Errno.ENOENT) {
        if (!this.opts.quiet) process.stderr.write(`${JOB_PREFIX}: No job output found\n`);
        return;
      }
      throw e;
    }
  }

  /** Output of a task (`rank`) to our stdout or stderr, after its label (-l). */
  private async output(streamName: unknown, rank: string, data: string | Buffer): Promise<void> {
    if (data.length === 0) return;
    const stream = streamName === 'stdout' ? process.stdout : process.stderr;
    if (this.opts.label !== undefined) await write(stream, `${this.opts.label}${rank}: `);
    await write(stream, data);
  }

  private async handle(ev: EventlogEvent): Promise<void> {
    const c = ev.context as Record<string, any>;
    if (ev.name === 'header') {
      const count = c.count ?? {};
      this.streams = Object.values(count).reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
    } else if (ev.name === 'data') {
      if (c.eof) this.eofs += rankCount(c.rank);
      if (typeof c.data !== 'string' || c.data.length === 0) return;
      await this.output(c.stream, c.rank, c.encoding === 'base64' ? Buffer.from(c.data, 'base64') : c.data);
    } else if (ev.name === 'redirect') {
      if (!this.opts.quiet) process.stderr.write(`${c.rank}: ${c.stream} redirected${c.path ? ` to ${c.path}` : ''}\n`);
    } else if (ev.name === 'log') {
      if (!this.opts.quiet) {
        const levels = ['FATAL', 'FATAL', 'FATAL', 'ERROR', ' WARN', undefined, 'DEBUG', 'TRACE'];
        let s = `${this.opts.stamp?.(ev.timestamp) ?? ''}: flux-shell`;
        if (typeof c.rank === 'number' && c.rank >= 0) s += `[${c.rank}]`;
        const label = levels[c.level as number];
        if (label) s += `: ${label}`;
        if (c.component) s += `: ${c.component}`;
        process.stderr.write(`${s}: ${c.message}\n`);
      }
    }
  }

  /** The job is over: wait for the rest of its output. */
  async finish(): Promise<void> {
    this.jobDone = true;
    if (this.complete()) this.watch.cancel();
    await this.done;
  }

  cancel(): void {
    this.watch.cancel();
  }
}

/**
 * False when our stdin is a terminal whose foreground process group is not ours (`tsflux run
 * CMD &` from an interactive shell): reading it would get us stopped by SIGTTIN, so such an
 * attach forwards no stdin, as if `-r`.
 */
function stdinReadable(): boolean {
  if (!process.stdin.isTTY) return true;
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[2] === f[5]; // pgrp === tpgid (the terminal's foreground group)
  } catch {
    return true; // not Linux: read, as flux does
  }
}

/**
 * Our stdin to the job's tasks: each chunk as a `<service>.stdin` request (RFC 24 data: text
 * when it is valid UTF-8, else base64), then eof. At most a few requests are in flight: reading
 * pauses until the instance has taken them.
 */
class StdinForwarder {
  private inflight = 0;
  private stopped = false;
  private readonly onData = (chunk: Buffer) =>
    this.send(
      isUtf8(chunk) ? { data: chunk.toString('utf8') } : { data: chunk.toString('base64'), encoding: 'base64' },
    );
  // Every task gets the eof, those that got no data too (they would wait for input forever).
  private readonly onEnd = () => this.send({ eof: true }, 'all');
  private readonly onError = () => this.stop();

  constructor(
    private readonly h: Flux,
    private readonly topic: string,
    private readonly rank: string,
    private readonly quiet: boolean,
  ) {
    const input = process.stdin;
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    input.on('error', this.onError);
  }

  private send(p: Record<string, unknown>, rank = this.rank): void {
    if (this.stopped) return;
    this.inflight++;
    if (this.inflight >= 4) process.stdin.pause();
    this.h.rpc(this.topic, { stream: 'stdin', rank, ...p }).then(
      () => {
        if (--this.inflight < 4 && !this.stopped) process.stdin.resume();
      },
      (e: Error) => {
        this.inflight--;
        // ENOSYS: the job's shell is gone (the job ended while we were reading): nothing to say.
        const gone = e instanceof FluxError && e.errno === Errno.ENOSYS;
        if (!this.quiet && !this.stopped && !gone) process.stderr.write(`${JOB_PREFIX}: stdin: ${e.message}\n`);
        this.stop();
      },
    );
  }

  /** Stop reading (the job is over, or its input is gone). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const input = process.stdin;
    input.off('data', this.onData);
    input.off('end', this.onEnd);
    input.off('error', this.onError);
    input.pause();
    if (!input.isTTY) input.destroy();
  }
}

/**
 * Attach to job `id` (printed as `jobid`) and return the exit code. Output goes to
 * process.stdout / process.stderr.
 */
export async function attachJob(h: Flux, id: bigint, jobid: string, opts: AttachOptions = {}): Promise<number> {
  const waitEvent = opts.waitEvent ?? 'clean';
  let exitCode = 1;
  let fatal = false;
  let t0 = 0;
  const stamp = (ts: number) => `${(ts - t0).toFixed(3)}s`;

  // ---- guest.output ------------------------------------------------------------------------
  let output: OutputFollower | undefined;
  const startOutput = () => {
    if (output) return;
    output = new OutputFollower(h, id, {
      ...(opts.labelIo ? { label: '' } : {}),
      quiet: !!opts.quiet,
      stamp: (ts) => stamp(ts),
    });
  };

  // ---- guest.exec.eventlog: shown with -X; its shell.init names the service for stdin -----------
  let execDone: Promise<void> | undefined;
  let execWatch: job.JobEventWatch | undefined;
  let stdin: StdinForwarder | undefined;
  let jobOver = false;
  const wantStdin = !opts.readOnly && stdinReadable();
  const startExec = () => {
    if (execWatch || (!opts.showExec && !wantStdin)) return;
    const w = job.eventWatch(h, id, { path: 'guest.exec.eventlog', waitcreate: true });
    execWatch = w;
    execDone = (async () => {
      try {
        for await (const ev of w) {
          if (opts.showExec) {
            process.stderr.write(
              `${stamp(ev.timestamp)}: exec.${ev.name}${ev.hasContext ? ' ' + JSON.stringify(ev.context) : ''}\n`,
            );
          }
          const service = (ev.context as Record<string, unknown>).service;
          if (ev.name === 'shell.init' && wantStdin && !stdin && !jobOver && typeof service === 'string') {
            stdin = new StdinForwarder(h, `${service}.stdin`, opts.stdinRanks ?? 'all', !!opts.quiet);
          }
        }
      } catch (e) {
        if (!(e instanceof FluxError && e.errno === Errno.ENOENT)) throw e;
      }
    })();
    // awaited once the job is over (below); if attaching fails first, that failure is reported
    // eslint-disable-next-line no-restricted-syntax -- handled where awaited
    execDone.catch(() => undefined);
  };

  // ---- signals ---------------------------------------------------------------------------------
  let sigints = 0;
  let detach: (() => void) | undefined;
  const detached = new Promise<void>((r) => (detach = r));
  const onSigint = () => {
    sigints++;
    if (sigints === 1) {
      job
        .cancel(h, id, 'interrupted by ctrl-C')
        .catch((e: Error) => process.stderr.write(`${JOB_PREFIX}: cancel: ${e.message}\n`));
    } else {
      process.stderr.write(`${JOB_PREFIX}: detaching...\n`);
      detach!();
    }
  };
  const fwd = FWD_SIGNALS.map(([sig, num]) => {
    const fn = () => {
      job.kill(h, id, num).catch((e: Error) => process.stderr.write(`${JOB_PREFIX}: kill: ${e.message}\n`));
    };
    return [sig, fn] as const;
  });
  if (!opts.readOnly) {
    process.on('SIGINT', onSigint);
    for (const [sig, fn] of fwd) process.on(sig, fn);
  }
  if (opts.announce !== undefined) process.stderr.write(opts.announce + '\n');

  // ---- main eventlog ---------------------------------------------------------------------------
  const main = job.eventWatch(h, id);
  const follow = (async () => {
    try {
      for await (const ev of main) {
        if (t0 === 0) t0 = ev.timestamp;
        const c = ev.context as Record<string, any>;
        if (ev.name === 'exception') {
          process.stderr.write(
            `${stamp(ev.timestamp)}: job.exception ${jobid} type=${c.type} severity=${c.severity} ${c.note ?? ''}\n`,
          );
          fatal = c.severity === 0;
        } else if (ev.name === 'finish') {
          const r = waitstatusToExitcode(Number(c.status));
          exitCode = r.exitcode;
          if (exitCode !== 0) process.stderr.write(`${JOB_PREFIX}: ${r.errstr}\n`);
        } else if (ev.name === 'alloc') {
          startExec();
        } else if (ev.name === 'start') {
          startExec();
          startOutput();
        }
        if (opts.showEvents && ev.name !== 'exception') {
          process.stderr.write(
            `${stamp(ev.timestamp)}: job.${ev.name}${ev.hasContext ? ' ' + JSON.stringify(ev.context) : ''}\n`,
          );
        }
        if (ev.name === waitEvent) {
          main.cancel();
          break;
        }
      }
    } catch (e) {
      if (e instanceof FluxError && e.errno === Errno.ENOENT)
        throw new CliError(`${JOB_PREFIX}: Failed to attach to ${jobid}: No such job`);
      if (e instanceof FluxError && e.errno === Errno.EPERM)
        throw new CliError(`${JOB_PREFIX}: Failed to attach to ${jobid}: that is not your job`);
      throw e;
    }
    jobOver = true;
    stdin?.stop();
    await output?.finish();
    if (execWatch) {
      execWatch.cancel();
      await execDone;
    }
  })();

  try {
    const r = await Promise.race([follow.then(() => 'done' as const), detached.then(() => 'detached' as const)]);
    if (r === 'detached') {
      jobOver = true;
      stdin?.stop();
      // eslint-disable-next-line no-restricted-syntax -- detached: the job runs on, what its watch ends with no longer matters
      follow.catch(() => undefined);
      main.cancel();
      output?.cancel();
      execWatch?.cancel();
      return 128 + 2;
    }
  } finally {
    if (!opts.readOnly) {
      process.off('SIGINT', onSigint);
      for (const [sig, fn] of fwd) process.off(sig, fn);
    }
  }
  if (fatal && exitCode === 0) exitCode = 1;
  return exitCode;
}

interface AttachCmdOptions {
  showEvents?: boolean;
  showExec?: boolean;
  waitEvent?: string;
  labelIo?: boolean;
  quiet?: boolean;
  readOnly?: boolean;
  stdinRanks?: string;
  verbose?: boolean;
}

export function jobAttachCommand(): Command {
  return new Command('attach')
    .description("attach to a job: copy its output to this terminal and exit with the job's exit code")
    .argument('<id>', 'job id')
    .option('-E, --show-events', 'show job events on stderr')
    .option('-X, --show-exec', 'show exec events on stderr')
    .option('-w, --wait-event <NAME>', 'wait for event NAME before detaching from the eventlog (default: clean)')
    .option('-l, --label-io', 'label output by rank')
    .option('-q, --quiet', 'suppress warnings written to stderr')
    .option('-r, --read-only', 'do not capture signals nor forward stdin')
    .option('-i, --stdin-ranks <RANKS>', 'send stdin to these task ranks only (an idset; default: all)')
    .option('-v, --verbose', 'increase verbosity')
    .action(
      fluxAction(JOB_PREFIX, async (idArg: string, opts: AttachCmdOptions) => {
        const id = jobIdArg(idArg);
        const h = await openFlux();
        try {
          return await attachJob(h, id, idArg, opts);
        } finally {
          h.close();
        }
      }),
    );
}
