/**
 * The task launcher helper ("spawner"): a small long-lived process that starts job tasks so
 * the broker never forks (docs/architecture.md, "The broker never forks"). Fork cost grows with the
 * forking process's resident memory; this process keeps a tiny heap, so its spawn rate does
 * not depend on how many jobs the broker holds.
 *
 * Run by Spawner (spawner.ts) as `node spawner-main.js [--kill-grace=SEC] [--batch=N] [--dry-run]`
 * through child_process.fork with `serialization: 'advanced'`; protocol.ts describes the
 * messages. `--dry-run` answers each launch with `started` (pid 0) + `exited` and starts nothing
 * (bench/spawn.ts measures the transport with it).
 * Imports node builtins only (protocol.ts is imported for types, erased at run time).
 *
 * Each task:
 *  - runs in its own session and process group (`detached: true`), so `kill` signals the
 *    whole task tree (kill(-pgid)); when the task itself exits, whatever is left of its
 *    group gets SIGKILL (a job's processes do not outlive it);
 *  - has stdio /dev/null unless asked for a file (opened here, the fd passed down) or
 *    capture (a pipe, forwarded as `output` events coalesced per event-loop turn);
 *  - time limit: SIGALRM to the group when it expires (`timedOut: true`), SIGKILL after the
 *    grace period if still alive. The task's own wait status is reported (usually signal 14);
 *    Flux's job shell would turn that into exit 142, which is the caller's mapping;
 *  - rlimits: Node cannot setrlimit in a child, so when a requested soft limit differs from
 *    this process's own (read once from /proc/self/limits) the task is started as
 *    `prlimit --NAME=SOFT: ... -- argv`. Since prlimit's own exec failure would show up as an
 *    exit status (126/127), the command and cwd are checked here first (execvp rules), so the
 *    same `failed` event results as without rlimits.
 *
 * If the parent goes away (IPC channel closed) every task's group gets SIGKILL and the
 * helper exits. SIGTERM = `shutdown`. SIGINT and SIGHUP are ignored: a terminal's ^C reaches
 * the broker's process group, and the broker decides.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Command, HelperEvent, HelperOptions, LaunchSpec, OutputSpec } from './protocol.js';
import { WholeChars } from '../../job/output-records.js';

const SIGNALS = os.constants.signals as Record<string, number>;
const ERRNO = os.constants.errno as Record<string, number>;
const SIGALRM = SIGNALS.SIGALRM!;
const SIGKILL = SIGNALS.SIGKILL!;

/** strerror(3) texts (glibc) for the errors a start can meet. */
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented',
  ELOOP: 'Too many levels of symbolic links',
  ELIBBAD: 'Accessing a corrupted shared library',
  ESHUTDOWN: 'Cannot send after transport endpoint shutdown',
};
const strerror = (code: string): string => STRERROR[code] ?? code;
const errnoOf = (code: string): number => ERRNO[code] ?? ERRNO.EIO!;

// ---------------------------------------------------------------------------------------
// Options

function parseOptions(args: string[]): HelperOptions {
  const o: HelperOptions = { killGraceSec: 5, batch: 64, dryRun: false };
  for (const a of args) {
    if (a === '--dry-run') {
      o.dryRun = true;
      continue;
    }
    const m = /^--(kill-grace|batch)=(.+)$/.exec(a);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(v) || v < 0) {
      process.stderr.write(`tsflux-spawner: ignoring bad argument ${a}\n`);
      continue;
    }
    if (m[1] === 'kill-grace') o.killGraceSec = v;
    else o.batch = Math.max(1, Math.floor(v));
  }
  return o;
}
const opts = parseOptions(process.argv.slice(2));

// ---------------------------------------------------------------------------------------
// Resource limits of this process (what tasks inherit), read once.

