/**
 * job-exec: runs each allocated job's tasks through the spawner helper process (the broker
 * never forks: docs/architecture.md), plays the job shell's part (environment, output, time limit, exit
 * status), and answers the manager's `job-exec.start` stream (contract.ts).
 *
 * Per job it writes, in the store, `guest.exec.eventlog` (init, starting, shell.init,
 * shell.start, complete, done) and `guest.output` (RFC 24: header, data, eof), which
 * job-info streams to `tsflux run` / `job attach`.
 *
 * Output limit (flux's shell `output.limit`, src/job/output-limit.ts): of each stream, the first
 * LIMIT bytes go to guest.output, the rest is read and dropped; a warning in guest.output says so
 * when it happens, and again before the eofs with how much was dropped. What comes on stdin is
 * kept in guest.input up to the same limit (the tasks still get all of it).
 */
import path from 'node:path';
import { Errno } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { encodeEvent, eventTime as now } from '../../job/eventlog.js';
import { encodeJobId } from '../../job/jobid.js';
import { parseIdset } from '../../job/idset.js';
import { taskCount } from '../../job/shape.js';
import { START_FAILED_STATUS, shellStatus, signaled, taskExitCode, termSig } from '../../job/waitstatus.js';
import {
  OUTPUT_LIMIT_MAX,
  OUTPUT_LIMIT_WARNING,
  outputLimitOf,
  utf8Prefix,
  type OutputLimit,
} from '../../job/output-limit.js';
import { encodeSize } from '../../job/size.js';
import { Spawner, SpawnerError, type SpawnerOptions } from '../launcher/spawner.js';
import { authorized, requestJobId, type BrokerContext, type Method, type Request, type Service } from '../service.js';
import type { Rv1 } from '../../job/rv1.js';
import type { ExecStartRequest } from '../contract.js';
import {
  expandTemplate,
  gpuEnv,
  inputFile,
  nnodesOf,
  outputAppend,
  outputFile,
  rlimitsOf,
  signalName,
  signalOf,
} from './tasks.js';

const SIGTERM = 15;
/** RFC 24 log levels (syslog's). */
const LOG_WARNING = 4;
const LOG_NOTICE = 5;
const SIGKILL = 9;
const SIGALRM = 14;

interface Task {
  rank: number;
  started: boolean;
  pid?: number;
  /** wait(2)-style status once done */
  status?: number;
  failed?: string;
}

interface ExecJob {
  id: bigint;
  userid: number;
  f58: string;
  req: Request;
  tasks: Task[];
  pendingStart: number;
  pendingExit: number;
  startSent: boolean;
  tmpdir: string;
  timer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** The --signal warning before the time limit, armed once the tasks have started. */
  signalTimer?: NodeJS.Timeout;
  signal?: { signum: number; timeleft: number; at: number };
  exception: boolean;
  /** Streams with output captured to guest.output. */
  captured: { stdout: boolean; stderr: boolean };
  /** output.limit: bytes of each stream, and of stdin, kept in guest.output / guest.input. */
  limit: OutputLimit;
  /** Bytes each stream has written so far (kept or not). */
  written: { stdout: number; stderr: number };
  /** Bytes of stdin received so far (kept in guest.input or not). */
  stdinBytes: number;
  /** The shell service (`<userid>-shell-<f58>`) taking stdin, while the job runs; else undefined. */
  service?: string;
}

export interface ExecOptions {
  /** Seconds between the first signal of a cancel/timeout and SIGKILL (flux: kill-timeout 5s). */
  killTimeout?: number;
  /** How to start the task launcher (launcher/spawner.ts); default: its defaults. */
  launcher?: SpawnerOptions;
}

export class JobExec implements Service {
  readonly name = 'job-exec';
  private ctx!: BrokerContext;
  private spawner!: Spawner;
  private readonly jobs = new Map<bigint, ExecJob>();
  private readonly byKey = new Map<string, { job: ExecJob; task: Task }>();
  private readonly killTimeout: number;
  private readonly launcherOptions: SpawnerOptions;
  private uri = '';
  private rundir = '';
  private stopped = false;
  /** Why no task launcher is running, when the last one died and none could be started. */
  private launcherDown: string | undefined;
  /** Both are the job manager's, in this process (contract.ts). */
  readonly methods: Record<string, Method>;

