/**
 * The SQLite store's schema, as numbered migrations (docs/architecture.md "store"). A store's
 * `PRAGMA user_version` is the number of migrations applied to it; opening a store applies the
 * missing ones in one transaction, and refuses a store from a newer tsflux.
 *
 *   meta    instance-wide values: `max-jobid` (the highest id ever handed out: FLUIDs never
 *           repeat after a restart, even once that job is purged)
 *   blobs   content-addressed texts (`sha256-<hex>` → text): jobspecs, stored once however many
 *           jobs share one, as flux-core's content store does
 *   jobs    one row per job: id (the FLUID, its top bit flipped to fit SQLite's signed
 *           integers in order: sqlite.ts), owner, jobspec blobref,
 *           the main eventlog (short: appended in place)
 *   vals    other values of a job, set whole (`R`)
 *   chunks  the other logs, appended in numbered chunks (`guest.exec.eventlog`,
 *           `guest.output`, `guest.input`): a job's output is never one value in memory.
 *           A chunk's data is text (eventlog lines) or, from schema 3 on, a BLOB of binary
 *           output records (src/job/output-records.ts: `guest.output`, the bytes as printed).
 *           From schema 4 on, a chunk's rowid is its number (`seq`, one sequence for the whole
 *           store) and the index `chunks_log` on (id, key, seq) finds a log's chunks in order.
 *           Schemas 1-3 kept them in a WITHOUT ROWID table keyed by (id, key, seq): SQLite
 *           stores rows of tens of KiB badly in such a table (it keeps less of a row in its
 *           b-tree page and leaves the last of its overflow pages partly empty, where a rowid
 *           table fills them), and reading them back was 1.5-2.7 times slower
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE blobs (ref TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE jobs (
     id INTEGER PRIMARY KEY,
     userid INTEGER NOT NULL,
     jobspec TEXT NOT NULL,
     eventlog TEXT NOT NULL
   );
   CREATE TABLE vals (
     id INTEGER NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (id, key)
   ) WITHOUT ROWID;
   CREATE TABLE chunks (
     id INTEGER NOT NULL,
     key TEXT NOT NULL,
     seq INTEGER NOT NULL,
     data TEXT NOT NULL,
     PRIMARY KEY (id, key, seq)
   ) WITHOUT ROWID;`,
  // 2: purging jobs removes the jobspecs no job uses any more
  `CREATE INDEX jobs_jobspec ON jobs (jobspec);`,
  // 3: `guest.output` chunks hold binary output records (BLOBs), which an older tsflux cannot
  // read: the version alone says so (text chunks of older stores are still read)
  `INSERT OR REPLACE INTO meta (key, value) VALUES ('output-records', '1');`,
  // 4: chunks in a rowid table, the row its seq (see above); the rows are copied in seq order,
  // as they were written
  `CREATE TABLE chunks4 (
     seq INTEGER PRIMARY KEY,
     id INTEGER NOT NULL,
     key TEXT NOT NULL,
     data NOT NULL
   );
   INSERT INTO chunks4 (seq, id, key, data) SELECT seq, id, key, data FROM chunks ORDER BY seq;
   DROP TABLE chunks;
   ALTER TABLE chunks4 RENAME TO chunks;
   CREATE INDEX chunks_log ON chunks (id, key, seq);`,
];

/** The schema version this tsflux writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** `application_id` of a tsflux store ("tsfx"), so another program's database is refused. */
export const APPLICATION_ID = 0x74736678;
