/** In-memory JobStore (see store.ts). Logs are kept as arrays of chunks joined on read. */
import type { JobStore, NewJobRecord, StoreWatcher } from './store.js';

interface Rec {
  values: Map<string, string | string[]>;
}

export class MemoryStore implements JobStore {
  private readonly jobs = new Map<bigint, Rec>();
  private readonly watchers = new Set<StoreWatcher>();

  async createJobs(jobs: NewJobRecord[]): Promise<void> {
    for (const j of jobs) {
      const values = new Map<string, string | string[]>();
      values.set('jobspec', j.jobspec);
      values.set('eventlog', [j.eventlog]);
      this.jobs.set(j.id, { values });
    }
  }

  has(id: bigint): boolean {
    return this.jobs.has(id);
  }

  append(id: bigint, key: string, text: string): void {
    const rec = this.jobs.get(id);
    if (!rec) throw new Error(`store: unknown job ${id}`);
    const cur = rec.values.get(key);
    if (cur === undefined) rec.values.set(key, [text]);
    else if (Array.isArray(cur)) cur.push(text);
    else rec.values.set(key, [cur, text]);
    for (const w of this.watchers) w(id, key, text);
  }

  put(id: bigint, key: string, value: string): void {
    const rec = this.jobs.get(id);
    if (!rec) throw new Error(`store: unknown job ${id}`);
    rec.values.set(key, value);
    for (const w of this.watchers) w(id, key, value);
  }

  get(id: bigint, key: string): string | undefined {
    const v = this.jobs.get(id)?.values.get(key);
    if (v === undefined || typeof v === 'string') return v;
    if (v.length > 1) {
      const joined = v.join('');
      v.length = 0;
      v.push(joined);
    }
    return v[0];
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
