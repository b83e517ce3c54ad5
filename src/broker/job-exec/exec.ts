/**
 * job-exec: runs each allocated job's tasks on the ranks of its R, through the exec agent of
 * each of those ranks (exec-agent/agent.ts: the rank's own task launcher; the broker never
 * forks: docs/architecture.md), plays the job shell's part (environment, output, time limit,
 * exit status), and answers the manager's `job-exec.start` stream (contract.ts). Tasks are
 * spread over the nodes as flux-core's shell does (tasks.ts distributeTasks) and numbered in
 * node order; a rank whose broker is lost while the job runs ends the job with Flux's
 * `node failure on <host> (rank <n>)` exception.
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
import { Errno, type FluxError } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { encodeEvent, eventTime as now } from '../../job/eventlog.js';
import { encodeJobId } from '../../job/jobid.js';
import { parseIdset } from '../../job/idset.js';
import { jobShape, taskCount } from '../../job/shape.js';
import { START_FAILED_STATUS, shellStatus, signaled, taskExitCode, termSig } from '../../job/waitstatus.js';
import { OUTPUT_LIMIT_MAX, OUTPUT_LIMIT_WARNING, outputLimitOf, type OutputLimit } from '../../job/output-limit.js';
import { encodeSize } from '../../job/size.js';
import { dataRecord, dataRecordSize, lineRecord, utf8Whole } from '../../job/output-records.js';
import { authorized, requestJobId, type BrokerContext, type Method, type Request, type Service } from '../service.js';
import { fromRv1, type Rv1 } from '../../job/rv1.js';
import type { AgentEvent, AgentStart, ExecStartRequest } from '../contract.js';
import {
  distributeTasks,
  expandTemplate,
  gpuEnv,
  hostsOf,
  inputFile,
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
/**
 * Characters of output in one RFC 24 data event, at most: each event is a line of the job's
 * guest.output, and lines this short stay ordinary strings for V8 all the way to the client
 * (docs/architecture.md "store").
 */
const EVENT_DATA_MAX = 64 * 1024;
/**
 * Where output records are made, reused: the store copies each one (appendRecords), so output
 * costs no fresh memory here (a fresh 64 KiB per record was freed only when V8 collected it, in
 * batches: bench/output.ts).
 */
const recordScratch = Buffer.allocUnsafeSlow(dataRecordSize(EVENT_DATA_MAX));

interface Task {
  rank: number;
  /** The broker rank it runs on, and its index there. */
  node: number;
  localid: number;
  started: boolean;
  pid?: number;
  /** wait(2)-style status once done */
  status?: number;
  failed?: string;
  /** Its broker was lost while it ran. */
  lost?: boolean;
}

interface ExecJob {
  id: bigint;
  userid: number;
  f58: string;
  req: Request;
  tasks: Task[];
  /** Broker rank → the tasks that run there (ranks of R with no task are left out). */
  nodes: Map<number, Task[]>;
  /** Broker rank → host name (from R). */
  hosts: Map<number, string>;
  pendingStart: number;
  pendingExit: number;
  startSent: boolean;
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
}

export class JobExec implements Service {
  readonly name = 'job-exec';
  private ctx!: BrokerContext;
  private readonly jobs = new Map<bigint, ExecJob>();
  private readonly killTimeout: number;
  private stopped = false;
  /** Both are the job manager's, in this process (contract.ts). */
  readonly methods: Record<string, Method>;

  constructor(opts: ExecOptions = {}) {
    this.killTimeout = opts.killTimeout ?? 5;
    this.methods = {
      start: { roles: 'internal', handler: (r) => this.startJob(r) },
      kill: { roles: 'internal', handler: (r) => this.kill(r) },
    };
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
  }

