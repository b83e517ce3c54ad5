/**
 * `tsflux jobs` — Flux's `flux jobs` (src/cmd/flux-jobs.py): list jobs through job-list.list
 * (or job-list.list-id for explicit ids) and print them with a Python-style format.
 *
 * Supported: -a, -A, -c/--count, -f/--filter (states and results, comma lists, repeatable),
 * --since, -n/--suppress-header (also --no-header), -u/--user, --name, --queue,
 * -o/--format (a format string or the names `default`, `deps`, `long`), --stats,
 * --stats-only, --color[=WHEN] (jobs-color.ts), JOBID arguments.
 * Not supported: -R/--recursive, -L, --threads,
 * `sort:` prefixes in formats, `instance.*` fields.
 */
import { Command, Option } from 'commander';
import * as job from '../client/job/index.js';
import { USERID_ANY } from '../client/job/list.js';
import { FluxError, Errno } from '../protocol/errno.js';
import { JobResult, JobState, VirtualState } from '../job/states.js';
import { parseFsd } from '../job/fsd.js';
import { HEADINGS, JobInfo, fieldsToAttrs, headingsFor, uidOf } from './lib/jobinfo.js';
import { OutputFormat } from './lib/pyformat.js';
import { colorEnabled, jobColor, parseColorWhen } from './lib/jobs-color.js';
import { CliError, fluxAction, jobIdArg, openFlux } from './lib/util.js';

const PREFIX = 'tsflux-jobs';

export const JOBS_FORMATS: Record<string, { description: string; format: string }> = {
  default: {
    description: 'Default flux-jobs format string',
    format:
      '{id.f58:>12} ?:{queue:<8.8} {username:<8.8} {name:<10.10+} {status_abbrev:>2.2} {ntasks:>6} {nnodes:>6h} {contextual_time!F:>8h} {contextual_info}',
  },
  deps: {
    description: 'Show job urgency, priority, and dependencies',
    format: '{id.f58:>12} ?:{queue:<8.8} {name:<10.10+} {urgency:<3} {priority:<12} {state:<8.8} {dependencies}',
  },
  long: {
    description: 'Extended flux-jobs format string',
    format:
      '{id.f58:>12} ?:{queue:<8.8} {username:<8.8} {name:<10.10+} {status:>9.9} {ntasks:>6} {nnodes:>6h} {t_submit!d:%b%d %R::>12} {t_remaining!F:>12h} {contextual_time!F:>8h} {contextual_info}',
  },
};

const STATE_FILTERS: Record<string, number> = {
  depend: JobState.DEPEND,
  priority: JobState.PRIORITY,
  sched: JobState.SCHED,
  run: JobState.RUN,
  cleanup: JobState.CLEANUP,
  inactive: JobState.INACTIVE,
  pending: VirtualState.PENDING,
  running: VirtualState.RUNNING,
  active: VirtualState.ACTIVE,
};
const RESULT_FILTERS: Record<string, number> = {
  completed: JobResult.COMPLETED,
  failed: JobResult.FAILED,
  canceled: JobResult.CANCELED,
  cancelled: JobResult.CANCELED,
  timeout: JobResult.TIMEOUT,
};

interface JobsOptions {
  a?: boolean;
  A?: boolean;
  count: string;
  filter?: string[];
  since?: string;
  suppressHeader?: boolean;
  user?: string;
  name?: string;
  queue?: string;
  format: string;
  color?: string | boolean;
  stats?: boolean;
  statsOnly?: boolean;
}

/** States/results bitmasks from --filter names (JobList.add_filter). */
export function parseFilters(names: readonly string[]): { states: number; results: number } {
  let states = 0;
  let results = 0;
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (name === '') continue;
    if (name === 'all') states |= VirtualState.PENDING | VirtualState.RUNNING;
    else if (name in STATE_FILTERS) states |= STATE_FILTERS[name]!;
    else if (name in RESULT_FILTERS) results |= RESULT_FILTERS[name]!;
    else throw new CliError(`${PREFIX}: ERROR: Invalid filter specified: ${raw}`);
  }
  return { states, results };
}

/** The RFC 31 constraint for states/results (results are matched among inactive jobs). */
function filterConstraint(states: number, results: number): object | undefined {
  if (states && results) return { or: [{ states: [states] }, { results: [results] }] };
  if (states) return { states: [states] };
  if (results) return { results: [results] };
  return undefined;
}

function formatString(name: string): string {
  if (name.includes('{')) return name;
  const f = JOBS_FORMATS[name];
  if (!f) throw new CliError(`${PREFIX}: ERROR: --format: No such format ${name}`);
  return f.format;
}

function statsLine(s: Record<string, any>): string {
  const st = s.job_states ?? {};
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const running = n(st.run) + n(st.cleanup);
  const pending = n(st.depend) + n(st.priority) + n(st.sched);
  const failed = n(s.failed) + n(s.timeout) + n(s.canceled);
  return `${running} running, ${n(s.successful)} completed, ${failed} failed, ${pending} pending, ${n(s.inactive_purged)} inactive purged`;
}

function parseSince(s: string): number {
  const now = Date.now() / 1000;
  let t: number;
  if (s === 'now') t = now;
  else if (s.startsWith('-') || s.startsWith('+')) t = now + (s[0] === '-' ? -1 : 1) * parseFsd(s.slice(1));
  else if (/^\d+(\.\d*)?$/.test(s)) t = Number(s);
  else {
    const d = Date.parse(s);
    if (Number.isNaN(d)) throw new CliError(`${PREFIX}: ERROR: Invalid datetime: "${s}"`);
    t = d / 1000;
  }
  if (t > now) throw new CliError(`${PREFIX}: ERROR: --since=${s} appears to be in the future`);
  return t;
}

