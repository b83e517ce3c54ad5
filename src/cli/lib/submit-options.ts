/**
 * Job submission options shared by `run`, `submit` and `mini run/submit`, and the jobspec
 * they produce — a port of Flux's Python CLI (flux/cli/base.py: MiniCmd, SubmitBaseCmd,
 * SubmitBulkCmd; jobspec_create / init_jobspec).
 *
 * Supported: -n -c -g -N -x, -t, --env/--env-remove/--env-file (order kept), --rlimit, --cwd,
 * --job-name, --input/--output/--error, -u, -l, -o/--setopt, --setattr, -q/--queue, -B/--bank,
 * --urgency, --flags, --signal, --dependency, --taskmap, --dry-run, -v (run); for submit also
 * --cc/--bcc, --wait, --wait-event, --watch, --quiet, --progress, --jps. What they put in the
 * jobspec the instance honours or refuses at submit (-q, --taskmap, most -o options: see
 * broker/job-manager/unsupported.ts), so --dry-run still prints flux's jobspec for them.
 * Flux options tsflux does not implement are refused with an error naming them (UNSUPPORTED):
 * the per-resource options (--cores, --tasks-per-node, --tasks-per-core, --gpus-per-node),
 * --requires, --begin-time, --add-file, and submit's --log, --log-stderr and -v.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { JobspecV1, ValueError, processEnvironment } from '../../job/jobspec.js';
import { parseFsd, parsePyFloat } from '../../job/fsd.js';
import { PyFloat } from '../../job/pyjson.js';
import { filterRlimits, allRlimits, globMatch } from '../../job/rlimits.js';
import { isIdset, parseIdset } from '../../job/idset.js';
import { submitFlagBit } from '../../job/submit-flags.js';
import { ccCommand, ccOptions } from './cc-format.js';

/** The options of run / submit as parsed (commander's camelCase names). Counts stay strings until buildJobspec. */
export interface SubmitCommandOptions {
  ntasks?: string | number;
  coresPerTask?: string | number;
  gpusPerTask?: string | number;
  nodes?: string | number;
  exclusive?: boolean;
  timeLimit?: string;
  /** Ordered env rules: `VAR=VAL`, `PATTERN`, `-PATTERN` (remove), `^FILE` (rules file). */
  env?: string[];
  /** Extra remove patterns (applied after `env` when given programmatically). */
  envRemove?: string[];
  /** Extra rule files (applied after `env` when given programmatically). */
  envFile?: string[];
  rlimit?: string[];
  cwd?: string;
  jobName?: string;
  input?: string;
  output?: string;
  error?: string;
  unbuffered?: boolean;
  labelIo?: boolean;
  setopt?: string[];
  setattr?: string[];
  queue?: string;
  bank?: string;
  urgency?: string;
  flags?: string[];
  signal?: string;
  dependency?: string[];
  taskmap?: string;
  dryRun?: boolean;
  verbose?: number;
  // submit (bulk) options
  cc?: string;
  bcc?: string;
  wait?: boolean;
  waitEvent?: string;
  watch?: boolean;
  quiet?: boolean;
  progress?: boolean;
  jps?: boolean;
}

/** Things buildJobspec normally takes from the process (overridable for tests). */
export interface BuildContext {
  /** Environment to start from (default: process.env). */
  environ?: Record<string, string>;
  /** Working directory used when --cwd is not given (default: process.cwd()). */
  cwd?: string;
  /** All soft rlimits (default: read from /proc/self/limits). */
  rlimits?: Record<string, number>;
  /**
   * Copy id for --cc/--bcc: `{cc}` is formatted in the command and options (cc-format.ts) and,
   * with --cc, FLUX_JOB_CC set. A string is put in as is: a placeholder, for a template of
   * every copy (cc-jobspecs.ts).
   */
  cc?: number | string;
}

// ---- small parsers ----------------------------------------------------------------------------

/** Python `int(str)`: optional sign, digits with single `_` separators, surrounding spaces. */
export function parsePyInt(s: string): number | undefined {
  if (!/^\s*[+-]?\d(?:_?\d)*\s*$/.test(s)) return undefined;
  return Number(s.replace(/[_\s]/g, ''));
}

function intOption(name: string, v: string | number | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number') return v;
  const n = parsePyInt(v);
  if (n === undefined) throw new ValueError(`--${name}: invalid int value '${v}'`);
  return n;
}