/** /proc/self/limits row title → prlimit(1) / Flux name. */
const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'cpu',
  'Max file size': 'fsize',
  'Max data size': 'data',
  'Max stack size': 'stack',
  'Max core file size': 'core',
  'Max resident set': 'rss',
  'Max processes': 'nproc',
  'Max open files': 'nofile',
  'Max locked memory': 'memlock',
  'Max address space': 'as',
  'Max file locks': 'locks',
  'Max pending signals': 'sigpending',
  'Max msgqueue size': 'msgqueue',
  'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio',
  'Max realtime timeout': 'rttime',
};
interface Limit {
  soft: number;
  hard: number;
}
function readLimits(): Map<string, Limit> {
  const limits = new Map<string, Limit>();
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return limits;
  }
  const num = (s: string): number => (s === 'unlimited' ? -1 : Number(s));
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const name = m ? LIMIT_NAMES[m[1]!] : undefined;
    if (m && name) limits.set(name, { soft: num(m[2]!), hard: num(m[3]!) });
  }
  return limits;
}
const LIMITS = readLimits();
/** CAP_SYS_RESOURCE (bit 24) in our effective set: needed to raise a hard limit. */
const CAN_RAISE_HARD = (() => {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? (BigInt('0x' + m[1]) & (1n << 24n)) !== 0n : false;
  } catch {
    return false;
  }
})();
/** nofile can never exceed fs.nr_open, even for root. */
const NR_OPEN = (() => {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8').trim()) || 1048576;
  } catch {
    return 1048576;
  }
})();

