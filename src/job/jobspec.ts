/**
 * Jobspec version 1 (RFC 14, RFC 25; docs/protocol.md §C.5, §D; Python flux.job.JobspecV1).
 *
 * `JobspecV1.fromCommand()` builds the same layout as Python's `from_command`, and `dumps()`
 * prints it as Python's `json.dumps` does (with `ensure_ascii=False`, as Jobspec.dumps).
 * `JobspecV1.parse()` validates a submitted jobspec; its error texts match flux-core's
 * ingest validator where that is known (`Missing key (version)`, `version must be 1`) and
 * otherwise name the field and the reason.
 */
import { parseFsd } from './fsd.js';
import { PyFloat, pyDumps, unwrapPy } from './pyjson.js';
import { jobShape, taskCount, type JobShape } from './shape.js';
import { Errno, FluxError } from '../protocol/errno.js';

// ---- errors ---------------------------------------------------------------------------------

/** Invalid jobspec (errno EPERM, as job-ingest returns validator failures). */
export class JobspecError extends FluxError {
  /** Dotted path of the offending field, when there is one (e.g. `resources[0].count`). */
  readonly field: string | undefined;
  constructor(message: string, field?: string, errno: number = Errno.EPERM) {
    super(errno, message);
    this.name = 'JobspecError';
    this.field = field;
  }
}

/** Bad argument to a builder or setter (Python ValueError/TypeError; errno EINVAL). */
export class ValueError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'ValueError';
  }
}

// ---- types ----------------------------------------------------------------------------------

export interface ResourceVertex {
  type: string;
  count: number;
  with?: ResourceVertex[];
  label?: string;
  unit?: string;
  exclusive?: boolean;
}

export type TaskCount = { per_slot: number } | { total: number };

export interface JobspecTask {
  command: string[];
  slot: string;
  count: TaskCount;
  attributes?: Record<string, unknown>;
}

export interface JobspecSystemAttributes {
  duration: number;
  environment?: Record<string, string>;
  cwd?: string;
  queue?: string;
  bank?: string;
  job?: { name?: string; [k: string]: unknown };
  shell?: { options?: Record<string, unknown>; [k: string]: unknown };
  dependencies?: Array<Record<string, unknown>>;
  constraints?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface JobspecObject {
  resources: ResourceVertex[];
  tasks: JobspecTask[];
  attributes: { system: JobspecSystemAttributes; user?: Record<string, unknown> };
  version: 1;
}

export interface FromCommandOptions {
  numTasks?: number;
  coresPerTask?: number;
  gpusPerTask?: number;
  numNodes?: number;
  exclusive?: boolean;
  /** Seconds, or an FSD string (`"1h"`); stored as a float like Python. */
  duration?: number | string;
  /** undefined → a copy of all of process.env. */
  environment?: Record<string, string>;
  envExpand?: Record<string, string>;
  cwd?: string;
  rlimits?: Record<string, number>;
  name?: string;
  input?: string;
  output?: string;
  error?: string;
  labelIO?: boolean;
  unbuffered?: boolean;
  queue?: string;
  bank?: string;
}

// ---- helpers ----------------------------------------------------------------------------------

type Tree = Record<string, unknown>;

function isPlainObject(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat);
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v instanceof PyFloat) return String(v.value);
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** Copy of process.env without undefined values. */
export function processEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

/** Python _attr_key_prepend: add `attributes.` / `attributes.system.` as needed. */
export function attrKeyPrepend(key: string): string {
  if (!key.startsWith('attributes.')) {
    if (!key.startsWith('user.') && !key.startsWith('system.')) key = 'system.' + key;
    key = 'attributes.' + key;
  }
  return key;
}

// ---- validation (JobspecV1.parse) -----------------------------------------------------------

const TOP_KEYS = ['version', 'resources', 'tasks', 'attributes'];
const VERTEX_KEYS = new Set(['type', 'count', 'with', 'label', 'unit', 'exclusive']);
const TASK_KEYS = new Set(['command', 'slot', 'count', 'attributes']);

function fail(field: string, why: string): never {
  throw new JobspecError(`${field}: ${why}`, field);
}

