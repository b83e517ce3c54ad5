/**
 * exec-agent: runs one rank's share of a job's tasks on this broker's own task launcher, for
 * job-exec on rank 0 (flux-core: job-exec starts a job shell on each rank of R; this agent
 * plays that shell's part on its node). Every broker has one; job-exec reaches it with
 * `ctx.rpc(topic, payload, {nodeid: rank})`, in-process on rank 0 and over the overlay on the
 * others (docs/protocol.md §F.4). Owner only: it starts processes as the instance owner.
 *
 *   exec-agent.start (streaming) AgentStart → AgentEvent… then ENODATA once every task of it
 *                                              has exited or failed to start
 *   exec-agent.kill  {id, signum}            → {} (to every task of the job still running here)
 *   exec-agent.stdin {id, ranks, data?, eof?} → {} (data base64; to those task ranks' stdin)
 *
 * The agent adds what only this node knows to each task's environment: FLUX_TASK_RANK,
 * FLUX_TASK_LOCAL_ID, FLUX_URI (this broker's socket: a task talks to its own broker) and
 * FLUX_JOB_TMPDIR (in this broker's rundir, made before the first task and removed after the
 * last). Output comes back in the order the launcher read it, so in order per task. When the
 * sender of a start goes away (its broker was lost), the job's tasks here are killed.
 *
 * A task launcher that dies is replaced: the tasks it ran come back `exited` with `lost` (why),
 * and a new one runs the rest. When none starts, starts fail with the reason and the agent says
 * so with the `job-exec.launcher` event ({running: false, reason}; job-ingest then refuses
 * submits), and again ({running: true}) once one starts.
 */
import path from 'node:path';
import { Errno } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { encodeJobId } from '../../job/jobid.js';
import { Spawner, SpawnerError, type SpawnerOptions } from '../launcher/spawner.js';
import type { AgentStart } from '../contract.js';
import {
  INTERNAL_CONN,
  requestJobId,
  type BrokerContext,
  type ConnId,
  type Method,
  type Request,
  type Service,
} from '../service.js';

const SIGKILL = 9;
/**
 * Bytes of output the store may hold uncommitted before this rank's launcher output waits for a
 * commit (outputFlow): a turn of a job printing fast is ~2 MiB, so only a held commit reaches it.
 */
const OUTPUT_BACKLOG_MAX = 4 * 1024 * 1024;

interface AgentJob {
  id: bigint;
  req: Request;
  /** Keys of the tasks not yet exited or failed. */
  left: Set<string>;
  tmpdir: string;
}

export class ExecAgent implements Service {
  readonly name = 'exec-agent';
  readonly methods: Record<string, Method>;
  private ctx!: BrokerContext;
  private spawner: Spawner | undefined;
  private readonly jobs = new Map<bigint, AgentJob>();
  /** task key → its job and global rank */
  private readonly byKey = new Map<string, { job: AgentJob; rank: number }>();
  private uri = '';
  private rundir = '';
  private stopped = false;
  /** Why no task launcher is running, when the last one died and none could be started. */
  private launcherDown: string | undefined;
  /** The launcher's output is held until the store's next commit (outputFlow). */
  private outputHeld = false;

  constructor(private readonly opts: { launcher?: SpawnerOptions } = {}) {
    this.methods = {
      start: { roles: Role.OWNER, handler: (r) => this.startTasks(r) },
      kill: { roles: Role.OWNER, handler: (r) => this.kill(r) },
      stdin: { roles: Role.OWNER, handler: (r) => this.stdin(r) },
    };
  }