function findInPath(cmd: string, pathVar: string): string | null {
  for (const dir of pathVar.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return null;
}
const PRLIMIT = findInPath('prlimit', `${process.env.PATH ?? ''}:/usr/bin:/bin:/usr/sbin:/sbin`);

type Failure = { code: string; message: string };

/** prlimit(1) options for the limits that differ from ours, or the reason they can't be set. */
function rlimitArgs(spec: LaunchSpec): string[] | Failure {
  const args: string[] = [];
  const fmt = (v: number): string => (v === -1 ? 'unlimited' : String(v));
  for (const [given, v] of Object.entries(spec.rlimits ?? {})) {
    const name = given === 'ofile' ? 'nofile' : given;
    const cur = LIMITS.get(name);
    if (!cur || typeof v !== 'number' || !Number.isSafeInteger(v) || v < -1) {
      return { code: 'EINVAL', message: `invalid rlimit ${given}=${String(v)}` };
    }
    if (v === cur.soft) continue;
    const aboveHard = cur.hard !== -1 && (v === -1 || v > cur.hard);
    if (!aboveHard) {
      args.push(`--${name}=${fmt(v)}:`);
      continue;
    }
    const canRaiseHard = CAN_RAISE_HARD && !(name === 'nofile' && (v === -1 || v > NR_OPEN));
    if (canRaiseHard) {
      args.push(`--${name}=${fmt(v)}:${fmt(v)}`);
    } else if (spec.rlimitAboveHard === 'clamp') {
      if (cur.soft !== cur.hard) args.push(`--${name}=${fmt(cur.hard)}:`);
    } else {
      return {
        code: 'EPERM',
        message: `rlimit ${name}=${fmt(v)} exceeds the hard limit ${fmt(cur.hard)}`,
      };
    }
  }
  return args;
}

/** Why chdir(cwd) would fail, or null. */
function cwdError(cwd: string): string | null {
  try {
    if (!fs.statSync(cwd).isDirectory()) return 'ENOTDIR';
    fs.accessSync(cwd, fs.constants.X_OK);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/** Why exec of `file` would fail, or null (a directory or a file without x is EACCES). */
function execError(file: string): string | null {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return 'EACCES';
    fs.accessSync(file, fs.constants.X_OK);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/** What execvp(argv[0]) in cwd with env.PATH would fail with (checked before prlimit). */
function precheck(spec: LaunchSpec, env: NodeJS.ProcessEnv): Failure | null {
  const cwd = spec.cwd ?? process.cwd();
  const ce = cwdError(cwd);
  if (ce) return { code: ce, message: `cwd ${cwd}: ${strerror(ce)}` };
  const cmd = spec.argv[0]!;
  const fail = (code: string): Failure => ({ code, message: `${cmd}: ${strerror(code)}` });
  if (cmd === '') return fail('ENOENT');
  if (cmd.includes('/')) {
    const e = execError(path.resolve(cwd, cmd));
    return e ? fail(e) : null;
  }
  let sawEacces = false;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const e = execError(path.resolve(cwd, dir || '.', cmd));
    if (e === null) return null;
    if (e === 'EACCES') sawEacces = true;
  }
  return fail(sawEacces ? 'EACCES' : 'ENOENT');
}

// ---------------------------------------------------------------------------------------
// Events to the parent: queued, sent as one array per event-loop turn.

interface Task {
  key: string;
  child: ChildProcess;
  pid: number;
  /** Wait status once the task has exited (before its stdio pipes are closed). */
  status: number | null;
  timedOut: boolean;
  limitTimer: NodeJS.Timeout | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  closeTimer: NodeJS.Timeout | undefined;
  /** Captured output not yet sent, and where a UTF-8 character cut by a read waits for its end. */
  out: Buffer[];
  err: Buffer[];
  outChars: WholeChars;
  errChars: WholeChars;
  streams: Readable[];
}

const tasks = new Map<string, Task>();
let outbox: HelperEvent[] = [];
const dirty = new Set<Task>();
let flushScheduled = false;
/** Batches handed to the channel and not yet written; capture pauses when this grows. */
let sendsInFlight = 0;
let capturePaused = false;
/** The broker asked to hold output (hold-output): capture stays paused, whatever the sends. */
let outputHeld = false;
const PAUSE_AT = 32;
const RESUME_AT = 4;

function post(ev: HelperEvent): void {
  outbox.push(ev);
  scheduleFlush();
}
function scheduleFlush(): void {
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}
function drainOutput(t: Task): void {
  for (const [reads, chars, stream] of [
    [t.out, t.outChars, 'stdout'],
    [t.err, t.errChars, 'stderr'],
  ] as const) {
    if (reads.length === 0) continue;
    const data = chars.push(reads.length === 1 ? reads[0]! : Buffer.concat(reads));
    reads.length = 0;
    if (data.length > 0) post({ type: 'output', key: t.key, stream, data });
  }
  dirty.delete(t);
}
function flush(done?: () => void): void {
  flushScheduled = false;
  for (const t of dirty) drainOutput(t);
  flushScheduled = false; // drainOutput may have scheduled; this flush sends everything
  if (outbox.length === 0 || !process.connected) {
    done?.();
    return;
  }
  const batch = outbox;
  outbox = [];
  sendsInFlight++;
  process.send!(batch, undefined, undefined, () => {
    sendsInFlight--;
    if (capturePaused && !outputHeld && sendsInFlight <= RESUME_AT) setCapturePaused(false);
    done?.();
  });
  if (!capturePaused && sendsInFlight >= PAUSE_AT) setCapturePaused(true);
}
function setCapturePaused(paused: boolean): void {
  capturePaused = paused;
  for (const t of tasks.values())
    for (const s of t.streams)
      if (paused) s.pause();
      else s.resume();
}

function fail(key: string, code: string, message: string): void {
  post({ type: 'failed', key, errno: errnoOf(code), code, message });
}

// ---------------------------------------------------------------------------------------
// Launch

/**
 * kill(-pgid). Once the task has been reaped its pgid may be reused (pid_max can be as small
 * as 32768), so after that only onExit's own clean-up kill (same turn as the reaping) runs.
 */
function signalGroup(t: Task, sig: number, afterExit = false): void {
  if (t.status !== null && !afterExit) return;
  try {
    process.kill(-t.pid, sig);
  } catch {
    /* ESRCH: the group is gone */
  }
}

/** Report a spawn error the way Flux does: `<argv0>: <strerror>`, or name a bad cwd. */
function spawnFailed(spec: LaunchSpec, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  let code = err.code;
  if (!code || !/^E[A-Z0-9]+$/.test(code)) {
    const n = typeof err.errno === 'number' ? Math.abs(err.errno) : -1;
    code = Object.keys(ERRNO).find((k) => ERRNO[k] === n) ?? 'EIO';
  }
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP' || code === 'ENAMETOOLONG') {
    const ce = spec.cwd === undefined ? null : cwdError(spec.cwd);
    if (ce) return fail(spec.key, ce, `cwd ${spec.cwd}: ${strerror(ce)}`);
  }
  fail(spec.key, code, `${spec.argv[0]}: ${strerror(code)}`);
}

/** A job's scratch directory (LaunchSpec.mkdir): mode 0700, missing parents too. */
function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    try {
      if (code !== 'ENOENT') throw e;
      fs.mkdirSync(dir, { mode: 0o700, recursive: true });
    } catch (e2) {
      process.stderr.write(`tsflux-spawner: mkdir ${dir}: ${strerror(String((e2 as NodeJS.ErrnoException).code))}\n`);
    }
  }
}

