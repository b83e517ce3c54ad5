/**
 * Process resource limits as Flux's CLI propagates them into
 * `attributes.system.shell.options.rlimit` (Python flux.cli.base get_rlimits /
 * get_filtered_rlimits). Node has no getrlimit(2), so the soft limits are read from
 * /proc/self/limits (Linux only; elsewhere the result is empty and no rlimit is set).
 *
 * Values are what Python's `resource.getrlimit` gives: bytes or counts, RLIM_INFINITY as -1.
 *
 * Caveat: Node raises its own soft RLIMIT_NOFILE to the hard limit at startup, so `nofile`
 * here is the hard limit of the invoking shell, not its soft limit.
 */
import fs from 'node:fs';
import { ValueError } from './jobspec.js';

/**
 * Limit names in the order of Python 3.11's `resource` module on Linux (Debian build:
 * no RLIMIT_LOCKS), mapped to the /proc/<pid>/limits row names. `ofile` is an alias of nofile.
 */
const PROC_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['cpu', 'Max cpu time'],
  ['fsize', 'Max file size'],
  ['data', 'Max data size'],
  ['stack', 'Max stack size'],
  ['core', 'Max core file size'],
  ['nofile', 'Max open files'],
  ['ofile', 'Max open files'],
  ['as', 'Max address space'],
  ['rss', 'Max resident set'],
  ['nproc', 'Max processes'],
  ['memlock', 'Max locked memory'],
  ['msgqueue', 'Max msgqueue size'],
  ['nice', 'Max nice priority'],
  ['rtprio', 'Max realtime priority'],
  ['rttime', 'Max realtime timeout'],
  ['sigpending', 'Max pending signals'],
];

/** Names Flux does not propagate by default. */
export const RLIMIT_DEFAULT_EXCLUDE: readonly string[] = [
  'memlock',
  'ofile',
  'msgqueue',
  'nice',
  'rtprio',
  'rttime',
  'sigpending',
];

/** Every limit name this module knows (Python `RLIMIT_*` on Linux, lower case). */
export const RLIMIT_NAMES: readonly string[] = PROC_NAMES.map(([n]) => n);

/** Parse the text of /proc/<pid>/limits into {name: soft} for every known limit. */
export function parseProcLimits(text: string): Record<string, number> {
  const soft = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = m[2] === 'unlimited' ? -1 : Number(m[2]);
    if (Number.isFinite(v)) soft.set(m[1]!, v);
  }
  const out: Record<string, number> = {};
  for (const [name, row] of PROC_NAMES) {
    const v = soft.get(row);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** All soft limits of this process (empty object when /proc is not available). */
export function allRlimits(limitsText?: string): Record<string, number> {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return {};
    }
  }
  return parseProcLimits(text);
}

/**
 * The soft limits `flux run/submit` propagate by default: cpu, fsize, data, stack, core,
 * nofile, as, rss, nproc (in that order).
 */
export function currentRlimits(limitsText?: string): Record<string, number> {
  return filterRlimits(undefined, allRlimits(limitsText));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = glob.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, j);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp('^(?:' + re + ')$', 's');
}

/** Python fnmatch-style (case-sensitive) glob match. */
export function globMatch(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}

/**
 * Python get_filtered_rlimits: start from all limits, drop the default exclusions, then apply
 * `--rlimit` rules in order (each rule may hold a comma-separated list):
 * `-PATTERN` drops matching limits, `NAME` (glob) re-adds current values, `NAME=VALUE` sets a
 * value (`unlimited`/`infinity`/`inf` = -1).
 */
export function filterRlimits(
  userRules?: readonly string[],
  all: Record<string, number> = allRlimits(),
): Record<string, number> {
  const rules: string[] = RLIMIT_DEFAULT_EXCLUDE.map((n) => '-' + n);
  for (const r of userRules ?? []) rules.push(...r.split(','));
  let rlimits: Record<string, number> = { ...all };
  for (const rule of rules) {
    if (rule.startsWith('-')) {
      const re = globToRegExp(rule.slice(1).toLowerCase());
      rlimits = Object.fromEntries(Object.entries(rlimits).filter(([k]) => !re.test(k)));
      continue;
    }
    const eq = rule.indexOf('=');
    if (eq < 0) {
      const re = globToRegExp(rule.toLowerCase());
      const matches = Object.entries(all).filter(([k]) => re.test(k));
      if (matches.length === 0) throw new ValueError(`No corresponding rlimit matching "${rule}"`);
      for (const [k, v] of matches) rlimits[k] = v;
      continue;
    }
    const name = rule.slice(0, eq);
    const value = rule.slice(eq + 1);
    if (!RLIMIT_NAMES.includes(name.toLowerCase())) throw new ValueError(`Invalid rlimit "${name}"`);
    let v: number;
    if (['unlimited', 'infinity', 'inf'].includes(value)) v = -1;
    else if (/^\s*[+-]?\d(?:_?\d)*\s*$/.test(value)) v = Number(value.replace(/_/g, ''));
    else throw new ValueError(`Invalid value in ${name}=${value}`);
    rlimits[name.toLowerCase()] = v;
  }
  return rlimits;
}