function checkCount(v: Tree, path: string): void {
  if (!('count' in v)) fail(`${path}.count`, 'missing (an integer >= 1 is required)');
  const c = v['count'];
  if (!isInt(c) || c < 1) fail(`${path}.count`, `must be an integer >= 1 (got ${describe(c)})`);
}

function checkVertex(v: unknown, path: string): Tree {
  if (!isPlainObject(v)) fail(path, `must be an object (got ${typeName(v)})`);
  for (const k of Object.keys(v)) {
    if (!VERTEX_KEYS.has(k)) {
      fail(`${path}.${k}`, 'unknown key (allowed: type, count, with, label, unit, exclusive)');
    }
  }
  if (!('type' in v)) fail(`${path}.type`, 'missing');
  if (typeof v['type'] !== 'string' || v['type'] === '') fail(`${path}.type`, 'must be a non-empty string');
  checkCount(v, path);
  for (const k of ['label', 'unit']) {
    if (k in v && typeof v[k] !== 'string') fail(`${path}.${k}`, 'must be a string');
  }
  if ('exclusive' in v && typeof v['exclusive'] !== 'boolean') fail(`${path}.exclusive`, 'must be a boolean');
  if ('with' in v) {
    const w = v['with'];
    if (!Array.isArray(w)) fail(`${path}.with`, 'must be an array of resources');
    if (w.length === 0) fail(`${path}.with`, 'must not be empty');
  }
  return v;
}

/** Check slot>core[,gpu]. */
function checkSlot(slot: Tree, path: string): void {
  if (typeof slot['label'] !== 'string' || slot['label'] === '') {
    fail(`${path}.label`, 'a slot must have a non-empty string label');
  }
  if ('exclusive' in slot) fail(`${path}.exclusive`, 'only allowed on a node');
  const w = slot['with'];
  if (!Array.isArray(w)) fail(`${path}.with`, 'a slot must contain a core resource');
  let cores = 0;
  let gpus = 0;
  w.forEach((child, i) => {
    const cp = `${path}.with[${i}]`;
    const c = checkVertex(child, cp);
    if (c['type'] === 'core') cores++;
    else if (c['type'] === 'gpu') gpus++;
    else fail(`${cp}.type`, `must be "core" or "gpu" inside a slot (got ${describe(c['type'])})`);
    if ('with' in c) fail(`${cp}.with`, `a ${String(c['type'])} cannot contain other resources`);
    if ('exclusive' in c) fail(`${cp}.exclusive`, 'only allowed on a node');
  });
  if (cores !== 1)
    fail(
      `${path}.with`,
      cores === 0 ? 'a slot must contain a core resource' : 'a slot may contain only one core resource',
    );
  if (gpus > 1) fail(`${path}.with`, 'a slot may contain only one gpu resource');
}

/**
 * The jobspec without `attributes.system.environment`: what flux-core's job manager keeps and
 * shows (the journal, job-list, `job-info.lookup` of the current jobspec). Shares unchanged parts.
 */
export function redactJobspec<T>(jobspec: T): T {
  const js = jobspec as any;
  const sys = js?.attributes?.system;
  if (!sys || typeof sys !== 'object' || !('environment' in sys)) return jobspec;
  const { environment: _env, ...rest } = sys;
  return { ...js, attributes: { ...js.attributes, system: rest } };
}