  constructor(opts: ExecOptions = {}) {
    this.killTimeout = opts.killTimeout ?? 5;
    this.launcherOptions = opts.launcher ?? {};
    this.methods = {
      start: { roles: 'internal', handler: (r) => this.startJob(r) },
      kill: { roles: 'internal', handler: (r) => this.kill(r) },
    };
  }

  async start(ctx: BrokerContext): Promise<void> {
    this.ctx = ctx;
    this.uri = ctx.getattr('local-uri') ?? '';
    this.rundir = ctx.getattr('rundir') ?? '/tmp';
    this.spawner = await Spawner.start(this.launcherOptions);
    this.spawner.on('started', (e: { key: string; pid: number }) => this.onStarted(e.key, e.pid));
    this.spawner.on('failed', (e: { key: string; message: string }) => this.onFailed(e.key, e.message));
    this.spawner.on('exited', (e: { key: string; waitStatus: number; lost?: boolean; reason?: string }) =>
      this.onExited(e.key, e.waitStatus, e.lost === true ? (e.reason ?? 'task launcher died') : undefined),
    );
    this.spawner.on('output', (e: { key: string; stream: 'stdout' | 'stderr'; data: string }) =>
      this.onOutput(e.key, e.stream, e.data),
    );
    this.spawner.on('error', (e: Error) => {
      if (!(e instanceof SpawnerError && e.code === 'ESPAWNER')) ctx.log('err', `job-exec: spawner: ${e.message}`);
    });
    this.spawner.on('lost', (e: { reason: string }) => {
      ctx.log(
        'err',
        `job-exec: ${e.reason}: its tasks were killed and their jobs raised an exception; starting a new one`,
      );
      this.restartLauncher();
    });
  }

  /**
   * Start a new task launcher after the last one died. When none starts, job submission is
   * disabled with the reason (`job-exec.launcher` event, which job-ingest follows) and jobs
   * that reach us fail with it; each such job tries again, and a launcher that starts
   * re-enables submission.
   */
  private restartLauncher(): void {
    if (this.stopped) return;
    this.spawner.restart().then(
      () => {
        this.ctx.log('info', `job-exec: task launcher started (pid ${this.spawner.pid}, ${this.spawner.launcher})`);
        if (this.launcherDown === undefined) return;
        this.launcherDown = undefined;
        this.ctx.publish('job-exec.launcher', { running: true });
      },
      (e: Error) => {
        const first = this.launcherDown === undefined;
        this.launcherDown = `no task launcher: ${e.message}`;
        if (!first) return;
        this.ctx.log('err', `job-exec: ${this.launcherDown}; job submission is disabled until one starts`);
        this.ctx.publish('job-exec.launcher', { running: false, reason: this.launcherDown });
      },
    );
  }

