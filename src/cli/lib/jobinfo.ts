/**
 * A job-list record as `flux jobs` sees it (flux/job/info.py JobInfo, JobInfoFormat,
 * job_fields_to_attrs): defaults for missing attributes, computed fields (status, runtime,
 * returncode, contextual_info, ...) and the heading of each format field.
 */
import fs from 'node:fs';
import { PyFloat, pyDumps } from '../../job/pyjson.js';
import { JobID } from '../../job/jobid.js';
import { JobResult, VirtualState, resultName, stateName } from '../../job/states.js';
import { exitCode, exited, signaled, strsignal, termSig } from '../../job/waitstatus.js';
import { fsd } from '../../job/fsd.js';
import { pyFormat, pyStr, type PyObject, type PyValue } from './pyformat.js';

let passwd: Map<number, string> | undefined;

/** User name of a uid (from /etc/passwd), or the uid as a string. */
export function usernameOf(uid: number): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && f[2] !== '' && !passwd.has(Number(f[2]))) passwd.set(Number(f[2]), f[0]!);
      }
    } catch {
      /* no passwd file: numeric names */
    }
  }
  return passwd.get(uid) ?? String(uid);
}

/** A uid from a user name or number (`-u USER`). */
export function uidOf(user: string): number {
  usernameOf(0);
  for (const [uid, name] of passwd!) if (name === user) return uid;
  if (/^\d+$/.test(user)) return Number(user);
  throw new Error(`Invalid user ${user} specified`);
}

/** Python's formatting of a JobID: f58 for `{id}`, an int for `{id:>12}` (JobID is an int). */
class PyJobID implements PyObject {
  constructor(readonly id: JobID) {}
  pyStr(): string {
    return this.id.f58;
  }
  pyFormat(spec: string): string {
    return spec === '' ? this.id.f58 : pyFormat(this.id.value, spec);
  }
}

/** An empty placeholder (flux's EmptyObject): '' for every field and format. */
const EMPTY: PyObject = { pyStr: () => '', pyFormat: (spec) => pyFormat('', spec.replace(/[bcdoxXeEfFgGn%]$/, '')) };

/** annotations / sched / user: json.dumps of the dict, '' when empty; attribute access. */
class Annotations implements PyObject {
  constructor(readonly d: Record<string, unknown>) {}
  pyStr(): string {
    return Object.keys(this.d).length ? pyDumps(this.d) : '';
  }
  get(path: string[]): PyValue {
    let v: unknown = this.d;
    for (const k of path) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !(k in (v as object))) return EMPTY;
      v = (v as Record<string, unknown>)[k];
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return new Annotations(v as Record<string, unknown>);
    return v as PyValue;
  }
}

class PyList implements PyObject {
  constructor(readonly items: string[]) {}
  pyStr(): string {
    return this.items.join(',');
  }
}

const FLOAT_ATTRS = new Set([
  't_submit',
  't_depend',
  't_priority',
  't_sched',
  't_run',
  't_cleanup',
  't_inactive',
  'duration',
  'expiration',
]);

/** Defaults of JobInfo for attributes the record does not carry. */
const DEFAULTS: Record<string, PyValue> = {
  t_depend: new PyFloat(0),
  t_run: new PyFloat(0),
  t_cleanup: new PyFloat(0),
  t_inactive: new PyFloat(0),
  duration: new PyFloat(0),
  expiration: new PyFloat(0),
  name: '',
  cwd: '',
  queue: '',
  project: '',
  bank: '',
  ntasks: '',
  ncores: '',
  nnodes: '',
  priority: '',
  ranks: '',
  nodelist: '',
  success: '',
  result: '',
  waitstatus: '',
};

export class JobInfo {
  readonly id: JobID;
  private readonly rec: Record<string, unknown>;
  private readonly annotations: Annotations;

  constructor(record: { id: bigint } & Record<string, unknown>) {
    this.rec = record;
    this.id = new JobID(record.id);
    this.annotations = new Annotations((record['annotations'] as Record<string, unknown>) ?? {});
  }