/** Validate a parsed jobspec object; returns it typed. Throws JobspecError. */
export function validateJobspec(js: unknown): JobspecObject {
  if (!isPlainObject(js)) throw new JobspecError(`jobspec must be a JSON object (got ${typeName(js)})`);
  for (const k of TOP_KEYS) if (!(k in js)) throw new JobspecError(`Missing key (${k})`, k);
  for (const k of Object.keys(js)) {
    if (!TOP_KEYS.includes(k)) throw new JobspecError(`Extraneous key (${k})`, k);
  }
  if (js['version'] !== 1) throw new JobspecError('version must be 1', 'version');

  // resources
  const res = js['resources'];
  if (!Array.isArray(res)) fail('resources', `must be an array (got ${typeName(res)})`);
  if (res.length === 0) fail('resources', 'must contain one top-level resource (node or slot)');
  if (res.length > 1) fail('resources', 'only one top-level resource allowed');
  const top = checkVertex(res[0], 'resources[0]');
  if (top['type'] === 'node') {
    const w = top['with'];
    if (!Array.isArray(w)) fail('resources[0].with', 'a node must contain a slot');
    if (w.length !== 1) fail('resources[0].with', 'a node must contain exactly one slot');
    const slot = checkVertex(w[0], 'resources[0].with[0]');
    if (slot['type'] !== 'slot') {
      fail('resources[0].with[0].type', `must be "slot" (got ${describe(slot['type'])})`);
    }
    checkSlot(slot, 'resources[0].with[0]');
  } else if (top['type'] === 'slot') {
    checkSlot(top, 'resources[0]');
  } else {
    fail('resources[0].type', `must be "node" or "slot" (got ${describe(top['type'])})`);
  }

  // tasks
  const tasks = js['tasks'];
  if (!Array.isArray(tasks) || tasks.length !== 1) fail('tasks', 'must be an array of one task');
  const task = tasks[0];
  if (!isPlainObject(task)) fail('tasks[0]', `must be an object (got ${typeName(task)})`);
  for (const k of Object.keys(task)) {
    if (!TASK_KEYS.has(k)) fail(`tasks[0].${k}`, 'unknown key (allowed: command, slot, count, attributes)');
  }
  for (const k of ['command', 'slot', 'count']) if (!(k in task)) fail(`tasks[0].${k}`, 'missing');
  const cmd = task['command'];
  if (!Array.isArray(cmd) || !cmd.every((a) => typeof a === 'string')) {
    fail('tasks[0].command', 'must be an array of strings');
  }
  if (cmd.length === 0) fail('tasks[0].command', 'must not be empty');
  // Only a string: flux-core's validator (Python Jobspec._validate_task) does not compare it
  // with the slot's label, and the slot label names nothing else in a version 1 jobspec.
  if (typeof task['slot'] !== 'string') fail('tasks[0].slot', 'must be a string');
  const count = task['count'];
  if (!isPlainObject(count)) fail('tasks[0].count', 'must be an object with per_slot or total');
  const ckeys = Object.keys(count);
  if (ckeys.length !== 1 || (ckeys[0] !== 'per_slot' && ckeys[0] !== 'total')) {
    fail('tasks[0].count', `must have exactly one key, per_slot or total (got ${describe(count)})`);
  }
  const cv = count[ckeys[0]!];
  if (!isInt(cv) || cv < 1) fail(`tasks[0].count.${ckeys[0]}`, `must be an integer >= 1 (got ${describe(cv)})`);
  if ('attributes' in task && !isPlainObject(task['attributes'])) fail('tasks[0].attributes', 'must be an object');

  // attributes
  const attrs = js['attributes'];
  if (!isPlainObject(attrs)) fail('attributes', `must be an object (got ${typeName(attrs)})`);
  for (const k of Object.keys(attrs)) {
    if (k !== 'system' && k !== 'user') fail(`attributes.${k}`, 'unknown key (allowed: system, user)');
  }
  if ('user' in attrs && !isPlainObject(attrs['user'])) fail('attributes.user', 'must be an object');
  if (!('system' in attrs)) fail('attributes.system', 'missing (attributes.system.duration is required)');
  const sys = attrs['system'];
  if (!isPlainObject(sys)) fail('attributes.system', 'must be an object');
  if (!('duration' in sys)) fail('attributes.system.duration', 'missing (a number >= 0 is required)');
  const d = sys['duration'];
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
    fail('attributes.system.duration', `must be a number >= 0 (got ${describe(d)})`);
  }
  const strs = ['cwd', 'queue', 'bank'];
  for (const k of strs) {
    if (k in sys && typeof sys[k] !== 'string') fail(`attributes.system.${k}`, 'must be a string');
  }
  if ('environment' in sys) {
    const env = sys['environment'];
    if (!isPlainObject(env)) fail('attributes.system.environment', 'must be an object');
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== 'string') fail(`attributes.system.environment.${k}`, 'must be a string');
    }
  }
  if ('job' in sys) {
    const job = sys['job'];
    if (!isPlainObject(job)) fail('attributes.system.job', 'must be an object');
    if ('name' in job && typeof job['name'] !== 'string') fail('attributes.system.job.name', 'must be a string');
  }
  if ('shell' in sys) {
    const shell = sys['shell'];
    if (!isPlainObject(shell)) fail('attributes.system.shell', 'must be an object');
    if ('options' in shell && !isPlainObject(shell['options']))
      fail('attributes.system.shell.options', 'must be an object');
  }
  if ('dependencies' in sys) {
    const deps = sys['dependencies'];
    if (!Array.isArray(deps)) fail('attributes.system.dependencies', 'must be an array');
    deps.forEach((dep, i) => {
      const p = `attributes.system.dependencies[${i}]`;
      if (!isPlainObject(dep)) fail(p, 'must be an object');
      for (const k of ['scheme', 'value']) {
        if (typeof dep[k] !== 'string') fail(`${p}.${k}`, 'must be a string');
      }
    });
  }
  if ('constraints' in sys && !isPlainObject(sys['constraints'])) {
    fail('attributes.system.constraints', 'must be an object');
  }
  return js as unknown as JobspecObject;
}