export const URGENCY_HOLD = 0;
export const URGENCY_DEFAULT = 16;
export const URGENCY_EXPEDITE = 31;

/**
 * `--urgency`: an integer, or `default`/`hold`/`expedite`. The range 0..31 is not checked
 * here: like flux, the instance rejects it (`urgency range is [0:31]`).
 */
export function parseUrgency(v: string | undefined): number {
  if (v === undefined || v === 'default') return URGENCY_DEFAULT;
  if (v === 'hold') return URGENCY_HOLD;
  if (v === 'expedite') return URGENCY_EXPEDITE;
  const n = parsePyInt(v);
  if (n === undefined) throw new ValueError(`--urgency: invalid value '${v}' (an integer, default, hold or expedite)`);
  return n;
}

/** `--flags=debug,waitable,novalidate` (repeatable) → submit flag bits. */
export function parseSubmitFlags(list: readonly string[] | undefined): number {
  let flags = 0;
  for (const item of list ?? []) {
    for (const f of item.split(',')) {
      const bit = submitFlagBit(f);
      if (bit === undefined) throw new ValueError(`--flags: Unknown flag ${f}`);
      flags |= bit;
    }
  }
  return flags;
}

/** The ids of --cc/--bcc, or `[undefined]` (one job) when neither is given. */
export function ccList(opts: Pick<SubmitCommandOptions, 'cc' | 'bcc'>): Array<number | undefined> {
  if (opts.cc && opts.bcc) throw new ValueError('specify only one of --cc or --bcc');
  const spec = opts.cc || opts.bcc;
  if (!spec) return [undefined];
  try {
    return parseIdset(spec);
  } catch (err) {
    throw new ValueError(`--${opts.cc ? 'cc' : 'bcc'}: ${(err as Error).message}`);
  }
}

// ---- environment rules -------------------------------------------------------------------------

/** Python string.Template.substitute with a lookup function. */
function templateSubstitute(tmpl: string, lookup: (k: string) => string | undefined, rule: string): string {
  return tmpl.replace(
    /\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\}|())/g,
    (
      _m,
      esc: string | undefined,
      named: string | undefined,
      braced: string | undefined,
      invalid: string | undefined,
    ) => {
      if (esc !== undefined) return '$';
      const name = named ?? braced;
      if (name !== undefined) {
        const v = lookup(name);
        if (v === undefined) throw new ValueError(`--env: Variable '${name}' not found in ${rule}`);
        return v;
      }
      if (invalid !== undefined) throw new ValueError(`--env: Unable to substitute ${rule}`);
      return '';
    },
  );
}

/** A `--env` pattern: shell glob, or a regex when it starts with `/` (matched at the start). */
function envPatternMatcher(pattern: string): (key: string) => boolean {
  if (pattern.startsWith('/')) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(1).replace(/\/+$/, ''), 'y');
    } catch (err) {
      throw new ValueError(`--env: invalid regex ${pattern}: ${(err as Error).message}`);
    }
    return (k) => {
      re.lastIndex = 0;
      return re.test(k);
    };
  }
  return (k) => globMatch(pattern, k);
}

/**
 * Python get_filtered_environment: apply env rules in order to a copy of `environ`.
 * `-PATTERN` removes matching variables; `^FILE` reads more rules (one per line);
 * `VAR=VAL` sets VAR, expanding `$X`/`${X}` from the job environment first and then `base`;
 * `PATTERN` copies matching variables from `base` that are not already set.
 */
export function filteredEnvironment(
  rules: readonly string[] | undefined,
  environ: Record<string, string> = processEnvironment(),
  base: Record<string, string | undefined> = process.env,
): Record<string, string> {
  let env: Record<string, string> = { ...environ };
  for (const rule of rules ?? []) {
    if (rule.startsWith('-')) {
      const match = envPatternMatcher(rule.slice(1));
      env = Object.fromEntries(Object.entries(env).filter(([k]) => !match(k)));
    } else if (rule.startsWith('^')) {
      let file = rule.slice(1);
      if (file === '~' || file.startsWith('~/')) file = path.join(os.homedir(), file.slice(1));
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new ValueError(`--env-file: ${(err as NodeJS.ErrnoException).message}`);
      }
      const lines = text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      env = filteredEnvironment(lines, env, base);
    } else {
      const eq = rule.indexOf('=');
      if (eq < 0) {
        const match = envPatternMatcher(rule);
        for (const [k, v] of Object.entries(base)) {
          if (v !== undefined && match(k) && !(k in env)) env[k] = v;
        }
      } else {
        const name = rule.slice(0, eq);
        env[name] = templateSubstitute(rule.slice(eq + 1), (k) => (k in env ? env[k] : base[k]), rule);
      }
    }
  }
  return env;
}

