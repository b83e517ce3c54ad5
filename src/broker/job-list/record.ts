/**
 * job-list's record of one job, kept small: a broker holding a million queued jobs holds a
 * million of these (issue 11: under 1 GiB for a backlog of 1,000,000 held jobs).
 *
 * Each field of a JavaScript object costs 8 bytes and each non-integer number in one another 16,
 * so the record keeps as its own fields only what every job has (id, owner, urgency, priority,
 * submit-time, pending-state times, the jobspec's name, cwd, queue and counts), packs its state,
 * the masks of the states it has been in and asked for, its result and two flags into one
 * integer, and moves what only a started, finished or annotated job has (run and end times,
 * R's ranks and nodelist, exit status, exception, annotations, dependencies …) into a second
 * object made on the first write of one of them. Reads and writes go through accessors with
 * the fields' old names, so the code that derives them (job.ts, list.ts, constraint.ts) reads
 * as before. Strings that repeat across jobs are shared (job.ts `intern`).
 */
import { JobResult, JobState } from '../../job/states.js';

/** What only some jobs have; one object per job that has any of it. */
class Rare {
  t_run = 0;
  t_cleanup = 0;
  t_inactive = 0;
  project: string | undefined = undefined;
  bank: string | undefined = undefined;
  ranks: string | undefined = undefined;
  nodelist: string | undefined = undefined;
  expiration = -1;
  waitstatus = -1;
  excSeverity = -1;
  excType: string | undefined = undefined;
  excNote: string | undefined = undefined;
  annotations: Record<string, unknown> | undefined = undefined;
  dependencies: string[] | undefined = undefined;
  ntasksPerNode = 0;
  ntasksPerCore = 0;
  hosts: Set<string> | undefined = undefined;
  rankSet: Set<number> | undefined = undefined;
}

/** Every job without a Rare object reads these. */
const NONE: Readonly<Rare> = Object.freeze(new Rare());

// `bits`: state (a JobState bit, 7 bits), the states it has been in, the states a transition was
// asked to (7 bits each), the result (a JobResult bit, 4 bits), success, exception occurred, and
// the submit event's version clamped to -1..1 (stored + 1, 2 bits).
const STATE = 0;
const STATES_MASK = 7;
const EVENTS_MASK = 14;
const RESULT = 21;
const SUCCESS = 1 << 25;
const EXC = 1 << 26;
const VERSION = 27;
const M7 = 0x7f;

const INITIAL_BITS =
  (JobState.NEW << STATE) |
  (JobState.NEW << STATES_MASK) |
  (JobState.NEW << EVENTS_MASK) |
  (JobResult.FAILED << RESULT) |
  (0 << VERSION); // version -1

export class ListJob {
  userid = 0xffffffff;
  urgency = -1;
  /** FLUX_JOB_PRIORITY_MIN until a priority event: pending jobs without one list last. */
  priority = 0;
  private bits = INITIAL_BITS;
  t_submit = 0;
  t_depend = 0;
  t_priority = 0;
  t_sched = 0;
  name: string | undefined = undefined;
  cwd: string | undefined = undefined;
  queue: string | undefined = undefined;
  ntasks = -1;
  ncores = -1;
  duration = -1;
  nnodes = -1;
  private x: Rare | undefined = undefined;

  constructor(readonly id: bigint) {}

  private rare(): Rare {
    return (this.x ??= new Rare());
  }

  /** Set a Rare field, without making the object for a value every job has by default. */
  private setRare<K extends keyof Rare>(k: K, v: Rare[K]): void {
    if (this.x !== undefined) this.x[k] = v;
    else if (v !== NONE[k]) this.rare()[k] = v;
  }

  // ---- packed ------------------------------------------------------------------------------