  /** A raw attribute with JobInfo's defaults and float typing. */
  attr(name: string): PyValue {
    const v = this.rec[name];
    if (v === undefined) return DEFAULTS[name] ?? '';
    if (typeof v === 'number' && FLOAT_ATTRS.has(name)) return new PyFloat(v);
    if (typeof v === 'object' && v !== null) return pyDumps(v);
    return v as PyValue;
  }

  private num(name: string): number {
    const v = this.rec[name];
    return typeof v === 'number' ? v : 0;
  }

  get stateId(): number {
    return this.num('state');
  }
  get resultId(): number | undefined {
    const r = this.rec['result'];
    return typeof r === 'number' ? r : undefined;
  }
  get state(): string {
    return stateName(this.stateId);
  }
  get stateSingle(): string {
    return stateName(this.stateId, { short: true });
  }
  get result(): string {
    return this.resultId === undefined ? '' : resultName(this.resultId);
  }
  get resultAbbrev(): string {
    return this.resultId === undefined ? '' : resultName(this.resultId, { short: true });
  }
  get status(): string {
    const s = this.stateId;
    if (s & (VirtualState.PENDING | VirtualState.RUNNING)) return stateName(s);
    return this.result;
  }
  get statusAbbrev(): string {
    const s = this.stateId;
    if (s & (VirtualState.PENDING | VirtualState.RUNNING)) return stateName(s, { short: true });
    return this.resultAbbrev;
  }
  get runtime(): number {
    const tr = this.num('t_run');
    const tc = this.num('t_cleanup');
    if (tc > 0 && tr > 0) return tc - tr;
    if (tr > 0) return Date.now() / 1000 - tr;
    return 0;
  }
  get tRemaining(): number {
    if (this.status !== 'RUN') return 0;
    const left = this.num('expiration') - Date.now() / 1000;
    return left < 0 ? 0 : left;
  }
  get returncode(): PyValue {
    const ws = this.rec['waitstatus'];
    if (typeof ws !== 'number') {
      if (this.resultId === JobResult.CANCELED) return -128;
      if (this.resultId === JobResult.FAILED) return 1;
      return '';
    }
    if (signaled(ws)) return -termSig(ws);
    if (exited(ws)) return exitCode(ws);
    return '';
  }
  /** The URI of the Flux instance this job runs, when it is one (annotation user.uri). */
  get uri(): string {
    const u = this.annotations.get(['user', 'uri']);
    return typeof u === 'string' ? u : '';
  }
  get dependencies(): PyList {
    const d = this.rec['dependencies'];
    return new PyList(Array.isArray(d) ? d.map(String) : []);
  }
  get contextualInfo(): PyValue {
    const state = this.state;
    if (state === 'PRIORITY') return 'priority-wait';
    if (state === 'DEPEND') return `depends:${this.dependencies.pyStr()}`;
    if (state === 'SCHED') {
      const est = this.annotations.get(['sched', 't_estimate']);
      if (typeof est === 'number') {
        const eta = est - Date.now() / 1000;
        return `eta:${eta < 0 ? 'now' : fsd(eta)}`;
      }
      if (this.rec['urgency'] === 0) return 'held';
      if (this.rec['priority'] === 0) return 'priority-hold';
      return '';
    }
    return this.attr('nodelist');
  }
  get contextualTime(): PyValue {
    const s = this.state;
    if (s === 'PRIORITY' || s === 'DEPEND' || s === 'SCHED') return this.attr('duration');
    return new PyFloat(this.runtime);
  }
  get inactiveReason(): string {
    if (this.state !== 'INACTIVE') return '';
    const result = this.result;
    const occurred = this.rec['exception_occurred'] === true;
    const type = String(this.rec['exception_type'] ?? '');
    const note = String(this.rec['exception_note'] ?? '');
    const rc = this.returncode;
    if (result === 'CANCELED') return occurred && type === 'cancel' && note ? `Canceled: ${note}` : 'Canceled';
    if (result === 'FAILED') {
      if (occurred && type !== 'exec' && this.rec['exception_severity'] === 0)
        return `Exception: type=${type}${note ? ` note=${note}` : ''}`;
      if (typeof rc === 'number') {
        if (rc > 128) return strsignal(rc - 128);
        if (rc === 126) return 'Command invoked cannot execute';
        if (rc === 127) return 'command not found';
        if (rc === 128) return 'Invalid argument to exit';
      }
      return `Exit ${pyStr(rc)}`;
    }
    if (result === 'TIMEOUT') return 'Timeout';
    return `Exit ${pyStr(rc)}`;
  }