// ---- other option values -----------------------------------------------------------------------

/** Python parse_jobspec_keyval for -o/--setopt and --setattr: `KEY[=VAL]`, `^KEY=FILE`. */
export function parseKeyval(label: string, keyval: string): [string, unknown] {
  const eq = keyval.indexOf('=');
  let key = eq < 0 ? keyval : keyval.slice(0, eq);
  const raw = eq < 0 ? undefined : keyval.slice(eq + 1);
  if (raw === undefined) return [key.replace(/^\^+/, ''), 1];
  if (key.startsWith('^')) {
    key = key.replace(/^\^+/, '');
    let text: string;
    try {
      text = fs.readFileSync(raw, 'utf8');
    } catch (err) {
      throw new ValueError(`${label}: ${(err as NodeJS.ErrnoException).message}`);
    }
    try {
      return [key, JSON.parse(text)];
    } catch (err) {
      throw new ValueError(`${label}: ${raw}: ${(err as Error).message}`);
    }
  }
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === 'number' && /[.eE]/.test(raw)) return [key, new PyFloat(v)];
    return [key, v];
  } catch {
    return [key, raw];
  }
}

/** Python URIArg(...).entry: `scheme:value[?k=v&…]` → `{scheme, value, k: v…}`. */
export function uriEntry(uri: string, name: string): Record<string, unknown> {
  const colon = uri.indexOf(':');
  const scheme = (colon < 0 ? uri : uri.slice(0, colon)).toLowerCase();
  let rest = colon < 0 ? '' : uri.slice(colon + 1);
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new ValueError(`Invalid ${name} URI "${uri}"`);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const value = q < 0 ? rest : rest.slice(0, q);
  const entry: Record<string, unknown> = { scheme, value };
  if (q >= 0) {
    const params = new URLSearchParams(rest.slice(q + 1));
    const keys = [...new Set([...params.keys()])];
    const tryNumber = (x: string): unknown => {
      const i = parsePyInt(x);
      if (i !== undefined) return i;
      const f = parsePyFloat(x);
      return f !== undefined ? new PyFloat(f) : x;
    };
    for (const k of keys) {
      const vals = params.getAll(k).filter((v) => v !== '');
      if (vals.length === 0) continue;
      entry[k] = vals.length > 1 ? vals.map(tryNumber) : tryNumber(vals[0]!);
    }
  }
  return entry;
}

/** Signal number from `10`, `SIGUSR1` or `USR1`. */
function decodeSignal(val: string): number {
  const n = parsePyInt(val);
  if (n !== undefined) return n;
  const sigs = os.constants.signals as Record<string, number>;
  const num = sigs[val] ?? sigs[`SIG${val}`];
  if (num === undefined) throw new ValueError(`signal '${val}' is invalid`);
  return num;
}

/** Python parse_signal_option: `[SIG][@TIME]` → `{signum, timeleft}` (defaults SIGUSR1, 60). */
export function parseSignalOption(arg: string): { signum: number; timeleft: number | PyFloat } {
  let sig: string = 'SIGUSR1';
  let tleft: string | undefined;
  const at = arg.indexOf('@');
  const s = at < 0 ? arg : arg.slice(0, at);
  const t = at < 0 ? '' : arg.slice(at + 1);
  if (t) tleft = t;
  if (s) sig = s;
  let signum: number;
  try {
    signum = decodeSignal(sig);
    if (signum <= 0) throw new ValueError('signal must be > 0');
  } catch (err) {
    throw new ValueError(`--signal=${arg}: ${(err as Error).message}`);
  }
  if (tleft === undefined) return { signum, timeleft: 60 };
  const f = parsePyFloat(tleft);
  if (f !== undefined) return { signum, timeleft: new PyFloat(f) };
  try {
    return { signum, timeleft: new PyFloat(parseFsd(tleft)) };
  } catch (err) {
    throw new ValueError(`--signal=${arg}: ${(err as Error).message}`);
  }
}