  get state(): number {
    return (this.bits >>> STATE) & M7;
  }
  set state(v: number) {
    this.bits = (this.bits & ~(M7 << STATE)) | ((v & M7) << STATE);
  }
  /** Every state the job has been in. */
  get statesMask(): number {
    return (this.bits >>> STATES_MASK) & M7;
  }
  set statesMask(v: number) {
    this.bits = (this.bits & ~(M7 << STATES_MASK)) | ((v & M7) << STATES_MASK);
  }
  /** Every state a transition was requested to (de-duplicates transitions, flux job_state.c). */
  get eventsMask(): number {
    return (this.bits >>> EVENTS_MASK) & M7;
  }
  set eventsMask(v: number) {
    this.bits = (this.bits & ~(M7 << EVENTS_MASK)) | ((v & M7) << EVENTS_MASK);
  }
  get result(): number {
    return (this.bits >>> RESULT) & 0xf;
  }
  set result(v: number) {
    this.bits = (this.bits & ~(0xf << RESULT)) | ((v & 0xf) << RESULT);
  }
  get success(): boolean {
    return (this.bits & SUCCESS) !== 0;
  }
  set success(v: boolean) {
    this.bits = v ? this.bits | SUCCESS : this.bits & ~SUCCESS;
  }
  get excOccurred(): boolean {
    return (this.bits & EXC) !== 0;
  }
  set excOccurred(v: boolean) {
    this.bits = v ? this.bits | EXC : this.bits & ~EXC;
  }
  /** The submit event's `version`, clamped to -1..1 (job-list only asks whether it is below 1). */
  get submitVersion(): number {
    return ((this.bits >>> VERSION) & 3) - 1;
  }
  set submitVersion(v: number) {
    const c = v < -1 ? -1 : v > 1 ? 1 : v;
    this.bits = (this.bits & ~(3 << VERSION)) | ((c + 1) << VERSION);
  }

  // ---- rare --------------------------------------------------------------------------------

  get t_run(): number {
    return (this.x ?? NONE).t_run;
  }
  set t_run(v: number) {
    this.setRare('t_run', v);
  }
  get t_cleanup(): number {
    return (this.x ?? NONE).t_cleanup;
  }
  set t_cleanup(v: number) {
    this.setRare('t_cleanup', v);
  }
  get t_inactive(): number {
    return (this.x ?? NONE).t_inactive;
  }
  set t_inactive(v: number) {
    this.setRare('t_inactive', v);
  }
  get project(): string | undefined {
    return (this.x ?? NONE).project;
  }
  set project(v: string | undefined) {
    this.setRare('project', v);
  }
  get bank(): string | undefined {
    return (this.x ?? NONE).bank;
  }
  set bank(v: string | undefined) {
    this.setRare('bank', v);
  }
  get ranks(): string | undefined {
    return (this.x ?? NONE).ranks;
  }
  set ranks(v: string | undefined) {
    this.setRare('ranks', v);
  }
  get nodelist(): string | undefined {
    return (this.x ?? NONE).nodelist;
  }
  set nodelist(v: string | undefined) {
    this.setRare('nodelist', v);
  }
  get expiration(): number {
    return (this.x ?? NONE).expiration;
  }
  set expiration(v: number) {
    this.setRare('expiration', v);
  }
  get waitstatus(): number {
    return (this.x ?? NONE).waitstatus;
  }
  set waitstatus(v: number) {
    this.setRare('waitstatus', v);
  }
  get excSeverity(): number {
    return (this.x ?? NONE).excSeverity;
  }
  set excSeverity(v: number) {
    this.setRare('excSeverity', v);
  }
  get excType(): string | undefined {
    return (this.x ?? NONE).excType;
  }
  set excType(v: string | undefined) {
    this.setRare('excType', v);
  }
  get excNote(): string | undefined {
    return (this.x ?? NONE).excNote;
  }
  set excNote(v: string | undefined) {
    this.setRare('excNote', v);
  }
  get annotations(): Record<string, unknown> | undefined {
    return (this.x ?? NONE).annotations;
  }
  set annotations(v: Record<string, unknown> | undefined) {
    this.setRare('annotations', v);
  }
  get dependencies(): string[] | undefined {
    return (this.x ?? NONE).dependencies;
  }
  set dependencies(v: string[] | undefined) {
    this.setRare('dependencies', v);
  }
  /** per-resource type=node with no node count: ntasks = nnodes × this once R is known. */
  get ntasksPerNode(): number {
    return (this.x ?? NONE).ntasksPerNode;
  }
  set ntasksPerNode(v: number) {
    this.setRare('ntasksPerNode', v);
  }
  /** per-resource type=core with a node count: ntasks = ncores × this once R is known. */
  get ntasksPerCore(): number {
    return (this.x ?? NONE).ntasksPerCore;
  }
  set ntasksPerCore(v: number) {
    this.setRare('ntasksPerCore', v);
  }
  /** Host names in the job's nodelist (decoded on first `hostlist` constraint). */
  get hosts(): Set<string> | undefined {
    return (this.x ?? NONE).hosts;
  }
  set hosts(v: Set<string> | undefined) {
    this.setRare('hosts', v);
  }
  /** Ranks in the job's R (decoded on first `ranks` constraint). */
  get rankSet(): Set<number> | undefined {
    return (this.x ?? NONE).rankSet;
  }
  set rankSet(v: Set<number> | undefined) {
    this.setRare('rankSet', v);
  }
}