  async start(ctx: BrokerContext): Promise<void> {
    this.ctx = ctx;
    this.uri = ctx.getattr('local-uri') ?? '';
    this.rundir = ctx.getattr('rundir') ?? '/tmp';
    const sp = await Spawner.start(this.opts.launcher ?? {});
    this.spawner = sp;
    sp.on('started', (e: { key: string; pid: number }) => this.event(e.key, { type: 'started', pid: e.pid }));
    sp.on('failed', (e: { key: string; message: string }) => this.event(e.key, { type: 'failed', message: e.message }));
    sp.on('exited', (e: { key: string; waitStatus: number; lost?: boolean; reason?: string }) =>
      this.event(
        e.key,
        e.lost === true
          ? { type: 'exited', status: e.waitStatus, lost: e.reason ?? 'task launcher died' }
          : { type: 'exited', status: e.waitStatus },
      ),
    );
    sp.on('output', (e: { key: string; stream: 'stdout' | 'stderr'; data: Buffer }) => {
      this.event(e.key, { type: 'output', stream: e.stream, data: e.data });
      this.outputFlow(sp);
    });
    sp.on('error', (e: Error) => {
      if (!(e instanceof SpawnerError && e.code === 'ESPAWNER'))
        ctx.log('err', `exec-agent: task launcher: ${e.message}`);
    });
    sp.on('lost', (e: { reason: string }) => {
      ctx.log(
        'err',
        `exec-agent: ${e.reason}: its tasks were killed and their jobs raised an exception; starting a new one`,
      );
      this.restartLauncher();
    });
  }

  /**
   * Output flow control: the output of this rank's tasks goes to the store (through job-exec,
   * at once), which keeps what it has not committed in memory; while its commits are held for
   * a checkpoint (store/sqlite.ts), a job printing fast would pile up there (a 0.35 s hold:
   * ~100 MiB). Past OUTPUT_BACKLOG_MAX the launcher's output waits until the next commit.
   */
  private outputFlow(sp: Spawner): void {
    const store = this.ctx.store;
    if (this.outputHeld || store.backlog < OUTPUT_BACKLOG_MAX) return;
    this.outputHeld = true;
    sp.holdOutput(true);
    store.whenCommitted(() => {
      this.outputHeld = false;
      sp.holdOutput(false);
    });
  }