/** Remove a directory with one rmdir when empty, else with everything in it. */
function removeDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e2) {
      process.stderr.write(`tsflux-spawner: rmdir ${dir}: ${strerror(String((e2 as NodeJS.ErrnoException).code))}\n`);
    }
  }
}

/** What is wrong with a command or environment that no exec can take (NUL bytes, an empty command). */
function badArgv(argv: readonly unknown[], env: NodeJS.ProcessEnv): string | undefined {
  if (argv[0] === '') return 'the command is an empty string';
  const nul = (v: unknown): boolean => typeof v === 'string' && v.includes('\0');
  if (argv.some(nul) || Object.entries(env).some(([k, v]) => nul(k) || nul(v))) {
    return `${String(argv[0])}: an argument or environment string contains a NUL byte`;
  }
  return undefined;
}

function launch(spec: LaunchSpec): void {
  const key = spec.key;
  if (typeof key !== 'string' || !Array.isArray(spec.argv) || spec.argv.length === 0) {
    return fail(String(key), 'EINVAL', 'invalid launch request: key and a non-empty argv are required');
  }
  if (shuttingDown) return fail(key, 'ESHUTDOWN', 'task launcher is shutting down');
  if (tasks.has(key)) return fail(key, 'EEXIST', `task ${key} is already running`);
  if (opts.dryRun) {
    post({ type: 'started', key, pid: 0 });
    post({ type: 'exited', key, waitStatus: 0, timedOut: false });
    return;
  }
  if (typeof spec.mkdir === 'string' && spec.mkdir !== '') makeDir(spec.mkdir);
  const env = spec.env ?? process.env;
  let argv = spec.argv;
  if (spec.rlimits) {
    const r = rlimitArgs(spec);
    if (!Array.isArray(r)) return fail(key, r.code, r.message);
    if (r.length > 0) {
      if (!PRLIMIT) {
        return fail(key, 'ENOSYS', `prlimit(1) not found: cannot set rlimits ${r.join(' ')}`);
      }
      const pre = precheck(spec, env);
      if (pre) return fail(key, pre.code, pre.message);
      argv = [PRLIMIT, ...r, '--', ...argv];
    }
  }

  // stdio: /dev/null, a file opened here (fd passed down, closed after spawn), or a pipe.
  const fds: number[] = [];
  const byFile = new Map<string, number>();
  const closeFds = (): void => {
    for (const fd of fds) fs.closeSync(fd);
  };
  const open = (file: string, flags: string): number => {
    const k = `${flags}\0${file}`;
    let fd = byFile.get(k);
    if (fd === undefined) {
      fd = fs.openSync(path.resolve(spec.cwd ?? '', file), flags, 0o644);
      fds.push(fd);
      byFile.set(k, fd);
    }
    return fd;
  };
  const output = (o: OutputSpec | undefined): 'ignore' | 'pipe' | number => {
    if (o === undefined || o === 'null') return 'ignore';
    if (o === 'capture') return 'pipe';
    return o.file === undefined ? 'ignore' : open(o.file, o.append ? 'a' : 'w');
  };
  let stdio: StdioOptions;
  try {
    const inp = spec.stdin;
    const input =
      inp === 'pipe' ? 'pipe' : inp && inp !== 'null' && typeof inp === 'object' ? open(inp.file, 'r') : 'ignore';
    stdio = [input, output(spec.stdout), output(spec.stderr)];
  } catch (e) {
    closeFds();
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? 'EIO';
    return fail(key, code, `${err.path ?? 'stdio'}: ${strerror(code)}`);
  }

  // node's spawn refuses these with ERR_INVALID_ARG_VALUE, which would read EIO: say what it is
  const bad = badArgv(spec.argv, env);
  if (bad !== undefined) {
    closeFds();
    return fail(key, 'EINVAL', `${bad}: ${strerror('EINVAL')}`);
  }
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), { cwd: spec.cwd, env, stdio, detached: true });
  } catch (e) {
    // Node throws for errors other than EACCES/EAGAIN/EMFILE/ENFILE/ENOENT (ENOTDIR, E2BIG, ...)
    closeFds();
    return spawnFailed(spec, e);
  }
  closeFds();
  const pid = child.pid;
  if (pid === undefined) {
    // The error comes on the next tick (same turn, so in the same batch as other events).
    child.once('error', (e) => spawnFailed(spec, e));
    return;
  }
  const t: Task = {
    key,
    child,
    pid,
    status: null,
    timedOut: false,
    limitTimer: undefined,
    graceTimer: undefined,
    closeTimer: undefined,
    out: [],
    err: [],
    outChars: new WholeChars(),
    errChars: new WholeChars(),
    streams: [],
  };
  tasks.set(key, t);
  post({ type: 'started', key, pid });
  child.on('error', () => {
    /* only kill() errors can come after a successful spawn; we never call child.kill */
  });
  // EPIPE when the task closed its stdin or ended: what it did not read is dropped.
  child.stdin?.on('error', () => child.stdin?.destroy());
  for (const [s, which] of [
    [child.stdout, 'out'],
    [child.stderr, 'err'],
  ] as const) {
    if (!s) continue;
    s.on('data', (d: Buffer) => {
      t[which].push(d);
      dirty.add(t);
      scheduleFlush();
    });
    t.streams.push(s);
    if (capturePaused) s.pause();
  }
  child.on('exit', (code, signal) => onExit(t, code, signal));
  child.on('close', (code, signal) => onClose(t, code, signal));
  const limit = spec.timeLimitSec;
  if (typeof limit === 'number' && limit > 0 && Number.isFinite(limit)) {
    const grace = typeof spec.killGraceSec === 'number' ? spec.killGraceSec : opts.killGraceSec;
    timeoutAfter(
      limit * 1000,
      () => {
        t.limitTimer = undefined;
        t.timedOut = true;
        signalGroup(t, SIGALRM);
        timeoutAfter(
          grace * 1000,
          () => {
            t.graceTimer = undefined;
            signalGroup(t, SIGKILL);
          },
          (h) => (t.graceTimer = h),
        );
      },
      (h) => (t.limitTimer = h),
    );
  }
}

