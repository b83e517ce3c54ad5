/**
 * The job store: the instance's record of every job (docs/architecture.md "store"). It plays the part
 * of flux-core's KVS job directory: per job, named text values ('jobspec', 'R') and
 * append-only logs ('eventlog', 'guest.exec.eventlog', 'guest.output'), with a watch so
 * job-info can stream appends. Jobs are created in batches (group commit): `createJobs`
 * resolves once the batch is durable, and only then does ingest answer with the ids.
 *
 * `MemoryStore` is the implementation for now; a durable SQLite store implements the same
 * interface.
 */

/** One RFC 18 eventlog entry as an object. */
export interface EventEntry {
  timestamp: number;
  name: string;
  context?: Record<string, unknown>;
}

export interface NewJobRecord {
  id: bigint;
  userid: number;
  /** The jobspec as submitted (JSON text). */
  jobspec: string;
  /** The first eventlog line(s) (the `submit` event), RFC 18 text ending in \n. */
  eventlog: string;
}

export type StoreWatcher = (id: bigint, key: string, appended: string) => void;

export interface JobStore {
  /** Commit a batch of new jobs; resolves when they are durable. */
  createJobs(jobs: NewJobRecord[]): Promise<void>;
  /** Remove jobs that were created but then refused (flux-core ingest's batch cleanup). */
  removeJobs(ids: bigint[]): Promise<void>;
  has(id: bigint): boolean;
  /** Append text (one or more complete lines) to a job's log `key`. */
  append(id: bigint, key: string, text: string): void;
  /** Set a job's value `key` (e.g. 'R'). */
  put(id: bigint, key: string, value: string): void;
  get(id: bigint, key: string): string | undefined;
  /** Every job id, oldest first. */
  ids(): Iterable<bigint>;
  /** Called after every append or put. Returns unwatch. */
  watch(cb: StoreWatcher): () => void;
  close(): Promise<void>;
}