  /**
   * Start a new task launcher after the last one died. When none starts, say so (the
   * `job-exec.launcher` event, which job-ingest follows) and fail the starts that come with the
   * reason; each such start tries again, and a launcher that starts says so too.
   */
  private restartLauncher(): void {
    const sp = this.spawner;
    if (this.stopped || sp === undefined) return;
    sp.restart().then(
      () => {
        this.ctx.log('info', `exec-agent: task launcher started (pid ${sp.pid}, ${sp.launcher})`);
        if (this.launcherDown === undefined) return;
        this.launcherDown = undefined;
        this.ctx.publish('job-exec.launcher', { running: true, rank: this.ctx.rank });
      },
      (e: Error) => {
        const first = this.launcherDown === undefined;
        this.launcherDown = `no task launcher: ${e.message}`;
        if (!first) return;
        this.ctx.log('err', `exec-agent: ${this.launcherDown}; job submission is disabled until one starts`);
        this.ctx.publish('job-exec.launcher', { running: false, reason: this.launcherDown, rank: this.ctx.rank });
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.spawner?.shutdown();
  }

  /** The sender of starts went away (its broker was lost): end its jobs' tasks here. */
  disconnect(conn: ConnId): void {
    for (const job of this.jobs.values()) {
      if (job.req.conn !== conn) continue;
      this.ctx.log('err', `exec-agent: job ${encodeJobId(job.id, 'f58')}: its job-exec went away: killing its tasks`);
      for (const key of job.left) this.spawner?.kill(key, SIGKILL);
    }
  }

  private startTasks(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    if (!req.streaming) return req.error(Errno.EPROTO, 'exec-agent.start must be a streaming request');
    const p = req.payload as AgentStart;
    const bad = checkStart(p);
    if (bad) return req.error(Errno.EPROTO, `malformed request: ${bad}`);
    if (this.jobs.has(id)) return req.error(Errno.EEXIST, `job ${encodeJobId(id, 'f58')} already runs here`);
    const tmpdir = path.join(this.rundir, `jobtmp-${this.ctx.rank}-${encodeJobId(id, 'f58plain')}`);
    const job: AgentJob = { id, req, left: new Set(), tmpdir };
    this.jobs.set(id, job);
    const sp = this.spawner;
    if (this.launcherDown !== undefined && !this.stopped) this.restartLauncher(); // for the starts after this one
    p.tasks.forEach((t, i) => {
      const key = `${id}.${t.rank}`;
      job.left.add(key);
      this.byKey.set(key, { job, rank: t.rank });
      if (sp === undefined || this.stopped || this.launcherDown !== undefined) {
        const why = this.launcherDown ?? 'instance is shutting down';
        setImmediate(() => this.event(key, { type: 'failed', message: why }));
        return;
      }
      sp.launch({
        key,
        argv: p.argv,
        cwd: p.cwd,
        env: {
          ...p.env,
          ...t.env,
          FLUX_TASK_RANK: String(t.rank),
          FLUX_TASK_LOCAL_ID: String(t.localid),
          FLUX_JOB_TMPDIR: tmpdir,
          FLUX_URI: this.uri,
        },
        rlimits: p.rlimits,
        stdout: p.stdout,
        stderr: p.stderr,
        stdin: p.stdin,
        rlimitAboveHard: 'clamp',
        mkdir: i === 0 ? tmpdir : undefined,
      });
    });
  }

  /** A launcher event of one task: passed on to the start's sender; the last ends the stream. */
  private event(key: string, e: { type: string; [k: string]: unknown }): void {
    const t = this.byKey.get(key);
    if (t === undefined) return;
    const job = t.job;
    // output as bytes to this broker's job-exec, as base64 over a link (JSON has no bytes)
    if (e.type === 'output' && job.req.conn !== INTERNAL_CONN && Buffer.isBuffer(e.data)) {
      job.req.respond({ ...e, data: e.data.toString('base64'), encoding: 'base64', rank: t.rank });
    } else job.req.respond({ ...e, rank: t.rank });
    if (e.type !== 'exited' && e.type !== 'failed') return;
    this.byKey.delete(key);
    job.left.delete(key);
    if (job.left.size > 0) return;
    this.jobs.delete(job.id);
    this.spawner?.rmdir(job.tmpdir);
    job.req.error(Errno.ENODATA);
  }

  private kill(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    const signum = req.payload?.signum;
    if (!Number.isInteger(signum) || signum <= 0) return req.error(Errno.EPROTO, 'signum must be a positive integer');
    const job = this.jobs.get(id);
    if (job) for (const key of job.left) this.spawner?.kill(key, signum);
    req.respond({});
  }

  private stdin(req: Request): void {
    const id = requestJobId(req);
    if (id === undefined) return;
    const p = req.payload;
    if (!Array.isArray(p.ranks) || !p.ranks.every((r: unknown) => Number.isInteger(r))) {
      return req.error(Errno.EPROTO, 'ranks must be an array of task ranks');
    }
    if (p.data !== undefined && typeof p.data !== 'string') return req.error(Errno.EPROTO, 'data must be base64');
    const data = p.data === undefined ? undefined : Buffer.from(p.data, 'base64');
    for (const r of p.ranks as number[]) this.spawner?.writeStdin(`${id}.${r}`, data, p.eof === true);
    req.respond({});
  }
}

/** What is wrong with a start's payload, or undefined. */
function checkStart(p: AgentStart): string | undefined {
  if (!Array.isArray(p.tasks) || p.tasks.length === 0) return 'tasks must be a non-empty array';
  for (const t of p.tasks) {
    if (!t || !Number.isInteger(t.rank) || !Number.isInteger(t.localid)) return 'each task needs rank and localid';
  }
  if (!Array.isArray(p.argv) || p.argv.length === 0 || !p.argv.every((a) => typeof a === 'string'))
    return 'argv must be a non-empty array of strings';
  if (typeof p.cwd !== 'string') return 'cwd must be a string';
  if (!p.env || typeof p.env !== 'object') return 'env must be an object';
  if (p.stdout === undefined || p.stderr === undefined || p.stdin === undefined)
    return 'stdout, stderr and stdin are required';
  return undefined;
}
