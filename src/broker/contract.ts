/**
 * Payload types of the in-process topics the job services use to talk to each other
 * (services never import each other: docs/architecture.md). Wire topics follow flux-core exactly and
 * are documented in docs/protocol.md §B; these internal ones mirror flux-core's own
 * job-manager ↔ scheduler ↔ job-exec protocols (RFC 27 alloc/free, job-exec start stream).
 *
 *   ingest  → manager  'job-manager.submit'     {jobs: SubmitJob[]}          → {errors: [id, text][]}
 *                                                 (the jobs it refused: a queue, a dependency)
 *   manager → sched    'sched.alloc'            AllocRequest                 → {R: Rv1}
 *                                                 (pends until allocated; ECANCELED after
 *                                                  sched.cancel; ENOSPC if it can never fit,
 *                                                  the manager then raises an alloc exception)
 *   manager → sched    'sched.cancel'           {id}                         → {}
 *   manager → sched    'sched.priority'         {id, priority}               → {}
 *   manager → sched    'sched.free'             {id, R}                      → {}
 *   ingest  → sched    'sched.feasible'         {requests: ResourceRequest[]} → {errors: (null | {errnum, errstr})[]}
 *                                                 (only with the feasibility validator configured)
 *   manager → exec     'job-exec.start' (stream) ExecStartRequest            → ExecEvent… then ENODATA
 *   manager → exec     'job-exec.kill'          {id, signum}                 → {}
 *   exec    → agent    'exec-agent.start' (stream, to each rank of R) AgentStart → AgentEvent… then ENODATA
 *   exec    → agent    'exec-agent.kill'        {id, signum}                 → {}
 *   exec    → agent    'exec-agent.stdin'       {id, ranks, data?, eof?}     → {}
 *                                                 (the agent is on every rank: these go over the
 *                                                  overlay to ranks other than 0; exec-agent/agent.ts)
 *   any     → manager  'job-manager.events-journal' (stream) {full?: boolean}
 *                                                → JournalEntry… ({id:-1,events:[]} sentinel
 *                                                  after the backlog when full)
 *
 * Per-job logs live in the store (our KVS): 'eventlog' (manager), 'guest.exec.eventlog'
 * and 'guest.output' (exec), 'jobspec', 'R'. job-info reads and watches them there.
 */
import type { Rv1 } from '../job/rv1.js';
import type { EventEntry } from './store/store.js';
import type { InputSpec, OutputSpec } from './launcher/protocol.js';

/** What a job asks of the resources, derived from its jobspec by ingest. */
export interface ResourceRequest {
  /** Nodes requested (0 = not specified: slots may go anywhere). */
  nnodes: number;
  /** Number of task slots. */
  nslots: number;
  coresPerSlot: number;
  gpusPerSlot: number;
  /** Whole nodes (jobspec node vertex exclusive). */
  exclusive: boolean;
  /** Time limit in seconds; 0 = none. */
  duration: number;
}

export interface SubmitJob {
  id: bigint;
  userid: number;
  urgency: number;
  flags: number;
  /** Submit time, seconds since the epoch (float). */
  t_submit: number;
  /** The validated jobspec without its environment (the full text is in the store). */
  jobspec: any;
  request: ResourceRequest;
}

export interface AllocRequest {
  id: bigint;
  priority: number;
  userid: number;
  t_submit: number;
  request: ResourceRequest;
}

/** exec reads the job's full jobspec from the store ('jobspec'), as flux's shell reads the KVS. */
export interface ExecStartRequest {
  id: bigint;
  userid: number;
  R: Rv1;
}

/** One response of the job-exec.start stream (flux-core job-exec protocol). */
export type ExecEvent =
  | { type: 'start' }
  | { type: 'exception'; severity: number; exc_type: string; note: string }
  | { type: 'finish'; status: number }
  | { type: 'release'; ranks: string; final: boolean };

/** One response of job-manager.events-journal (shape of the real capture). */
export interface JournalEntry {
  id: bigint | number;
  events: EventEntry[];
  jobspec?: any;
  R?: Rv1;
}

/** One task of a start: its global rank, its index on this node and its own variables. */
export interface AgentTask {
  rank: number;
  localid: number;
  env?: Record<string, string>;
}

/** exec-agent.start's payload. */
export interface AgentStart {
  /** The job id (decimal string or number; toJobId). */
  id: string;
  tasks: AgentTask[];
  argv: string[];
  cwd: string;
  /** The environment every task of the job gets (the agent adds its own variables). */
  env: Record<string, string>;
  rlimits?: Record<string, number>;
  stdout: OutputSpec;
  stderr: OutputSpec;
  stdin: InputSpec;
}

/** One response of exec-agent.start. */
export type AgentEvent =
  | { type: 'started'; rank: number; pid: number }
  | { type: 'failed'; rank: number; message: string }
  /** `output`: the bytes (in this broker), or their base64 (`encoding`, from another broker). */
  | { type: 'output'; rank: number; stream: 'stdout' | 'stderr'; data: Buffer | string; encoding?: 'base64' }
  /** `lost`: the rank's task launcher died (why), so the task was killed. */
  | { type: 'exited'; rank: number; status: number; lost?: string };