// ---- the class ------------------------------------------------------------------------------

export class JobspecV1 {
  /** Internal tree; may hold PyFloat markers (Python floats). */
  private readonly js: Tree;

  /** Wrap an already-valid tree (use fromCommand() or parse()). */
  private constructor(js: Tree) {
    this.js = js;
  }

  // ---- construction ----

  /** Python JobspecV1.from_command. Throws ValueError naming the bad option. */
  static fromCommand(command: readonly string[], opts: FromCommandOptions = {}): JobspecV1 {
    const numTasks = opts.numTasks ?? 1;
    const coresPerTask = opts.coresPerTask ?? 1;
    const { gpusPerTask, numNodes } = opts;
    const exclusive = opts.exclusive ?? false;
    if (!Array.isArray(command) || !command.every((a) => typeof a === 'string')) {
      throw new ValueError('command must be an array of strings');
    }
    if (command.length === 0) throw new ValueError('command must not be empty');
    if (!isInt(numTasks) || numTasks < 1)
      throw new ValueError(`numTasks must be an integer >= 1 (got ${describe(numTasks)})`);
    if (!isInt(coresPerTask) || coresPerTask < 1) {
      throw new ValueError(`coresPerTask must be an integer >= 1 (got ${describe(coresPerTask)})`);
    }
    if (gpusPerTask !== undefined && (!isInt(gpusPerTask) || gpusPerTask < 0)) {
      throw new ValueError(`gpusPerTask must be an integer >= 0 (got ${describe(gpusPerTask)})`);
    }
    if (numNodes !== undefined) {
      if (!isInt(numNodes) || numNodes < 1)
        throw new ValueError(`numNodes must be an integer >= 1 (got ${describe(numNodes)})`);
      if (numNodes > numTasks) {
        throw new ValueError(`numNodes must not be greater than numTasks (${numNodes} > ${numTasks})`);
      }
    } else if (exclusive) {
      throw new ValueError('exclusive can only be set with numNodes');
    }
    const children: ResourceVertex[] = [{ type: 'core', count: coresPerTask }];
    if (gpusPerTask !== undefined && gpusPerTask !== 0) children.push({ type: 'gpu', count: gpusPerTask });
    let top: ResourceVertex;
    let count: TaskCount;
    if (numNodes !== undefined) {
      const numSlots = Math.ceil(numTasks / numNodes);
      count = numTasks % numNodes !== 0 ? { total: numTasks } : { per_slot: 1 };
      const slot: ResourceVertex = { type: 'slot', count: numSlots, with: children, label: 'task' };
      top = { type: 'node', count: numNodes };
      if (exclusive) top.exclusive = true;
      top.with = [slot];
    } else {
      count = { per_slot: 1 };
      top = { type: 'slot', count: numTasks, with: children, label: 'task' };
    }
    const js: Tree = {
      resources: [top],
      tasks: [{ command: [...command], slot: 'task', count }],
      attributes: { system: { duration: 0 } },
      version: 1,
    };
    const spec = new JobspecV1(js);
    spec.setExtraOptions(opts);
    return spec;
  }