const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * setTimeout for any delay: node's fires at once past 2^31-1 ms (24.8 days), so longer delays
 * are chained timers; `set` records the one pending now (for clearTimeout).
 */
function timeoutAfter(ms: number, fn: () => void, set: (h: NodeJS.Timeout) => void): void {
  if (ms <= MAX_TIMEOUT) set(setTimeout(fn, ms));
  else set(setTimeout(() => timeoutAfter(ms - MAX_TIMEOUT, fn, set), MAX_TIMEOUT));
}

function encodeStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return (SIGNALS[signal] ?? SIGKILL) & 0x7f;
  return ((code ?? 0) & 0xff) << 8;
}

function clearTimers(t: Task): void {
  if (t.limitTimer) clearTimeout(t.limitTimer);
  if (t.graceTimer) clearTimeout(t.graceTimer);
  t.limitTimer = t.graceTimer = undefined;
}

function onExit(t: Task, code: number | null, signal: NodeJS.Signals | null): void {
  t.status = encodeStatus(code, signal);
  clearTimers(t);
  // Anything left in the task's process group does not outlive the task.
  signalGroup(t, SIGKILL, true);
  // A process that left the group could hold the capture pipes open: stop waiting after 1 s.
  if (t.streams.length > 0) {
    t.closeTimer = setTimeout(() => {
      for (const s of t.streams) s.destroy();
    }, 1000);
  }
}