async function jobsMain(ids: string[], opts: JobsOptions): Promise<number> {
  let fmt: OutputFormat<JobInfo>;
  const fmtText = formatString(opts.format);
  try {
    fmt = new OutputFormat<JobInfo>(fmtText, headingsFor(fieldsOf(fmtText)), (j, f) => j.field(f));
  } catch (e) {
    throw new CliError(`${PREFIX}: ERROR: Error in user format: ${(e as Error).message}`);
  }
  const count = Number(opts.count);
  if (!Number.isInteger(count) || count < 0)
    throw new CliError(`${PREFIX}: error: argument -c/--count: invalid int value: '${opts.count}'`);
  let colorWhen;
  try {
    colorWhen = parseColorWhen(opts.color);
  } catch (e) {
    throw new CliError(`${PREFIX}: error: ${(e as Error).message}`, 2);
  }
  const jobids = ids.map((s) => jobIdArg(s, PREFIX));

  const h = await openFlux();
  try {
    if (opts.stats || opts.statsOnly) {
      const s = await h.rpc<Record<string, any>>('job-list.job-stats', {});
      process.stdout.write(statsLine(s) + '\n');
      if (opts.statsOnly) {
        const st = s.job_states ?? {};
        return Number(st.total ?? 0) - Number(st.inactive ?? 0) > 0 ? 0 : 1;
      }
    }
    // as flux: colouring (always or auto) needs each job's result and annotations (user.uri)
    const attrs = fieldsToAttrs(colorWhen === 'never' ? fmt.fields : [...fmt.fields, 'result', 'annotations']);
    let infos: JobInfo[] = [];
    if (jobids.length > 0) {
      const results = await Promise.allSettled(jobids.map((id) => job.listId(h, id, attrs)));
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') infos.push(new JobInfo(r.value));
        else {
          const e = r.reason;
          if (e instanceof FluxError && e.errno === Errno.ENOENT) process.stderr.write(`JobID ${ids[i]} unknown\n`);
          else if (e instanceof FluxError) process.stderr.write(`rpc: ${e.message}\n`);
          else throw e;
        }
      });
    } else {
      let userid = process.getuid?.() ?? 0;
      if (opts.A || opts.user === 'all') userid = USERID_ANY;
      else if (opts.user !== undefined) {
        try {
          userid = uidOf(opts.user);
        } catch (e) {
          throw new CliError(`${PREFIX}: ERROR: ${(e as Error).message}`);
        }
      }
      const filters = [...(opts.filter ?? [])];
      let since = 0;
      if (opts.since !== undefined) {
        since = parseSince(opts.since);
        if (filters.length === 0) opts.a = true;
      }
      if (opts.a || opts.A) filters.push('pending', 'running', 'inactive');
      if (filters.length === 0) filters.push('pending', 'running');
      const { states, results } = parseFilters(filters);
      const constraint = filterConstraint(states, results);
      const records = await job.list(h, {
        maxEntries: count,
        attrs,
        userid,
        since,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.queue ? { queue: opts.queue } : {}),
        ...(constraint ? { constraint } : {}),
      });
      infos = records.map((r) => new JobInfo(r));
    }
    const f = fmt.prepare(infos);
    let text = '';
    if (!opts.suppressHeader) text += f.header() + '\n';
    const colored = colorEnabled(colorWhen);
    for (const j of infos) {
      const c = colored ? jobColor(j) : undefined;
      text += (c?.start ?? '') + f.format(j) + '\n' + (c?.end ?? '');
    }
    process.stdout.write(text);
    return 0;
  } finally {
    h.close();
  }
}

function fieldsOf(fmt: string): string[] {
  return [...fmt.matchAll(/\{([^{}!:]+)/g)].map((m) => m[1]!);
}

const collectFilter = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(',')];

export function jobsCommand(): Command {
  return new Command('jobs')
    .description('list jobs (by default: your active jobs)')
    .usage('[OPTIONS] [JOBID...]')
    .argument('[jobids...]', 'limit output to these job ids')
    .option('-a', 'list jobs in all states')
    .option('-A', 'list all jobs of all users')
    .option('-c, --count <N>', 'limit output to N jobs', '1000')
    .option(
      '-f, --filter <STATE|RESULT>',
      'list jobs with these states or results (comma list, repeatable): depend, priority, sched, run, cleanup, inactive, pending, running, active, completed, failed, canceled, timeout',
      collectFilter,
    )
    .option(
      '--since <WHEN>',
      'include jobs that became inactive since WHEN (seconds since the epoch, a date, or -FSD); implies -a',
    )
    .option('-n, --suppress-header', 'suppress printing of the header line')
    .addOption(new Option('--no-header', 'same as --suppress-header').hideHelp())
    .option('-u, --user <USER>', 'limit output to USER (a name or uid, or "all")')
    .option('--name <NAME>', 'limit output to jobs with this name')
    .option('--queue <QUEUE>', 'limit output to this queue')
    .option('-o, --format <FORMAT>', 'output format: a Python format string or one of default, deps, long', 'default')
    .option(
      '--color [WHEN]',
      'colour each line by the job result: never, always (also --color alone) or auto (the default: when stdout is a terminal)',
    )
    .option('--stats', 'print job statistics before the listing')
    .option('--stats-only', 'print job statistics only; exit 1 when there are no active jobs')
    .addHelpText(
      'after',
      '\nFormat fields: ' +
        Object.keys(HEADINGS).join(' ') +
        ' contextual_info contextual_time, annotations.*; conversions !d !D !F !H !P; spec suffixes h and +.',
    )
    .action(
      fluxAction(PREFIX, async (ids: string[], opts: JobsOptions & { header?: boolean }) => {
        if (opts.header === false) opts.suppressHeader = true;
        return jobsMain(ids, opts);
      }),
    );
}