  async stop(): Promise<void> {
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
      clearTimeout(job.killTimer);
      clearTimeout(job.signalTimer);
    }
    this.stopped = true;
    await this.spawner?.shutdown();
  }

  private log(job: ExecJob, name: string, context?: Record<string, unknown>): void {
    const e = context === undefined ? { timestamp: now(), name } : { timestamp: now(), name, context };
    this.ctx.store.append(job.id, 'guest.exec.eventlog', encodeEvent(e));
  }

  /**
   * Standard input from `<service>.stdin` (as flux's shell input plugins do): what arrives is
   * appended to guest.input (RFC 24) and written to the tasks' stdin pipes. Without an attach
   * the tasks' stdin stays open, as in flux; `--input=FILE` jobs read the file instead.
   */
  private openInput(job: ExecJob, service: string): void {
    const context = { version: 1, encoding: { stdin: 'UTF-8' }, count: { stdin: 1 }, options: {} };
    this.ctx.store.append(job.id, 'guest.input', encodeEvent({ timestamp: now(), name: 'header', context }));
    try {
      // Any user may send; only the job's owner (or the instance owner) is let through, as
      // flux's shell services do (stdinRequest).
      const stdin: Method = { roles: Role.USER, handler: (r) => this.stdinRequest(job, r) };
      this.ctx.addService({ name: service, methods: { stdin } });
      job.service = service;
    } catch (e) {
      this.ctx.log('err', `job-exec: ${service}: ${(e as Error).message}`);
    }
  }

  private closeInput(job: ExecJob): void {
    if (job.service === undefined) return;
    this.ctx.removeService(job.service);
    job.service = undefined;
  }

  /** `<service>.stdin` {stream: 'stdin', rank: 'all' | IDSET, data?, encoding?, eof?} → {}. */
  private stdinRequest(job: ExecJob, req: Request): void {
    const p = req.payload ?? {};
    if (!authorized(req, job.userid)) return req.error(Errno.EPERM, 'stdin is for the job owner only');
    if (p.stream !== 'stdin') return req.error(Errno.EPROTO, 'stream must be "stdin"');
    if (p.data !== undefined && typeof p.data !== 'string') return req.error(Errno.EPROTO, 'data must be a string');
    if (p.eof !== undefined && typeof p.eof !== 'boolean') return req.error(Errno.EPROTO, 'eof must be a boolean');
    if (p.encoding !== undefined && p.encoding !== 'base64' && p.encoding !== 'UTF-8')
      return req.error(Errno.EPROTO, `unknown encoding ${String(p.encoding)}`);
    if (p.data === undefined && p.eof !== true) return req.error(Errno.EPROTO, 'data or eof is required');
    let ranks: number[];
    if (p.rank === 'all' || p.rank === undefined) ranks = job.tasks.map((t) => t.rank);
    else {
      try {
        if (typeof p.rank !== 'string') throw new Error('not a string');
        ranks = parseIdset(p.rank);
      } catch {
        return req.error(Errno.EPROTO, `rank must be "all" or an idset: ${String(p.rank)}`);
      }
      const bad = ranks.find((r) => r >= job.tasks.length);
      if (bad !== undefined)
        return req.error(Errno.EINVAL, `rank ${bad} is not a task of this job (${job.tasks.length} tasks)`);
    }
    const data = p.data === undefined ? undefined : Buffer.from(p.data, p.encoding === 'base64' ? 'base64' : 'utf8');
    const context: Record<string, unknown> = { stream: 'stdin', rank: p.rank ?? 'all' };
    // guest.input keeps stdin up to the job's limit; past it a data event is kept only for its eof
    const before = job.stdinBytes;
    job.stdinBytes += data?.length ?? 0;
    const keep = job.stdinBytes <= job.limit.bytes;
    if (p.data !== undefined && keep) context.data = p.data;
    if (p.encoding === 'base64' && keep) context.encoding = 'base64';
    if (p.eof === true) context.eof = true;
    if (!keep && before <= job.limit.bytes) {
      this.shellLog(job, 'input', `stdin beyond ${job.limit.text} is passed to the tasks but not kept`, LOG_WARNING);
    }
    if (keep || p.eof === true) {
      this.ctx.store.append(job.id, 'guest.input', encodeEvent({ timestamp: now(), name: 'data', context }));
    }
    for (const r of ranks) this.spawner.writeStdin(`${job.id}.${r}`, data, p.eof === true);
    req.respond({});
  }

  private output(job: ExecJob, context: Record<string, unknown>, name = 'data'): void {
    this.ctx.store.append(job.id, 'guest.output', encodeEvent({ timestamp: now(), name, context }));
  }

  private startJob(req: Request): void {
    const p = req.payload as ExecStartRequest;
    if (!p || typeof p.id !== 'bigint') return req.error(Errno.EPROTO, 'malformed request: id must be a job id');
    const { id, R } = p;
    let jobspec: any;
    try {
      jobspec = this.jobspecOf(id);
    } catch (e) {
      return req.error(Errno.EIO, `cannot read the jobspec of job ${id} from the store: ${(e as Error).message}`);
    }
    let limit: OutputLimit;
    try {
      limit = outputLimitOf(jobspec, p.userid === this.ctx.owner);
    } catch (e) {
      return req.error(Errno.EINVAL, `attributes.system.shell.options.output.limit: ${(e as Error).message}`);
    }
    const f58 = encodeJobId(id, 'f58');
    const ntasks = taskCount(jobspec);
    const job: ExecJob = {
      id,
      userid: p.userid,
      f58,
      req,
      tasks: Array.from({ length: ntasks }, (_, rank) => ({ rank, started: false })),
      pendingStart: ntasks,
      pendingExit: ntasks,
      startSent: false,
      tmpdir: path.join(this.rundir, `jobtmp-${this.ctx.rank}-${encodeJobId(id, 'f58plain')}`),
      exception: false,
      captured: { stdout: !outputFile(jobspec, 'stdout'), stderr: !outputFile(jobspec, 'stderr') },
      limit,
      written: { stdout: 0, stderr: 0 },
      stdinBytes: 0,
    };
    this.jobs.set(id, job);
    this.log(job, 'init');
    this.log(job, 'starting');
    const service = `${p.userid}-shell-${encodeJobId(id, 'f58plain')}`;
    this.log(job, 'shell.init', { service, 'leader-rank': 0, size: 1 });
    if (!inputFile(jobspec)) this.openInput(job, service);
    this.output(
      job,
      {
        version: 1,
        encoding: { stdout: 'UTF-8', stderr: 'UTF-8' },
        count: { stdout: ntasks, stderr: ntasks },
        options: {},
      },
      'header',
    );
    this.launchTasks(job, jobspec, R);
  }

  /**
   * Start the job's tasks. The launcher makes FLUX_JOB_TMPDIR before the first one and
   * removes it when taskDone asks (the broker never waits on the file system per job).
   */
  private launchTasks(job: ExecJob, jobspec: any, R: Rv1): void {
    const { id, f58 } = job;
    const ntasks = job.tasks.length;
    if (this.stopped || this.launcherDown !== undefined) {
      const why = this.stopped ? 'instance is shutting down' : this.launcherDown!;
      if (!this.stopped) this.restartLauncher(); // for the jobs after this one
      for (const t of job.tasks) {
        const key = `${id}.${t.rank}`;
        this.byKey.set(key, { job, task: t });
        this.onFailed(key, why);
      }
      return;
    }
    const sys = jobspec.attributes?.system ?? {};
    const vars = {
      id: id.toString(),
      'id.dec': id.toString(),
      'id.f58': f58,
      jobid: f58,
      name: String(sys.job?.name ?? ''),
    };
    const stdoutFile = outputFile(jobspec, 'stdout');
    const stderrFile = outputFile(jobspec, 'stderr');
    const baseEnv: Record<string, string> = sys.environment ?? {};
    const cwd = typeof sys.cwd === 'string' ? sys.cwd : process.cwd();
    const argv: string[] = jobspec.tasks[0].command;
    const rlimits = rlimitsOf(jobspec);
    const stdin = inputFile(jobspec);
    const append = outputAppend(jobspec);
    const gpus = gpuEnv(jobspec, R, this.ctx.rank, ntasks, baseEnv);
    for (const t of job.tasks) {
      const env = {
        ...baseEnv,
        ...gpus[t.rank],
        FLUX_JOB_ID: f58,
        FLUX_JOB_SIZE: String(ntasks),
        FLUX_JOB_NNODES: String(nnodesOf(R)),
        FLUX_TASK_RANK: String(t.rank),
        FLUX_TASK_LOCAL_ID: String(t.rank),
        FLUX_JOB_TMPDIR: job.tmpdir,
        FLUX_URI: this.uri,
      };
      const key = `${id}.${t.rank}`;
      this.byKey.set(key, { job, task: t });
      this.spawner.launch({
        key,
        argv,
        cwd,
        env,
        rlimits,
        stdout: stdoutFile ? { file: expandTemplate(stdoutFile, vars), append } : 'capture',
        stderr: stderrFile ? { file: expandTemplate(stderrFile, vars), append } : 'capture',
        stdin: stdin ? { file: expandTemplate(stdin, vars) } : 'pipe',
        rlimitAboveHard: 'clamp',
        mkdir: t.rank === 0 ? job.tmpdir : undefined,
      });
    }
    const duration = Number(sys.duration ?? 0);
    if (duration > 0 && Number.isFinite(duration)) {
      job.timer = setTimeout(() => this.expire(job), Math.min(duration * 1000, 2 ** 31 - 1));
    }
    const sig = signalOf(jobspec);
    if (sig && duration > 0 && Number.isFinite(duration)) {
      job.signal = { ...sig, at: Date.now() + Math.max(0, duration - sig.timeleft) * 1000 };
    } else if (sig) {
      this.shellLog(job, 'signal', `job has no expiration, ${signalName(sig.signum)} will not be sent`);
    }
  }

  /**
   * `--signal` (flux's shell signal plugin): the signal goes to the tasks `timeleft` seconds
   * before the time limit, and the job's output log says so. Armed when the tasks have started,
   * so that even a signal due at once finds them.
   */
  private armSignal(job: ExecJob): void {
    const sig = job.signal;
    if (!sig) return;
    const name = signalName(sig.signum);
    job.signalTimer = setTimeout(
      () => {
        if (!this.jobs.has(job.id)) return;
        this.shellLog(job, 'signal', `job will expire in ${sig.timeleft.toFixed(1)}s, sending ${name} to job`);
        this.killJob(job, sig.signum);
      },
      Math.min(Math.max(0, sig.at - Date.now()), 2 ** 31 - 1),
    );
  }

  /** A job shell log message (RFC 24 `log` event, level notice by default) in the job's output. */
  private shellLog(job: ExecJob, component: string, message: string, level = LOG_NOTICE): void {
    this.output(job, { rank: 0, level, component, message }, 'log');
  }

  private taskStartSettled(job: ExecJob): void {
    if (--job.pendingStart > 0 || job.startSent) return;
    job.startSent = true;
    this.log(job, 'shell.start', { taskmap: { version: 1, map: [[0, 1, job.tasks.length, 1]] } });
    job.req.respond({ type: 'start' });
    this.armSignal(job);
    for (const t of job.tasks) {
      if (t.failed !== undefined) {
        job.req.respond({
          type: 'exception',
          severity: 0,
          exc_type: 'exec',
          note: `task ${t.rank} (host ${this.ctx.hostname}): start failed: ${t.failed}`,
        });
      }
    }
    if (job.tasks.some((t) => t.failed !== undefined)) this.killJob(job, SIGKILL);
  }

  private onStarted(key: string, pid: number): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.task.started = true;
    e.task.pid = pid;
    this.taskStartSettled(e.job);
  }

  private onFailed(key: string, message: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.task.failed = message;
    e.task.status = START_FAILED_STATUS;
    this.taskStartSettled(e.job);
    this.taskDone(e.job, key);
  }

  /** `lost`: the launcher died (why), so the task was killed: an exception on its job, once. */
  private onExited(key: string, waitStatus: number, lost?: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.task.status = waitStatus;
    if (lost !== undefined && !e.job.exception) {
      e.job.exception = true;
      e.job.req.respond({
        type: 'exception',
        severity: 0,
        exc_type: 'exec',
        note: `task ${e.task.rank} (host ${this.ctx.hostname}): lost: ${lost}`,
      });
    }
    this.log(e.job, 'shell.task-exit', {
      localid: e.task.rank,
      rank: e.task.rank,
      state: 'Exited',
      pid: e.task.pid ?? 0,
      wait_status: waitStatus,
      signaled: signaled(waitStatus) ? termSig(waitStatus) : 0,
      exitcode: taskExitCode(waitStatus),
    });
    this.taskDone(e.job, key);
  }

  private onOutput(key: string, stream: 'stdout' | 'stderr', data: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    const job = e.job;
    const limit = job.limit.bytes;
    const before = job.written[stream];
    if (before > limit) {
      job.written[stream] += Buffer.byteLength(data); // past the limit: counted, dropped
      return;
    }
    const n = Buffer.byteLength(data);
    job.written[stream] = before + n;
    if (before + n <= limit) {
      this.output(job, { stream, rank: String(e.task.rank), data });
      return;
    }
    // this piece crosses the limit: what fits is kept, once, with a warning
    const head = utf8Prefix(data, limit - before);
    if (head !== '') this.output(job, { stream, rank: String(e.task.rank), data: head });
    this.shellLog(job, 'output', `${stream} will be truncated, ${job.limit.text} limit exceeded`, LOG_WARNING);
  }

  /** Before the eofs: how much of each stream the limit dropped, and a word on large output (flux's kvs.c). */
  private outputSummary(job: ExecJob): void {
    for (const s of ['stderr', 'stdout'] as const) {
      const n = job.written[s];
      if (n > job.limit.bytes) {
        this.shellLog(job, 'output', `${s}: ${n - job.limit.bytes} of ${n} bytes truncated`, LOG_WARNING);
      }
    }
    for (const s of ['stderr', 'stdout'] as const) {
      const n = job.written[s];
      if (n > OUTPUT_LIMIT_WARNING && n <= OUTPUT_LIMIT_MAX) {
        this.shellLog(
          job,
          'output',
          `high ${s} volume (${encodeSize(n)}), consider redirecting to a file next time (e.g. use --output=FILE)`,
          LOG_WARNING,
        );
      }
    }
  }

  private taskDone(job: ExecJob, key: string): void {
    this.byKey.delete(key);
    if (--job.pendingExit > 0) return;
    clearTimeout(job.timer);
    clearTimeout(job.killTimer);
    clearTimeout(job.signalTimer);
    this.jobs.delete(job.id);
    if (!job.startSent) {
      job.startSent = true;
      job.req.respond({ type: 'start' });
    }
    const ranks = job.tasks.length === 1 ? '0' : `0-${job.tasks.length - 1}`;
    this.outputSummary(job);
    for (const s of ['stdout', 'stderr'] as const) this.output(job, { stream: s, rank: ranks, eof: true });
    const status = shellStatus(job.tasks.map((t) => t.status ?? 0));
    this.log(job, 'shell-exit', { rank: 0, wait_status: status });
    this.log(job, 'complete', { status });
    this.log(job, 'done');
    job.req.respond({ type: 'finish', status });
    job.req.respond({ type: 'release', ranks: 'all', final: true });
    job.req.error(Errno.ENODATA);
    this.closeInput(job);
    this.spawner.rmdir(job.tmpdir);
  }

  /**
   * The job's jobspec, parsed. Jobs of a bulk submission share one stored jobspec text (ingest
   * keeps one copy), so the last one parsed is reused when the text is the same string; the
   * object is only read here.
   */
  private jobspecOf(id: bigint): any {
    const text = this.ctx.store.get(id, 'jobspec') ?? '';
    if (text !== this.lastJobspecText) {
      this.lastJobspec = JSON.parse(text);
      this.lastJobspecText = text;
    }
    return this.lastJobspec;
  }
  private lastJobspecText = '';
  private lastJobspec: any;

  private killJob(job: ExecJob, signum: number): void {
    for (const t of job.tasks) {
      if (t.status === undefined && t.failed === undefined) this.spawner.kill(`${job.id}.${t.rank}`, signum);
    }
  }

  /** A signal now, then SIGKILL after the kill timeout if tasks are still there. */
  private terminate(job: ExecJob, signum: number): void {
    this.killJob(job, signum);
    if (!job.killTimer) {
      job.killTimer = setTimeout(() => this.killJob(job, SIGKILL), this.killTimeout * 1000);
      job.killTimer.unref?.();
    }
  }

  private expire(job: ExecJob): void {
    if (!this.jobs.has(job.id)) return;
    job.req.respond({ type: 'exception', severity: 0, exc_type: 'timeout', note: 'resource allocation expired' });
    this.terminate(job, SIGALRM);
  }

  private kill(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    const signum = Number(req.payload?.signum ?? SIGTERM);
    const job = this.jobs.get(id);
    if (!job) return req.error(Errno.EINVAL, 'job is not running');
    if (req.payload?.exception === true) this.terminate(job, signum);
    else this.killJob(job, signum);
    req.respond();
  }
}