// ---- jobspec ------------------------------------------------------------------------------------

/** All env rules in command-line order (`env` already holds them when parsed by commander). */
function envRules(opts: SubmitCommandOptions): string[] {
  return [
    ...(opts.env ?? []),
    ...(opts.envRemove ?? []).map((p) => '-' + p),
    ...(opts.envFile ?? []).map((f) => '^' + f),
  ];
}

/**
 * Build the jobspec `flux run/submit` would build from these options (Python init_jobspec +
 * jobspec_create, same key order). Throws ValueError/FsdError with a message naming the option.
 */
export function buildJobspec(
  command: readonly string[],
  opts: SubmitCommandOptions,
  ctx: BuildContext = {},
): JobspecV1 {
  refuseUnsupported(opts);
  if (ctx.cc !== undefined) {
    // the copy of this id: `{cc}` formatted in the command, then in the options (flux's Xcmd)
    command = ccCommand(command, ctx.cc);
    opts = ccOptions(opts, ctx.cc);
  }
  if (command.length === 0) throw new ValueError('job command and arguments are missing');

  let ntasks = intOption('ntasks', opts.ntasks);
  const nodes = intOption('nodes', opts.nodes);
  let cores = intOption('cores-per-task', opts.coresPerTask);
  const gpus = intOption('gpus-per-task', opts.gpusPerTask);
  let exclusive = opts.exclusive ?? false;
  if (ntasks !== undefined && ntasks < 1) throw new ValueError(`--ntasks: must be an integer >= 1 (got ${ntasks})`);
  if (cores !== undefined && cores < 1)
    throw new ValueError(`--cores-per-task: must be an integer >= 1 (got ${cores})`);
  if (gpus !== undefined && gpus < 0) throw new ValueError(`--gpus-per-task: must be an integer >= 0 (got ${gpus})`);
  if (nodes !== undefined && nodes < 1) throw new ValueError(`--nodes: must be an integer >= 1 (got ${nodes})`);
  if (!ntasks && nodes) {
    ntasks = nodes;
    exclusive = true;
  }
  ntasks ||= 1;
  cores ||= 1;
  if (nodes !== undefined && nodes > ntasks) {
    throw new ValueError(`--nodes: node count must not be greater than task count (${nodes} > ${ntasks})`);
  }
  if (exclusive && nodes === undefined) throw new ValueError('--exclusive can only be used with --nodes');

  const environ = ctx.environ ?? processEnvironment();
  const env = filteredEnvironment(envRules(opts), environ, ctx.environ ?? process.env);
  if (ctx.cc !== undefined && opts.cc) env['FLUX_JOB_CC'] = String(ctx.cc);

  const spec = JobspecV1.fromCommand(command, {
    numTasks: ntasks,
    coresPerTask: cores,
    gpusPerTask: gpus,
    numNodes: nodes,
    exclusive,
    environment: env,
  });
  spec.cwd = opts.cwd ?? ctx.cwd ?? process.cwd();
  const rlimits = filterRlimits(opts.rlimit, ctx.rlimits ?? allRlimits());
  if (Object.keys(rlimits).length > 0) spec.setattrShellOption('rlimit', rlimits);
  if (opts.signal) spec.setattrShellOption('signal', parseSignalOption(opts.signal));
  if (opts.taskmap !== undefined) spec.setattrShellOption('taskmap', uriEntry(opts.taskmap, 'taskmap'));
  if (opts.dependency !== undefined) {
    spec.setattr(
      'system.dependencies',
      opts.dependency.map((u) => uriEntry(u, 'dependency')),
    );
  }
  if (opts.timeLimit !== undefined) {
    // a bare number is minutes; otherwise an FSD
    const minutes = parsePyFloat(opts.timeLimit);
    try {
      spec.duration = minutes !== undefined ? minutes * 60 : opts.timeLimit;
    } catch (err) {
      throw new ValueError(`--time-limit=${opts.timeLimit}: ${(err as Error).message}`);
    }
  }
  if (opts.jobName !== undefined) spec.setattr('system.job.name', opts.jobName);
  if (opts.input !== undefined && !isIdset(opts.input)) spec.stdin = opts.input;
  if (opts.output !== undefined && opts.output !== 'none' && opts.output !== 'kvs') {
    spec.stdout = opts.output;
    if (opts.labelIo) spec.setattrShellOption('output.stdout.label', true);
  }
  if (opts.error !== undefined) {
    spec.stderr = opts.error;
    if (opts.labelIo) spec.setattrShellOption('output.stderr.label', true);
  }
  if (opts.unbuffered) {
    spec.setattrShellOption('output.stdout.buffer.type', 'none');
    spec.setattrShellOption('output.stderr.buffer.type', 'none');
    spec.setattrShellOption('output.batch-timeout', new PyFloat(0.05));
  }
  for (const kv of opts.setopt ?? []) {
    const [k, v] = parseKeyval('--setopt', kv);
    spec.setattrShellOption(k, v);
  }
  if (opts.queue !== undefined) spec.setattr('system.queue', opts.queue);
  if (opts.bank !== undefined) spec.setattr('system.bank', opts.bank);
  for (const kv of opts.setattr ?? []) {
    const [key, v] = parseKeyval('--setattr', kv);
    let k = key;
    if (!k.startsWith('.') && !k.startsWith('user.') && !k.startsWith('system.')) k = 'system.' + k;
    spec.setattr(k.replace(/^\.+/, ''), v);
  }
  return spec;
}