  /** The tasks still running end with the agents' launchers (their stop kills them). */
  stop(): void {
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
      clearTimeout(job.killTimer);
      clearTimeout(job.signalTimer);
    }
    this.stopped = true;
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
    const byNode = new Map<number, number[]>();
    for (const r of ranks) {
      const t = job.tasks[r]!;
      const list = byNode.get(t.node);
      if (list) list.push(r);
      else byNode.set(t.node, [r]);
    }
    const b64 = data?.toString('base64');
    for (const [node, list] of byNode) {
      this.ctx
        .rpc(
          'exec-agent.stdin',
          { id: job.id.toString(), ranks: list, data: b64, eof: p.eof === true },
          { nodeid: node },
        )
        .catch((e: Error) => this.ctx.log('debug', `job-exec: stdin of job ${job.f58} to rank ${node}: ${e.message}`));
    }
    req.respond({});
  }

  /** An RFC 24 event other than output data (header, eof, log) in guest.output. */
  private output(job: ExecJob, context: Record<string, unknown>, name = 'data'): void {
    this.ctx.store.appendRecords(job.id, 'guest.output', lineRecord(encodeEvent({ timestamp: now(), name, context })));
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
    let alloc: { rank: number; cores: number[] }[];
    try {
      alloc = fromRv1(R);
      if (alloc.length === 0) throw new Error('it names no rank');
    } catch (e) {
      return req.error(Errno.EINVAL, `R of job ${f58}: ${(e as Error).message}`);
    }
    // tasks over the nodes as flux's shell does, numbered in node order (block)
    const counts = distributeTasks(
      alloc.map((a) => a.cores.length),
      ntasks,
      jobShape(jobspec)?.coresPerSlot ?? 1,
    );
    const tasks: Task[] = [];
    const nodes = new Map<number, Task[]>();
    alloc.forEach((a, i) => {
      const here: Task[] = [];
      for (let l = 0; l < counts[i]!; l++)
        here.push({ rank: tasks.length + l, node: a.rank, localid: l, started: false });
      tasks.push(...here);
      if (here.length > 0) nodes.set(a.rank, here);
    });
    const job: ExecJob = {
      id,
      userid: p.userid,
      f58,
      req,
      tasks,
      nodes,
      hosts: hostsOf(
        R,
        alloc.map((a) => a.rank),
      ),
      pendingStart: ntasks,
      pendingExit: ntasks,
      startSent: false,
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
    this.log(job, 'shell.init', { service, 'leader-rank': alloc[0]!.rank, size: alloc.length });
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
   * Start the job's tasks: one exec-agent.start to each rank that runs some (in-process for
   * rank 0's own, over the overlay for the others). The agent makes FLUX_JOB_TMPDIR before its
   * first task and removes it after its last (the broker never waits on the file system per job).
   */
  private launchTasks(job: ExecJob, jobspec: any, R: Rv1): void {
    const { id, f58 } = job;
    const ntasks = job.tasks.length;
    if (this.stopped) {
      for (const t of job.tasks) this.onFailed(job, t, 'instance is shutting down');
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
    const env = {
      ...baseEnv,
      FLUX_JOB_ID: f58,
      FLUX_JOB_SIZE: String(ntasks),
      FLUX_JOB_NNODES: String(job.hosts.size),
    };
    for (const [node, tasks] of job.nodes) {
      const gpus = gpuEnv(jobspec, R, node, tasks.length, baseEnv);
      const start: AgentStart = {
        id: id.toString(),
        tasks: tasks.map((t) => ({ rank: t.rank, localid: t.localid, env: gpus[t.localid] })),
        argv,
        cwd,
        env,
        rlimits,
        stdout: stdoutFile ? { file: expandTemplate(stdoutFile, vars), append } : 'capture',
        stderr: stderrFile ? { file: expandTemplate(stderrFile, vars), append } : 'capture',
        stdin: stdin ? { file: expandTemplate(stdin, vars) } : 'pipe',
      };
      this.ctx
        .rpc('exec-agent.start', start, {
          streaming: true,
          nodeid: node,
          onResponse: (e: AgentEvent) => this.agentEvent(job, e),
        })
        .then(
          () => this.agentDone(job, node, undefined),
          (e: FluxError) => this.agentDone(job, node, e),
        );
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
    this.log(job, 'shell.start', { taskmap: taskmap(job) });
    job.req.respond({ type: 'start' });
    this.armSignal(job);
    for (const t of job.tasks) {
      if (t.failed !== undefined) {
        job.req.respond({
          type: 'exception',
          severity: 0,
          exc_type: 'exec',
          note: `task ${t.rank} (host ${job.hosts.get(t.node) ?? this.ctx.hostname}): start failed: ${t.failed}`,
        });
      }
    }
    if (job.tasks.some((t) => t.failed !== undefined)) this.killJob(job, SIGKILL);
  }

  /** One event of an agent's start stream. */
  private agentEvent(job: ExecJob, e: AgentEvent): void {
    const t = job.tasks[e?.rank];
    if (t === undefined || t.status !== undefined) return;
    switch (e.type) {
      case 'started':
        return this.onStarted(job, t, e.pid);
      case 'failed':
        return this.onFailed(job, t, e.message);
      case 'exited':
        return this.onExited(job, t, e.status, e.lost);
      case 'output':
        return this.onOutput(
          job,
          t,
          e.stream,
          e.encoding === 'base64' && typeof e.data === 'string' ? Buffer.from(e.data, 'base64') : e.data,
        );
    }
  }

  /**
   * An agent's start stream ended. Normally every task of it has ended first; if it failed
   * (its broker was lost: EHOSTUNREACH), the job gets flux-core's fatal exception, its other
   * tasks are killed, and the tasks of that rank count as killed (SIGKILL).
   */
  private agentDone(job: ExecJob, node: number, err: FluxError | undefined): void {
    const left = (job.nodes.get(node) ?? []).filter((t) => t.status === undefined);
    if (left.length === 0 || !this.jobs.has(job.id)) return;
    const host = job.hosts.get(node) ?? '?';
    const note =
      err === undefined
        ? `${host} (rank ${node}): the exec agent ended before its tasks`
        : err.errno === Errno.EHOSTUNREACH
          ? `node failure on ${host} (rank ${node})`
          : `${host} (rank ${node}): ${err.message}`;
    this.ctx.log('err', `job-exec: job ${job.f58}: ${note}`);
    job.req.respond({ type: 'exception', severity: 0, exc_type: 'exec', note });
    job.exception = true;
    for (const t of left) t.lost = true;
    this.killJob(job, SIGKILL);
    for (const t of left) {
      if (!t.started) {
        t.status = SIGKILL;
        this.taskStartSettled(job);
      } else t.status = SIGKILL;
      this.taskDone(job);
    }
  }

  private onStarted(job: ExecJob, t: Task, pid: number): void {
    t.started = true;
    t.pid = pid;
    this.taskStartSettled(job);
  }

  private onFailed(job: ExecJob, t: Task, message: string): void {
    t.failed = message;
    t.status = START_FAILED_STATUS;
    this.taskStartSettled(job);
    this.taskDone(job);
  }

  /** `lost`: the rank's launcher died (why), so the task was killed: an exception on its job, once. */
  private onExited(job: ExecJob, t: Task, waitStatus: number, lost?: string): void {
    t.status = waitStatus;
    if (lost !== undefined && !job.exception) {
      job.exception = true;
      job.req.respond({
        type: 'exception',
        severity: 0,
        exc_type: 'exec',
        note: `task ${t.rank} (host ${job.hosts.get(t.node) ?? this.ctx.hostname}): lost: ${lost}`,
      });
    }
    this.log(job, 'shell.task-exit', {
      localid: t.localid,
      rank: t.rank,
      state: 'Exited',
      pid: t.pid ?? 0,
      wait_status: waitStatus,
      signaled: signaled(waitStatus) ? termSig(waitStatus) : 0,
      exitcode: taskExitCode(waitStatus),
    });
    this.taskDone(job);
  }

  private onOutput(job: ExecJob, t: Task, stream: 'stdout' | 'stderr', output: string | Buffer): void {
    if ((typeof output !== 'string' && !Buffer.isBuffer(output)) || (stream !== 'stdout' && stream !== 'stderr'))
      return;
    const data = typeof output === 'string' ? Buffer.from(output, 'utf8') : output;
    const limit = job.limit.bytes;
    const before = job.written[stream];
    const n = data.length;
    job.written[stream] = before + n;
    if (before > limit) return; // past the limit: counted, dropped
    if (before + n <= limit) {
      this.outputData(job, stream, t.rank, data);
      return;
    }
    // this piece crosses the limit: what fits (whole characters) is kept, once, with a warning
    const head = data.subarray(0, limit - before);
    const whole = head.subarray(0, utf8Whole(head));
    if (whole.length > 0) this.outputData(job, stream, t.rank, whole);
    this.shellLog(job, 'output', `${stream} will be truncated, ${job.limit.text} limit exceeded`, LOG_WARNING);
  }

  /**
   * Output as DATA records (src/job/output-records.ts) of at most EVENT_DATA_MAX bytes each,
   * cut between UTF-8 characters where it can be: the native launcher's frames are that small
   * already, the node launcher's are what it read in one turn.
   */
  private outputData(job: ExecJob, stream: 'stdout' | 'stderr', rank: number, data: Buffer): void {
    const ts = now();
    for (let i = 0; i < data.length;) {
      let j = Math.min(data.length, i + EVENT_DATA_MAX);
      const whole = j < data.length ? utf8Whole(data.subarray(i, j)) : 0;
      if (whole > 0) j = i + whole; // (no whole character in it: cut anyway)
      const rec = dataRecord(ts, stream, rank, data.subarray(i, j), recordScratch);
      this.ctx.store.appendRecords(job.id, 'guest.output', rec);
      i = j;
    }
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

  private taskDone(job: ExecJob): void {
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

  /** A signal to the job's tasks still running, through the agent of each rank that has some. */
  private killJob(job: ExecJob, signum: number): void {
    for (const [node, tasks] of job.nodes) {
      if (!tasks.some((t) => t.status === undefined && t.failed === undefined)) continue;
      this.ctx
        .rpc('exec-agent.kill', { id: job.id.toString(), signum }, { nodeid: node })
        .catch((e: Error) => this.ctx.log('debug', `job-exec: kill of job ${job.f58} on rank ${node}: ${e.message}`));
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

/**
 * The job's RFC 34 taskmap: blocks of consecutive nodes (in R's order) with the same number of
 * tasks each, `[first node, nodes, tasks per node, 1]`.
 */
function taskmap(job: ExecJob): { version: 1; map: number[][] } {
  const map: number[][] = [];
  let i = 0;
  for (const tasks of job.nodes.values()) {
    const last = map[map.length - 1];
    if (last !== undefined && last[2] === tasks.length && last[0]! + last[1]! === i) last[1]!++;
    else map.push([i, 1, tasks.length, 1]);
    i++;
  }
  return { version: 1, map };
}