function onClose(t: Task, code: number | null, signal: NodeJS.Signals | null): void {
  if (tasks.get(t.key) !== t) return;
  if (t.closeTimer) clearTimeout(t.closeTimer);
  clearTimers(t);
  tasks.delete(t.key);
  drainOutput(t);
  for (const [chars, stream] of [
    [t.outChars, 'stdout'],
    [t.errChars, 'stderr'],
  ] as const) {
    const data = chars.end();
    if (data) post({ type: 'output', key: t.key, stream, data });
  }
  post({
    type: 'exited',
    key: t.key,
    waitStatus: t.status ?? encodeStatus(code, signal),
    timedOut: t.timedOut,
  });
  if (shuttingDown && tasks.size === 0) finish();
}

// ---------------------------------------------------------------------------------------
// Commands: handled in order; at most opts.batch launches per turn, then yield so that
// exits are reaped and events go out while a long burst of launches is worked through.

const queue: Command[] = [];
let qhead = 0;
let drainScheduled = false;
let shuttingDown = false;

function handle(c: Command): void {
  switch (c.op) {
    case 'launch':
      return launch(c);
    case 'kill': {
      const t = tasks.get(c.key);
      if (t && t.status === null && Number.isInteger(c.signum) && c.signum >= 0 && c.signum < 65) {
        signalGroup(t, c.signum);
      }
      return;
    }
    case 'stdin': {
      const inp = tasks.get(c.key)?.child.stdin;
      if (!inp || inp.destroyed || inp.writableEnded) return;
      if (c.data && c.data.length > 0) inp.write(c.data);
      if (c.eof) inp.end();
      return;
    }
    case 'rmdir':
      if (typeof c.dir === 'string' && c.dir !== '') removeDir(c.dir);
      return;
    case 'stats': {
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      post({
        type: 'stats',
        id: c.id,
        pid: process.pid,
        rss: m.rss,
        heapUsed: m.heapUsed,
        cpuUs: cpu.user + cpu.system,
        tasks: tasks.size,
      });
      return;
    }
    case 'hold-output':
      outputHeld = c.held === true;
      if (outputHeld !== capturePaused && (outputHeld || sendsInFlight <= RESUME_AT)) setCapturePaused(outputHeld);
      return;
    case 'shutdown':
      return shutdown();
  }
}

function drain(): void {
  drainScheduled = false;
  let launches = 0;
  while (qhead < queue.length) {
    const c = queue[qhead++]!;
    handle(c);
    if (c.op === 'launch' && ++launches >= opts.batch) break;
  }
  if (qhead >= queue.length) {
    queue.length = 0;
    qhead = 0;
  } else {
    drainScheduled = true;
    setImmediate(drain);
  }
}

function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  queue.length = qhead = 0;
  outputHeld = false; // what the tasks wrote goes out before their exits
  if (capturePaused) setCapturePaused(false);
  for (const t of tasks.values()) {
    clearTimers(t);
    signalGroup(t, SIGKILL);
  }
  if (tasks.size === 0) finish();
  else setTimeout(finish, 3000).unref();
}

let finishing = false;
function finish(): void {
  if (finishing) return;
  finishing = true;
  for (const t of tasks.values()) signalGroup(t, SIGKILL);
  flush(() => process.exit(0));
}

function killAllAndExit(code: number): never {
  for (const t of tasks.values()) signalGroup(t, SIGKILL);
  process.exit(code);
}

if (!process.send) {
  process.stderr.write('tsflux-spawner: must be started by Spawner (child_process.fork)\n');
  process.exit(2);
}
process.title = 'tsflux-spawner';
process.on('message', (msg: Command[]) => {
  for (const c of Array.isArray(msg) ? msg : [msg]) queue.push(c);
  if (!drainScheduled) drain();
});
// Parent gone (exited, crashed, or closed the channel): no task may outlive it.
process.on('disconnect', () => killAllAndExit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('uncaughtException', (e) => {
  process.stderr.write(`tsflux-spawner: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  killAllAndExit(70);
});
post({ type: 'ready', pid: process.pid, prlimit: PRLIMIT });