// ---- flux options tsflux does not implement ---------------------------------------------------------

/** Flux's run/submit options that tsflux refuses: option → [commander flags, why]. */
const UNSUPPORTED: Readonly<Record<string, readonly [string, string]>> = {
  cores: ['--cores <N>', 'per-resource options are not supported by tsflux (use -n, -c, -g)'],
  tasksPerNode: ['--tasks-per-node <N>', 'per-resource options are not supported by tsflux (use -n, -c, -g)'],
  tasksPerCore: ['--tasks-per-core <N>', 'per-resource options are not supported by tsflux (use -n, -c, -g)'],
  gpusPerNode: ['--gpus-per-node <N>', 'per-resource options are not supported by tsflux (use -n, -c, -g)'],
  requires: ['--requires <CONSTRAINT>', 'job constraints (RFC 31) are not supported by tsflux'],
  beginTime: ['--begin-time <+FSD|TIME>', 'the begin-time dependency is not supported by tsflux'],
  addFile: ['--add-file <[NAME=]PATH>', 'files in the jobspec (RFC 37) are not supported by tsflux'],
};
/** submit only (Python SubmitBulkCmd). */
const UNSUPPORTED_BULK: Readonly<Record<string, readonly [string, string]>> = {
  log: ['--log <FILE>', 'not supported by tsflux'],
  logStderr: ['--log-stderr <FILE>', 'not supported by tsflux'],
};

function addRefused(cmd: Command, table: Readonly<Record<string, readonly [string, string]>>): void {
  for (const [flags] of Object.values(table)) cmd.addOption(new Option(flags).hideHelp());
}

/** Throw ValueError naming the first flux option given that tsflux does not implement. */
export function refuseUnsupported(opts: object): void {
  const given = opts as Record<string, unknown>;
  for (const [key, [flags, why]] of Object.entries({ ...UNSUPPORTED, ...UNSUPPORTED_BULK })) {
    if (given[key] !== undefined) throw new ValueError(`${flags.split(' ')[0]}: ${why}`);
  }
}

// ---- commander wiring ----------------------------------------------------------------------------

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/**
 * Add the jobspec options common to run and submit. The env rule options (--env,
 * --env-remove, --env-file) all land, in command-line order, in `opts.env`.
 */
