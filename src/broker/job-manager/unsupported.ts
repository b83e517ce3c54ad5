/**
 * What of a jobspec this instance would accept and then not honour: refused at submit with
 * a text naming it (EINVAL at ingest, as flux-core's job-manager plugins refuse a job), never
 * stored and ignored. The rest of `attributes.system` is honoured, or only stored (and
 * listed) exactly as a flux-core instance without extra plugins does:
 *
 *   honoured          duration, environment, cwd, job.name, shell.options (below),
 *                     dependencies and queue (checked by the manager itself)
 *   stored, listed    bank, project (flux-core needs an accounting plugin for either),
 *                     job.* metadata, any other key nothing in flux-core reads, attributes.user
 *   refused           constraints (RFC 31), files (RFC 37), preemptible-after, exec,
 *                     alloc-bypass, shell.* other than options, tasks[0].attributes
 *
 * Shell options job-exec honours: rlimit; input.stdin {type: file, path}; output.{stdout,
 * stderr} {type: file | kvs, path, label: false, buffer.type: none}; output.mode (truncate,
 * append); output.limit (src/job/output-limit.ts); output.batch-timeout and input.batch-timeout
 * (output is never held back, so any bound is met); signal (flux's shell signal plugin);
 * gpu-affinity (on, off, per-task).
 * Every other shell option (cpu-affinity, taskmap, pty, mpi, env-expand, ...) is refused.
 */

import { parseShellSignal } from '../../job/shell-signal.js';
import { parseOutputLimit } from '../../job/output-limit.js';

const REFUSED_SYSTEM: Readonly<Record<string, string>> = {
  constraints: 'job constraints (RFC 31, --requires) are not supported by tsflux',
  files: 'files in the jobspec (RFC 37, --add-file) are not supported by tsflux',
  'preemptible-after': 'preemption is not supported by tsflux',
  exec: "job-exec's test and bulkexec settings are not supported by tsflux",
  'alloc-bypass': 'alloc-bypass is not supported by tsflux',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** `output.<stream>` or `input.stdin`: a file (with a path) or, for output, the job's eventlog. */
function stdio(v: unknown, key: string, output: boolean): string | undefined {
  if (!isObject(v)) return `${key}: must be an object`;
  for (const [k, x] of Object.entries(v)) {
    switch (k) {
      case 'type':
        if (x !== 'file' && !(output && x === 'kvs'))
          return `${key}.type: ${JSON.stringify(x)} is not supported by tsflux (${output ? 'file or kvs' : 'file'})`;
        break;
      case 'path':
        if (typeof x !== 'string') return `${key}.path: must be a string`;
        break;
      case 'label':
        if (!output) return `${key}.label: shell option not supported by tsflux`;
        if (x !== false) return `${key}.label: labelled output to a file (-l with --output) is not supported by tsflux`;
        break;
      case 'buffer':
        if (!output) return `${key}.buffer: shell option not supported by tsflux`;
        if (!isObject(x) || Object.keys(x).some((b) => b !== 'type'))
          return `${key}.buffer: only buffer.type is supported by tsflux`;
        if (x.type !== 'none')
          return `${key}.buffer.type: ${JSON.stringify(x.type)} is not supported by tsflux (output is never buffered: none)`;
        break;
      default:
        return `${key}.${k}: shell option not supported by tsflux`;
    }
  }
  if (v.type === 'file' && typeof v.path !== 'string') return `${key}.path: a file needs a path`;
  return undefined;
}

function outputOption(v: unknown, key: string): string | undefined {
  if (!isObject(v)) return `${key}: must be an object`;
  for (const [k, x] of Object.entries(v)) {
    let err: string | undefined;
    if (k === 'stdout' || k === 'stderr') err = stdio(x, `${key}.${k}`, true);
    else if (k === 'mode') {
      if (x !== 'truncate' && x !== 'append') err = `${key}.mode: must be "truncate" or "append"`;
    } else if (k === 'batch-timeout') {
      if (!isNumber(x)) err = `${key}.batch-timeout: must be a number >= 0`;
    } else if (k === 'limit') {
      try {
        parseOutputLimit(x);
      } catch (e) {
        err = `${key}.limit: ${(e as Error).message}`;
      }
    } else err = `${key}.${k}: shell option not supported by tsflux`;
    if (err) return err;
  }
  return undefined;
}

function inputOption(v: unknown, key: string): string | undefined {
  if (!isObject(v)) return `${key}: must be an object`;
  for (const [k, x] of Object.entries(v)) {
    let err: string | undefined;
    if (k === 'stdin') err = stdio(x, `${key}.stdin`, false);
    else if (k === 'batch-timeout') {
      if (!isNumber(x)) err = `${key}.batch-timeout: must be a number >= 0`;
    } else err = `${key}.${k}: shell option not supported by tsflux`;
    if (err) return err;
  }
  return undefined;
}

function shellOptions(v: unknown): string | undefined {
  const key = 'attributes.system.shell.options';
  if (!isObject(v)) return `${key}: must be an object`;
  for (const [k, x] of Object.entries(v)) {
    const at = `${key}.${k}`;
    let err: string | undefined;
    switch (k) {
      case 'rlimit':
        if (!isObject(x) || !Object.values(x).every((n) => Number.isInteger(n)))
          err = `${at}: must be an object of integer limits`;
        break;
      case 'output':
        err = outputOption(x, at);
        break;
      case 'input':
        err = inputOption(x, at);
        break;
      case 'signal':
        try {
          parseShellSignal(x);
        } catch (e) {
          err = `${at}: ${(e as Error).message}`;
        }
        break;
      case 'gpu-affinity':
        if (x !== 'on' && x !== 'off' && x !== 'per-task') err = `${at}: must be "on", "off" or "per-task"`;
        break;
      default:
        err = `${at}: shell option not supported by tsflux`;
    }
    if (err) return err;
  }
  return undefined;
}

function check(jobspec: unknown): string | undefined {
  if (!isObject(jobspec)) return undefined;
  const task = Array.isArray(jobspec.tasks) ? jobspec.tasks[0] : undefined;
  if (isObject(task) && isObject(task.attributes) && Object.keys(task.attributes).length > 0)
    return 'tasks[0].attributes: per-task attributes are not supported by tsflux';
  const attrs = jobspec.attributes;
  const system = isObject(attrs) ? attrs.system : undefined;
  if (!isObject(system)) return undefined;
  for (const [k, v] of Object.entries(system)) {
    const refused = REFUSED_SYSTEM[k];
    if (refused !== undefined) {
      if (k === 'constraints' && isObject(v) && Object.keys(v).length === 0) continue; // no constraint
      return `attributes.system.${k}: ${refused}`;
    }
    if (k === 'shell') {
      if (!isObject(v)) return 'attributes.system.shell: must be an object';
      for (const s of Object.keys(v)) {
        if (s !== 'options') return `attributes.system.shell.${s}: not supported by tsflux`;
      }
      if ('options' in v) {
        const err = shellOptions(v.options);
        if (err) return err;
      }
    }
  }
  return undefined;
}

/** Jobs of a bulk submission share one frozen jobspec object (decode.ts): check it once. */
const seen = new WeakMap<object, string | null>();

/** Why the instance would not honour this (redacted) jobspec, or undefined. */
export function unsupported(jobspec: unknown): string | undefined {
  if (!isObject(jobspec) || !Object.isFrozen(jobspec)) return check(jobspec);
  const known = seen.get(jobspec);
  if (known !== undefined) return known ?? undefined;
  const r = check(jobspec);
  seen.set(jobspec, r ?? null);
  return r;
}