  /** The value of a format field (`id.f58`, `status_abbrev`, `annotations.sched.x`, ...). */
  field(name: string): PyValue {
    switch (name) {
      case 'id':
        return new PyJobID(this.id);
      case 'id.dec':
        return this.id.dec;
      case 'id.hex':
        return this.id.hex;
      case 'id.f58':
        return this.id.f58;
      case 'id.f58plain':
        return this.id.f58plain;
      case 'id.kvs':
        return this.id.kvs;
      case 'id.words':
        return this.id.words;
      case 'id.dothex':
        return this.id.dothex;
      case 'id.emoji':
        return this.id.emoji;
      case 'username':
        return typeof this.rec['userid'] === 'number' ? usernameOf(this.rec['userid'] as number) : '';
      case 'state':
        return this.state;
      case 'state_single':
        return this.stateSingle;
      case 'result':
        return this.result;
      case 'result_abbrev':
        return this.resultAbbrev;
      case 'status':
        return this.status;
      case 'status_abbrev':
        return this.statusAbbrev;
      case 'runtime':
        return new PyFloat(this.runtime);
      case 't_remaining':
        return new PyFloat(this.tRemaining);
      case 'returncode':
        return this.returncode;
      case 'dependencies':
        return this.dependencies;
      case 'contextual_info':
        return this.contextualInfo;
      case 'contextual_time':
        return this.contextualTime;
      case 'inactive_reason':
        return this.inactiveReason;
      case 'annotations':
        return this.annotations;
      case 'sched':
      case 'user':
        return this.annotations.get([name]);
      case 'exception.occurred':
        return this.rec['exception_occurred'] === undefined ? '' : (this.rec['exception_occurred'] as boolean);
      case 'exception.severity':
      case 'exception.type':
      case 'exception.note': {
        const v = this.rec[`exception_${name.slice(10)}`];
        return v === undefined ? '' : (v as PyValue);
      }
      default:
        if (name.startsWith('annotations.')) return this.annotations.get(name.split('.').slice(1));
        if (name.startsWith('sched.') || name.startsWith('user.')) return this.annotations.get(name.split('.'));
        return this.attr(name);
    }
  }
}

/** Heading of every known field (JobInfoFormat.headings). */
export const HEADINGS: Record<string, string> = {
  id: 'JOBID',
  'id.dec': 'JOBID',
  'id.hex': 'JOBID',
  'id.f58': 'JOBID',
  'id.f58plain': 'JOBID',
  'id.emoji': 'JOBID',
  'id.kvs': 'JOBID',
  'id.words': 'JOBID',
  'id.dothex': 'JOBID',
  userid: 'UID',
  username: 'USER',
  urgency: 'URG',
  priority: 'PRI',
  state: 'STATE',
  state_single: 'S',
  name: 'NAME',
  cwd: 'CWD',
  queue: 'QUEUE',
  project: 'PROJECT',
  bank: 'BANK',
  ntasks: 'NTASKS',
  ncores: 'NCORES',
  duration: 'DURATION',
  nnodes: 'NNODES',
  expiration: 'EXPIRATION',
  t_remaining: 'T_REMAINING',
  ranks: 'RANKS',
  nodelist: 'NODELIST',
  success: 'SUCCESS',
  result: 'RESULT',
  result_abbrev: 'RS',
  t_submit: 'T_SUBMIT',
  t_depend: 'T_DEPEND',
  t_run: 'T_RUN',
  t_cleanup: 'T_CLEANUP',
  t_inactive: 'T_INACTIVE',
  runtime: 'RUNTIME',
  status: 'STATUS',
  status_abbrev: 'ST',
  waitstatus: 'WSTATUS',
  returncode: 'RC',
  'exception.occurred': 'EXCEPTION-OCCURRED',
  'exception.severity': 'EXCEPTION-SEVERITY',
  'exception.type': 'EXCEPTION-TYPE',
  'exception.note': 'EXCEPTION-NOTE',
  annotations: 'ANNOTATIONS',
  dependencies: 'DEPENDENCIES',
  contextual_info: 'INFO',
  contextual_time: 'TIME',
  inactive_reason: 'INACTIVE-REASON',
  'annotations.sched.t_estimate': 'T_ESTIMATE',
  'annotations.sched.reason_pending': 'REASON',
  'annotations.sched.resource_summary': 'RESOURCES',
  sched: 'SCHED',
  'sched.t_estimate': 'T_ESTIMATE',
  'sched.reason_pending': 'REASON',
  'sched.resource_summary': 'RESOURCES',
  user: 'USER',
};

