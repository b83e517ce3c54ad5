/**
 * `tsflux job eventlog [-f text|json] [-T raw|iso|offset] [-F] [-p PATH] ID` — Flux's
 * `flux job eventlog` (src/cmd/job/eventlog.c).
 *
 * Without -F the whole log is read with job-info.lookup (as flux does) and printed. With
 * -F/--follow it is watched with job-info.eventlog-watch (WAITCREATE) and each event is
 * printed as it is appended, until the log is complete. `-p` takes an eventlog name or the
 * shorthands `exec` (guest.exec.eventlog), `output` (guest.output), `input` (guest.input).
 * Text lines are `<timestamp> <name> key=value ...` (values as compact JSON); json lines are
 * the RFC 18 entries. An unknown job prints `tsflux-job: job ID not found`, exit 1.
 */
import { Command, Option } from 'commander';
import * as job from '../client/job/index.js';
import { formatEventText, parseEventlog, type EventlogEntry } from '../job/eventlog.js';
import { formatFixed } from '../job/numfmt.js';
import { Errno, FluxError } from '../protocol/errno.js';
import { CliError, fluxAction, jobIdArg, openFlux } from './lib/util.js';
import { JOB_PREFIX } from './attach.js';

const PATHS: Record<string, string> = { exec: 'guest.exec.eventlog', output: 'guest.output', input: 'guest.input' };

interface EventlogOptions {
  format: string;
  timeFormat: string;
  follow?: boolean;
  path: string;
}

/** Formats eventlog entries like flux's eventlog formatter (text/json; raw/iso/offset time). */
export class EventFormatter {
  private t0 = 0;
  constructor(
    private readonly format: 'text' | 'json',
    private readonly time: 'raw' | 'iso' | 'offset',
  ) {}

  line(e: EventlogEntry, raw?: string): string {
    if (this.t0 === 0) this.t0 = e.timestamp;
    if (this.format === 'json') return raw !== undefined ? raw.replace(/\n$/, '') : JSON.stringify(e);
    const text = formatEventText(e);
    const rest = text.slice(text.indexOf(' '));
    if (this.time === 'raw') return text;
    if (this.time === 'offset') return formatFixed(e.timestamp - this.t0, 6) + rest;
    const d = new Date(e.timestamp * 1000);
    const us = String(Math.floor((e.timestamp % 1) * 1e6)).padStart(6, '0');
    return d.toISOString().replace(/\.\d+Z$/, `.${us}Z`) + rest;
  }
}

async function eventlogMain(idArg: string, opts: EventlogOptions): Promise<number> {
  const id = jobIdArg(idArg);
  if (opts.format !== 'text' && opts.format !== 'json')
    throw new CliError(`${JOB_PREFIX}: invalid format type '${opts.format}'`);
  if (!['raw', 'iso', 'offset'].includes(opts.timeFormat))
    throw new CliError(`${JOB_PREFIX}: invalid time-format type '${opts.timeFormat}'`);
  const path = PATHS[opts.path] ?? opts.path;
  const fmt = new EventFormatter(opts.format, opts.timeFormat as 'raw' | 'iso' | 'offset');
  const notFound = () =>
    new CliError(
      path === 'eventlog' ? `${JOB_PREFIX}: job ${idArg} not found` : `${JOB_PREFIX}: eventlog path ${path} not found`,
    );
  const h = await openFlux();
  try {
    if (opts.follow) {
      try {
        for await (const ev of job.eventWatch(h, id, { path, waitcreate: true })) {
          process.stdout.write(fmt.line(ev.toJSON(), ev.encode()) + '\n');
        }
      } catch (e) {
        if (e instanceof FluxError && e.errno === Errno.ENOENT) throw notFound();
        throw e;
      }
      return 0;
    }
    let text: string | undefined;
    try {
      text = (await job.lookup(h, id, [path], 0))[path];
    } catch (e) {
      if (e instanceof FluxError && e.errno === Errno.ENOENT) throw notFound();
      throw e;
    }
    if (text === undefined) throw notFound();
    const entries = parseEventlog(text);
    const lines = text.split('\n');
    let out = '';
    entries.forEach((e, i) => (out += fmt.line(e, lines[i]) + '\n'));
    process.stdout.write(out);
    return 0;
  } finally {
    h.close();
  }
}

export function jobEventlogCommand(): Command {
  return new Command('eventlog')
    .description("print a job's eventlog (with -F, follow it until the job is complete)")
    .argument('<id>', 'job id')
    .addOption(new Option('-f, --format <FORMAT>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('-T, --time-format <FORMAT>', 'time format').choices(['raw', 'iso', 'offset']).default('raw'))
    .option('-F, --follow', 'follow the eventlog: print events as they are appended, until the job is complete')
    .option('-p, --path <PATH>', 'eventlog name or shorthand: exec, output, input (default: eventlog)', 'eventlog')
    .action(fluxAction(JOB_PREFIX, (id: string, opts: EventlogOptions) => eventlogMain(id, opts)));
}