export function addJobspecOptions(cmd: Command): Command {
  const envOrdered: string[] = [];
  const pushRule =
    (prefix: string) =>
    (v: string): string[] => {
      envOrdered.push(prefix + v);
      return envOrdered;
    };
  cmd
    .option('-n, --ntasks <N>', 'number of tasks to start')
    .option('-c, --cores-per-task <N>', 'number of cores to allocate per task')
    .option('-g, --gpus-per-task <N>', 'number of GPUs to allocate per task')
    .option('-N, --nodes <N>', 'number of nodes to allocate')
    .option('-x, --exclusive', 'with -N, --nodes, allocate nodes exclusively')
    .option(
      '-t, --time-limit <MIN|FSD>',
      'time limit in minutes when no units are given, otherwise a Flux standard duration, e.g. 30s, 2d, 1.5h',
    )
    .option('--urgency <N>', 'job urgency (0-31), hold=0, default=16, expedite=31')
    .option('--job-name <NAME>', 'set an optional name for the job')
    .option('-q, --queue <NAME>', 'submit the job to a specific named queue')
    .option('-B, --bank <BANK>', 'submit the job to a specific named bank')
    .option('-o, --setopt <OPT>', 'set shell option OPT; OPT=VAL sets a value (default VAL=1; repeatable)', collect)
    .option(
      '--setattr <ATTR>',
      'set job attribute ATTR; ATTR=VAL sets a value (default VAL=1), ^ATTR=FILE reads JSON from FILE (repeatable)',
      collect,
    )
    .option('--dependency <URI>', 'set an RFC 26 dependency URI for this job (repeatable)', collect)
    .addOption(
      new Option(
        '--env <RULE>',
        'control the job environment: VAR=VAL sets, PATTERN copies from the current environment, -PATTERN removes, ^FILE reads rules from FILE (repeatable, applied in order)',
      ).argParser(pushRule('')),
    )
    .addOption(
      new Option(
        '--env-remove <PATTERN>',
        'remove environment variables matching PATTERN (glob, or /regex/) (repeatable)',
      ).argParser(pushRule('-')),
    )
    .addOption(
      new Option('--env-file <FILE>', 'read a set of environment rules from FILE (repeatable)').argParser(
        pushRule('^'),
      ),
    )
    .option(
      '--rlimit <RULE>',
      'control how soft resource limits are propagated: -NAME drops, NAME propagates, NAME=VALUE sets (repeatable)',
      collect,
    )
    .option('--input <FILENAME>', 'redirect job stdin from FILENAME')
    .option('--output <FILENAME>', 'redirect job stdout to FILENAME')
    .option('--error <FILENAME>', 'redirect job stderr to FILENAME')
    .option('-u, --unbuffered', 'disable buffering of input and output')
    .option('-l, --label-io', 'add rank labels to stdout, stderr lines')
    .option('--cwd <DIRECTORY>', 'set the job working directory (default: the current directory)')
    .option(
      '--flags <FLAGS>',
      'comma separated job submission flags: debug, waitable, novalidate (repeatable)',
      collect,
    )
    .option('--signal <[SIG][@TIME]>', 'deliver signal SIG (default SIGUSR1) TIME (default 60s) before the job expires')
    .option('--taskmap <URI>', 'task mapping scheme: block, cyclic, cyclic:N, manual:TASKMAP')
    .option('--dry-run', "don't submit the job, just print its jobspec")
    .option(
      '-v, --verbose',
      'increase verbosity on stderr (repeatable)',
      (_v: string, prev: number | undefined) => (prev ?? 0) + 1,
    );
  addRefused(cmd, UNSUPPORTED);
  // all three env options share one ordered rule list: expose it as `env` only
  cmd.hook('preAction', (_self, action) => {
    if (action !== cmd || envOrdered.length === 0) return;
    cmd.setOptionValue('env', envOrdered);
    cmd.setOptionValue('envRemove', undefined);
    cmd.setOptionValue('envFile', undefined);
  });
  return cmd;
}

/** Options that only `submit` has (Python SubmitBulkCmd). */
export function addBulkOptions(cmd: Command): Command {
  addRefused(cmd, UNSUPPORTED_BULK);
  return cmd
    .option(
      '--cc <IDSET>',
      'replicate the job for each id in IDSET: {cc} in the command and options is the id (FLUX_JOB_CC=ID is set in each job)',
    )
    .option('--bcc <IDSET>', 'like --cc, but FLUX_JOB_CC is not set')
    .option('--wait', 'wait for all jobs to complete after submission')
    .option('--wait-event <NAME>', 'wait for event NAME for all jobs after submission')
    .option('--watch', 'watch all job output (implies --wait)')
    .option('--quiet', 'do not print the jobid to stdout on submission')
    .option(
      '--progress',
      'on a terminal, show a bar of the jobs submitted, or with --wait/--watch of the jobs pending, running, completed and failed',
    )
    .option('--jps', 'with --progress, show jobs per second instead of the elapsed time');
}