/** Headings for a format, adding annotation fields as flux does (`annotations.x.y` → `X.Y`). */
export function headingsFor(fields: readonly string[]): Record<string, string> {
  const h = { ...HEADINGS };
  for (const f of fields) {
    if (f in h) continue;
    if (f.startsWith('annotations.')) h[f] = f.slice('annotations.'.length).toUpperCase();
    else if (f.startsWith('sched.') || f.startsWith('user.')) h[f] = f.toUpperCase();
  }
  return h;
}

const FIELD_ATTRS: Record<string, string[]> = {
  userid: ['userid'],
  username: ['userid'],
  urgency: ['urgency'],
  priority: ['priority'],
  state: ['state'],
  state_single: ['state'],
  name: ['name'],
  cwd: ['cwd'],
  queue: ['queue'],
  project: ['project'],
  bank: ['bank'],
  ntasks: ['ntasks'],
  ncores: ['ncores'],
  duration: ['duration'],
  nnodes: ['nnodes'],
  ranks: ['ranks'],
  nodelist: ['nodelist'],
  success: ['success'],
  waitstatus: ['waitstatus'],
  returncode: ['waitstatus', 'result'],
  'exception.occurred': ['exception_occurred'],
  'exception.severity': ['exception_severity'],
  'exception.type': ['exception_type'],
  'exception.note': ['exception_note'],
  result: ['result'],
  result_abbrev: ['result'],
  t_submit: ['t_submit'],
  t_depend: ['t_depend'],
  t_run: ['t_run'],
  t_cleanup: ['t_cleanup'],
  t_inactive: ['t_inactive'],
  runtime: ['t_run', 't_cleanup'],
  status: ['state', 'result'],
  status_abbrev: ['state', 'result'],
  expiration: ['expiration', 'state', 'result'],
  t_remaining: ['expiration', 'state', 'result'],
  annotations: ['annotations'],
  dependencies: ['dependencies'],
  contextual_info: ['state', 'dependencies', 'annotations', 'nodelist', 'priority', 'urgency'],
  contextual_time: ['state', 't_run', 't_cleanup', 'duration'],
  inactive_reason: [
    'state',
    'result',
    'waitstatus',
    'exception_occurred',
    'exception_severity',
    'exception_type',
    'exception_note',
  ],
  sched: ['annotations'],
  user: ['annotations'],
};

/** job-list attributes needed to render `fields` (job_fields_to_attrs). */
export function fieldsToAttrs(fields: readonly string[]): string[] {
  const attrs = new Set<string>();
  for (const f of fields) {
    if (f.startsWith('annotations.') || f.startsWith('sched.') || f.startsWith('user.')) attrs.add('annotations');
    else for (const a of FIELD_ATTRS[f] ?? []) attrs.add(a);
  }
  return [...attrs];
}