  /** Python _set_extra_options (key order as Python: duration, environment, cwd, shell, …). */
  private setExtraOptions(o: FromCommandOptions): void {
    if (o.duration !== undefined) this.duration = o.duration;
    this.environment = o.environment !== undefined ? o.environment : processEnvironment();
    if (o.envExpand !== undefined) {
      if (!isPlainObject(o.envExpand)) throw new ValueError('envExpand must be an object');
      this.setattrShellOption('env-expand', o.envExpand);
    }
    if (o.cwd !== undefined) this.cwd = o.cwd;
    if (o.rlimits !== undefined) {
      if (!isPlainObject(o.rlimits)) throw new ValueError('rlimits must be an object');
      this.setattrShellOption('rlimit', o.rlimits);
    }
    if (o.name !== undefined) this.setattr('job.name', o.name);
    if (o.input !== undefined) this.stdin = o.input;
    if (o.output !== undefined && o.output !== 'none' && o.output !== 'kvs') {
      this.stdout = o.output;
      if (o.labelIO) this.setattrShellOption('output.stdout.label', true);
    }
    if (o.error !== undefined && o.error !== 'none' && o.error !== 'kvs') {
      this.stderr = o.error;
      if (o.labelIO) this.setattrShellOption('output.stderr.label', true);
    }
    if (o.unbuffered) this.unbuffered = true;
    if (o.queue !== undefined) this.setattr('queue', o.queue);
    if (o.bank !== undefined) this.setattr('bank', o.bank);
  }

  /**
   * Validate a submitted jobspec (JSON text or an already-parsed object). Invalid JSON throws
   * JobspecError with errno EINVAL; everything else errno EPERM, naming the field.
   */
  static parse(input: string | object): JobspecV1 {
    let obj: unknown = input;
    if (typeof input === 'string') {
      try {
        obj = JSON.parse(input);
      } catch (err) {
        throw new JobspecError(`jobspec: invalid JSON: ${(err as Error).message}`, undefined, 22);
      }
    } else if (input instanceof JobspecV1) {
      obj = input.toJSON();
    }
    const js = validateJobspec(obj);
    return new JobspecV1(structuredClone(js) as unknown as Tree);
  }

  // ---- sections ----

  get resources(): ResourceVertex[] {
    return unwrapPy(this.js['resources']);
  }
  get tasks(): JobspecTask[] {
    return unwrapPy(this.js['tasks']);
  }
  get attributes(): JobspecObject['attributes'] {
    return unwrapPy(this.js['attributes']);
  }
  get version(): 1 {
    return 1;
  }

  /** The task command (argv). */
  get command(): string[] {
    const t = (this.js['tasks'] as JobspecTask[])[0]!;
    return [...t.command];
  }

  // ---- attributes ----

  /**
   * Get an attribute by dotted key (`duration`, `system.cwd`, `user.x`,
   * `attributes.system.shell.options.rlimit`). Returns undefined when a component is missing
   * (Python raises KeyError).
   */
  getattr(key: string): unknown {
    let v: unknown = this.js;
    for (const part of attrKeyPrepend(key).split('.')) {
      if (!isPlainObject(v) || !(part in v)) return undefined;
      v = v[part];
      if (v === null || v === undefined) return undefined;
    }
    return unwrapPy(v);
  }

