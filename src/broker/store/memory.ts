/**
 * In-memory JobStore (see store.ts). Logs are kept as arrays of chunks joined on read.
 *
 * One small fixed-shape record per job (the jobspec and the eventlog, which every job has, in
 * their own fields; other keys in a Map made on first use): a broker holding tens of thousands
 * of jobs spends its garbage collector's time in proportion to the objects it keeps per job.
 */
import type { JobStore, NewJobRecord, StoreWatcher } from './store.js';

type Value = string | string[];

class Rec {
  others: Map<string, Value> | undefined = undefined;
  constructor(
    public jobspec: string,
    public eventlog: Value,
  ) {}

  get(key: string): Value | undefined {
    if (key === 'eventlog') return this.eventlog;
    if (key === 'jobspec') return this.jobspec;
    return this.others?.get(key);
  }

  set(key: string, v: Value): void {
    if (key === 'eventlog') this.eventlog = v;
    else if (key === 'jobspec' && typeof v === 'string') this.jobspec = v;
    else (this.others ??= new Map()).set(key, v);
  }
}

export class MemoryStore implements JobStore {
  private readonly jobs = new Map<bigint, Rec>();
  private readonly watchers = new Set<StoreWatcher>();

  async createJobs(jobs: NewJobRecord[]): Promise<void> {
    for (const j of jobs) this.jobs.set(j.id, new Rec(j.jobspec, j.eventlog));
  }

  async removeJobs(ids: bigint[]): Promise<void> {
    for (const id of ids) this.jobs.delete(id);
  }

  has(id: bigint): boolean {
    return this.jobs.has(id);
  }

  append(id: bigint, key: string, text: string): void {
    const rec = this.jobs.get(id);
    if (!rec) throw new Error(`store: unknown job ${id}`);
    const cur = rec.get(key);
    if (cur === undefined) rec.set(key, text);
    else if (Array.isArray(cur)) cur.push(text);
    else rec.set(key, [cur, text]);
    for (const w of this.watchers) w(id, key, text);
  }

  put(id: bigint, key: string, value: string): void {
    const rec = this.jobs.get(id);
    if (!rec) throw new Error(`store: unknown job ${id}`);
    rec.set(key, value);
    for (const w of this.watchers) w(id, key, value);
  }

  get(id: bigint, key: string): string | undefined {
    const rec = this.jobs.get(id);
    const v = rec?.get(key);
    if (v === undefined || typeof v === 'string') return v;
    const joined = v.join('');
    rec!.set(key, joined);
    return joined;
  }

  ids(): Iterable<bigint> {
    return this.jobs.keys();
  }

  watch(cb: StoreWatcher): () => void {
    this.watchers.add(cb);
    return () => this.watchers.delete(cb);
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
