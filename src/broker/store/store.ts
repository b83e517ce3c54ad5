/**
 * The job store: the instance's record of every job (docs/architecture.md "store"). It plays the part
 * of flux-core's KVS job directory: per job, named text values ('jobspec', 'R') and
 * append-only logs ('eventlog', 'guest.exec.eventlog', 'guest.output', 'guest.input'), with a
 * watch so job-info can stream appends. Jobs are created in batches (group commit): `createJobs`
 * resolves once the batch is durable, and only then does ingest answer with the ids.
 *
 * Reads see every write at once (read your writes); appends and puts reach the disk with the
 * next group commit, a moment later. `SqliteStore` (sqlite.ts) is the implementation.
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

/** One stored job as a restart reads it back. */
export interface StoredJob {
  id: bigint;
  userid: number;
  eventlog: string;
  /** The jobspec's content address: jobs that share one jobspec share one ref. */
  jobspecRef: string;
}

/** A piece of a log read from a cursor: whole appends, at most about `maxBytes`. */
export interface LogRead {
  text: string;
  /** Where the next read starts. */
  cursor: number;
}

/**
 * The same, as the store holds it: one piece per stored chunk, each whole appends (so whole
 * lines, or whole records), in order; never one string of them all (a string from 128 KiB on is
 * a large object for V8, fresh memory each time). A piece is text (append()) or binary output
 * records (appendRecords(), src/job/output-records.ts).
 */
export interface LogPieces {
  pieces: (string | Buffer)[];
  /** Where the next read starts. */
  cursor: number;
}

/** `appended` is the text appended, '' for records (appendRecords). */
export type StoreWatcher = (id: bigint, key: string, appended: string) => void;

export interface JobStore {
  /** The store outlives the instance (a restart on it finds its jobs). */
  readonly durable: boolean;
  /** Commit a batch of new jobs; resolves when they are durable. */
  createJobs(jobs: NewJobRecord[]): Promise<void>;
  /** Remove jobs that were created but then refused, or purged (nothing of them is kept). */
  removeJobs(ids: bigint[]): Promise<void>;
  has(id: bigint): boolean;
  /** Append text (one or more complete lines) to a job's log `key`. */
  append(id: bigint, key: string, text: string): void;
  /**
   * Append binary output records (src/job/output-records.ts: whole records) to a job's log
   * `key` (a `guest.*` log: `guest.output`). Read as text (readLog, get), they are the RFC 24
   * lines they stand for; readLogPieces gives them as they are. The store copies `records`
   * before it returns (the caller may reuse that memory).
   */
  appendRecords(id: bigint, key: string, records: Buffer): void;
  /** Set a job's value `key` (e.g. 'R'). */
  put(id: bigint, key: string, value: string): void;
  /** A whole value or log (a long log is better read with `readLog`). */
  get(id: bigint, key: string): string | undefined;
  /**
   * Read a log from `cursor` (0: its start), whole appends up to about `maxBytes` (at least
   * one), without loading the rest; `undefined` if the log does not exist.
   */
  readLog(id: bigint, key: string, cursor: number, maxBytes: number): LogRead | undefined;
  /** readLog without making one string of what it read: a watch streaming a log sends each piece as it is. */
  readLogPieces(id: bigint, key: string, cursor: number, maxBytes: number): LogPieces | undefined;
  /** Bytes (UTF-8) of a chunked log (`guest.*`), 0 if there is none, without reading it into memory. */
  logBytes(id: bigint, key: string): number;
  /** Every job id, oldest first. */
  ids(): Iterable<bigint>;
  /** Every job with its eventlog, oldest first (a restart's replay). */
  scan(): Iterable<StoredJob>;
  /** Up to `limit` jobs with ids above `after` (all: undefined), in id order: a page of scan(). */
  scanPage(after: bigint | undefined, limit: number): StoredJob[];
  /** The text at a content address (`StoredJob.jobspecRef`). */
  blob(ref: string): string | undefined;
  /** The highest job id ever created in this store (0n if none). */
  maxJobId(): bigint;
  /**
   * Bytes of log appends (output above all) held in memory, not committed yet: a commit takes
   * them at the end of the event loop's turn, or later while the store holds its commits for a
   * checkpoint (sqlite.ts). A writer of output that outruns the disk waits (whenCommitted).
   */
  readonly backlog: number;
  /** `cb` once, after the next commit (the backlog is then 0); never if the store closes first. */
  whenCommitted(cb: () => void): void;
  /** Called after every append or put. Returns unwatch. */
  watch(cb: StoreWatcher): () => void;
  close(): Promise<void>;
}