  /**
   * Set an attribute by dotted key. `attributes.system.` is prepended unless the key starts
   * with `user.`, `system.` or `attributes.`. Intermediate objects are created; a non-object
   * in the way is an error. Values may contain PyFloat markers.
   */
  setattr(key: string, val: unknown): void {
    const full = attrKeyPrepend(key);
    const parts = full.split('.');
    let node: Tree = this.js;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      if (p === '') throw new ValueError(`failed to set ${full}: empty key component`);
      if (!(p in node) || node[p] === undefined) node[p] = {};
      const next = node[p];
      if (!isPlainObject(next)) {
        throw new ValueError(`failed to set ${full}: ${parts.slice(0, i + 1).join('.')} is not an object`);
      }
      node = next;
    }
    const last = parts[parts.length - 1]!;
    if (last === '') throw new ValueError(`failed to set ${full}: empty key component`);
    node[last] = val;
  }

  /** Set `attributes.system.shell.options.<key>`. */
  setattrShellOption(key: string, val: unknown): void {
    this.setattr('system.shell.options.' + key, val);
  }

  /** Delete a dotted attribute; removes emptied parent objects when removeEmpty is set. */
  delattr(key: string, removeEmpty = false): boolean {
    const parts = attrKeyPrepend(key).split('.');
    const chain: Tree[] = [this.js];
    let node: Tree = this.js;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]!];
      if (!isPlainObject(next)) return false;
      chain.push(next);
      node = next;
    }
    const last = parts[parts.length - 1]!;
    if (!(last in node)) return false;
    delete node[last];
    if (removeEmpty) {
      for (let i = chain.length - 1; i > 2; i--) {
        if (Object.keys(chain[i]!).length !== 0) break;
        delete chain[i - 1]![parts[i - 1]!];
      }
    }
    return true;
  }

  /** Time limit in seconds (0 = unlimited). */
  get duration(): number {
    const d = (this.js['attributes'] as Tree)['system'] as Tree;
    const v = d['duration'];
    return v instanceof PyFloat ? v.value : (v as number);
  }

  /** Seconds or FSD string; negative, NaN or infinite values are rejected. Stored as a float. */
  set duration(value: number | string) {
    let t: number;
    if (typeof value === 'string') t = parseFsd(value);
    else if (typeof value === 'number') t = value;
    else throw new ValueError('duration must be a number or an FSD string');
    if (t < 0) throw new ValueError('duration must not be negative');
    if (!Number.isFinite(t)) throw new ValueError('duration must be a normal, finite value');
    this.setattr('system.duration', new PyFloat(t));
  }

  get cwd(): string | undefined {
    return this.getattr('system.cwd') as string | undefined;
  }
  set cwd(cwd: string) {
    if (typeof cwd !== 'string') throw new ValueError('cwd must be a string');
    this.setattr('system.cwd', cwd);
  }

  get environment(): Record<string, string> | undefined {
    return this.getattr('system.environment') as Record<string, string> | undefined;
  }
  set environment(env: Record<string, string>) {
    if (!isPlainObject(env)) throw new ValueError('environment must be an object');
    this.setattr('system.environment', { ...env });
  }

  get queue(): string | undefined {
    return this.getattr('system.queue') as string | undefined;
  }
  set queue(q: string) {
    if (typeof q !== 'string') throw new ValueError('queue must be a string');
    this.setattr('system.queue', q);
  }

  get bank(): string | undefined {
    return this.getattr('system.bank') as string | undefined;
  }

  get name(): string | undefined {
    return this.getattr('system.job.name') as string | undefined;
  }

  // stdio redirection (shell.options.{input,output}.<stream>.{type,path})
  private ioPath(iotype: string, stream: string): string | undefined {
    return this.getattr(`system.shell.options.${iotype}.${stream}.path`) as string | undefined;
  }
  private setIoPath(iotype: string, stream: string, path: string): void {
    if (typeof path !== 'string') throw new ValueError(`the ${stream} path must be a string`);
    this.setattrShellOption(`${iotype}.${stream}.type`, 'file');
    this.setattrShellOption(`${iotype}.${stream}.path`, path);
  }
  get stdin(): string | undefined {
    return this.ioPath('input', 'stdin');
  }
  set stdin(path: string) {
    this.setIoPath('input', 'stdin', path);
  }
  get stdout(): string | undefined {
    return this.ioPath('output', 'stdout');
  }
  set stdout(path: string) {
    this.setIoPath('output', 'stdout', path);
  }
  get stderr(): string | undefined {
    return this.ioPath('output', 'stderr');
  }
  set stderr(path: string) {
    this.setIoPath('output', 'stderr', path);
  }
  // Python aliases
  get input(): string | undefined {
    return this.stdin;
  }
  set input(p: string) {
    this.stdin = p;
  }
  get output(): string | undefined {
    return this.stdout;
  }
  set output(p: string) {
    this.stdout = p;
  }
  get error(): string | undefined {
    return this.stderr;
  }
  set error(p: string) {
    this.stderr = p;
  }

  /** True if stdout and stderr buffering are both `none`. */
  get unbuffered(): boolean {
    return (
      this.getattr('shell.options.output.stdout.buffer.type') === 'none' &&
      this.getattr('shell.options.output.stderr.buffer.type') === 'none'
    );
  }
  /** Python Jobspec.unbuffered setter. */
  set unbuffered(value: boolean) {
    if (typeof value !== 'boolean') throw new ValueError('unbuffered must be true or false');
    if (value) {
      this.setattrShellOption('output.stdout.buffer.type', 'none');
      this.setattrShellOption('output.stderr.buffer.type', 'none');
      this.setattrShellOption('output.batch-timeout', new PyFloat(0.05));
      this.setattrShellOption('input.batch-timeout', new PyFloat(0.0));
    } else {
      this.delattr('system.shell.options.output.stdout.buffer', true);
      this.delattr('system.shell.options.output.stderr.buffer', true);
      if (this.getattr('shell.options.output.batch-timeout') === 0.05) {
        this.delattr('system.shell.options.output.batch-timeout', true);
      }
      if (this.getattr('shell.options.input.batch-timeout') === 0) {
        this.delattr('system.shell.options.input.batch-timeout', true);
      }
    }
  }

  // ---- resource summary (for the scheduler) ----

  /** Depth-first walk: [parent, vertex, total count including ancestors' multiplicity]. */
  *resourceWalk(): Generator<[ResourceVertex | undefined, ResourceVertex, number]> {
    function* walk(
      list: ResourceVertex[],
      parent: ResourceVertex | undefined,
      mult: number,
    ): Generator<[ResourceVertex | undefined, ResourceVertex, number]> {
      for (const r of list) {
        const n = mult * r.count;
        yield [parent, r, n];
        if (r.with) yield* walk(r.with, r, n);
      }
    }
    yield* walk(this.resources, undefined, 1);
  }

  /** Total count per resource type, e.g. `{slot: 4, core: 8}` (Python resource_counts). */
  resourceCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [, r, n] of this.resourceWalk()) out[r.type] = (out[r.type] ?? 0) + n;
    return out;
  }

  /** The request's shape (job/shape.ts); a JobspecV1 is valid, so it is always there. */
  private get shape(): JobShape {
    return jobShape(this.js)!;
  }

  /** Total number of task slots (node count × slots per node). */
  get numSlots(): number {
    return this.shape.nslots;
  }
  /** Cores in one slot. */
  get coresPerSlot(): number {
    return this.shape.coresPerSlot;
  }
  /** GPUs in one slot (0 when none). */
  get gpusPerSlot(): number {
    return this.shape.gpusPerSlot;
  }
  /** Number of tasks: `total`, or per_slot × slots. */
  get numTasks(): number {
    return taskCount(this.js, this.shape);
  }
  /** Cores requested in total (cores per slot × slots). */
  get totalCores(): number {
    return this.coresPerSlot * this.numSlots;
  }
  /** GPUs requested in total. */
  get totalGpus(): number {
    return this.gpusPerSlot * this.numSlots;
  }
  /** Node count when the request has a node level, else undefined (any placement). */
  get numNodes(): number | undefined {
    return this.shape.nnodes || undefined;
  }
  /** True when whole nodes are requested exclusively. */
  get exclusive(): boolean {
    return this.shape.exclusive;
  }

  // ---- serialization ----

  /** Plain JSON object (PyFloat markers removed), key order preserved. */
  toJSON(): JobspecObject {
    return unwrapPy(this.js);
  }

  /** Python `json.dumps(jobspec, ensure_ascii=False)`: `", "`/`": "` separators, one line. */
  dumps(opts: { ensureAscii?: boolean } = {}): string {
    return pyDumps(this.js, { ensureAscii: opts.ensureAscii ?? false });
  }

  /** Compact JSON (JSON.stringify). */
  toString(): string {
    return JSON.stringify(this.toJSON());
  }
}
