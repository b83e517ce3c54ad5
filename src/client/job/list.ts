/**
 * Job listing (docs/protocol.md §B `job-list.list`, `list-id`; §D "Listing"). Python's
 * job_list builds an RFC 31 constraint from userid / states / results / name / queue.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { jobIdToWire, toJobId } from '../../protocol/json.js';
import type { Flux } from '../handle.js';

export const USERID_ANY = 0xffffffff;

export interface ListOptions {
  maxEntries?: number;
  attrs?: string[];
  /** Default: the caller's uid; USERID_ANY for everyone. */
  userid?: number;
  /** State bitmask (0 = any). */
  states?: number;
  /** Result bitmask (0 = any). */
  results?: number;
  /** Only jobs that became inactive after this time (seconds). */
  since?: number;
  name?: string;
  queue?: string;
  constraint?: object;
}

/** A job-list record: `id` as bigint plus the requested attributes that are set. */
export type JobRecord = { id: bigint } & Record<string, any>;

function normalize(job: any): JobRecord {
  return { ...job, id: toJobId(job.id) };
}

export function listConstraint(opts: ListOptions): object | undefined {
  const and: object[] = [];
  const userid = opts.userid ?? process.getuid?.() ?? USERID_ANY;
  if (userid !== USERID_ANY) and.push({ userid: [userid] });
  if (opts.states) and.push({ states: [opts.states] });
  if (opts.results) and.push({ results: [opts.results] });
  if (opts.name) and.push({ name: [opts.name] });
  if (opts.queue) and.push({ queue: [opts.queue] });
  if (opts.constraint) and.push(opts.constraint);
  return and.length ? { and } : undefined;
}

/** List jobs (streaming RPC; one job per response). */
export async function list(h: Flux, opts: ListOptions = {}): Promise<JobRecord[]> {
  const payload: Record<string, unknown> = {
    max_entries: opts.maxEntries ?? 1000,
    attrs: opts.attrs ?? ['all'],
    since: opts.since ?? 0,
  };
  const c = listConstraint(opts);
  if (c) payload.constraint = c;
  const out: JobRecord[] = [];
  for await (const r of h.rpcStream<{ jobs: any[] }>('job-list.list', payload)) {
    for (const j of r.jobs ?? []) out.push(normalize(j));
  }
  return out;
}

/** One job's record; ENOENT for an unknown id. */
export async function listId(h: Flux, id: bigint, attrs: string[] = ['all']): Promise<JobRecord> {
  const r = await h.rpc<{ job: any }>('job-list.list-id', { id: jobIdToWire(id), attrs });
  return normalize(r.job);
}

/** Like listId, but undefined for an unknown job (Python's get_job). */
export async function getJob(h: Flux, id: bigint): Promise<JobRecord | undefined> {
  try {
    return await listId(h, id);
  } catch (e) {
    if (e instanceof FluxError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
}

/** job-info.lookup: the raw values (`eventlog`, `jobspec`, `R`, …) of a job. */
export async function lookup(h: Flux, id: bigint, keys: string[], flags = 0): Promise<Record<string, string>> {
  const r = await h.rpc<Record<string, any>>('job-info.lookup', { id: jobIdToWire(id), keys, flags });
  const out: Record<string, string> = {};
  for (const k of keys) if (typeof r[k] === 'string') out[k] = r[k];
  return out;
}
