/**
 * RFC 26 job dependencies of the `after*` family, as flux-core's job-manager plugin
 * dependency-after does it: `after` / `afterstart` (the antecedent started), `afterany`
 * (it became inactive), `afterok` (inactive and successful), `afternotok` (inactive after it
 * ran and failed), `afterexcept` (inactive after it ran and ended by an exception).
 *
 * At submit each `attributes.system.dependencies` entry becomes a `dependency-add` event with
 * the description `<type>=<value>` (`after-success=ƒ2abc`), posted before `validate`. An
 * antecedent that is already inactive settles it at once (`dependency-remove`, or the job is
 * rejected); otherwise the job waits in DEPEND until the antecedent's start or end removes
 * it, or a fatal `dependency` exception says that it never can be. Any other scheme
 * (`singleton`, `begin-time`, ...) is refused at submit: tsflux does not implement it.
 */
import { parseJobId } from '../../job/jobid.js';
import { JOBID_ANY } from '../../protocol/json.js';
import { S } from './transitions.js';
import type { Job } from './job.js';

type AfterType = 'after-start' | 'after-finish' | 'after-success' | 'after-failure' | 'after-except';

const SCHEMES: Readonly<Record<string, AfterType>> = {
  after: 'after-start',
  afterstart: 'after-start',
  afterany: 'after-finish',
  afterok: 'after-success',
  afternotok: 'after-failure',
  afterexcept: 'after-except',
};

/** One dependency of `dependent` on an antecedent job, held by the antecedent until settled. */
export interface AfterWait {
  dependent: Job;
  type: AfterType;
  description: string;
}

/** A new job's dependencies, worked out at submit: the events to post before `validate`. */
export interface DependPlan {
  events: (readonly [string, Record<string, unknown>])[];
  /** Descriptions still outstanding once the events are posted. */
  outstanding: Set<string>;
  waits: { antecedent: Job; wait: AfterWait }[];
}

/** What the dependency logic needs of the job manager. */
export interface DependencyHost {
  /** Any job the manager knows, active or inactive. */
  lookup(id: bigint): Job | undefined;
  /** Post `dependency-remove` on a job in DEPEND; the manager releases it when none remain. */
  remove(job: Job, description: string): void;
  /** Raise a fatal `dependency` exception on a job. */
  raise(job: Job, note: string): void;
}

/** The job's result as the after* rules see it: completed means it finished with status 0. */
function completed(job: Job): boolean {
  const e = job.endEvent;
  return e?.name === 'finish' && (e.context as { status?: unknown } | undefined)?.status === 0;
}

function endedByException(job: Job): boolean {
  return job.endEvent?.name === 'exception';
}

export class AfterDependencies {
  constructor(private readonly host: DependencyHost) {}

  /**
   * Work out a new job's dependencies (jobspec `attributes.system.dependencies`). Returns the
   * plan, or the text the submit is refused with (flux-core's texts, errno EINVAL at ingest).
   */
  plan(job: Job, dependencies: unknown): DependPlan | string {
    const plan: DependPlan = { events: [], outstanding: new Set(), waits: [] };
    if (dependencies === undefined) return plan;
    if (!Array.isArray(dependencies)) return 'dependencies object must be an array';
    const added = new Set<string>();
    for (let i = 0; i < dependencies.length; i++) {
      const dep = dependencies[i] as Record<string, unknown> | null;
      const scheme = dep !== null && typeof dep === 'object' ? dep.scheme : undefined;
      if (typeof scheme !== 'string') return `dependency[${i}] missing string scheme`;
      const type = Object.hasOwn(SCHEMES, scheme) ? SCHEMES[scheme]! : undefined;
      if (type === undefined) return `dependency scheme "${scheme}" not supported`;
      const value = dep!.value;
      if (typeof value !== 'string') return `dependency: ${scheme}: value must be a string job id`;
      let id: bigint;
      try {
        id = parseJobId(value);
      } catch {
        return `dependency: ${scheme}: "${value}" is not a valid jobid`;
      }
      if (id === JOBID_ANY) return `dependency: ${scheme}: "${value}" is not a valid jobid`;
      const antecedent = this.host.lookup(id);
      if (!antecedent) return `dependency: ${scheme}: id ${value}: job not found`;
      if (antecedent.userid !== job.userid) return `${scheme}: Permission denied for job ${value}`;
      const description = `${type}=${value}`;
      if (added.has(description)) continue; // a dependency is added once (flux: grudgeset)
      added.add(description);
      plan.events.push(['dependency-add', { description }]);
      if (antecedent.state === S.INACTIVE) {
        const refused = this.settledAtSubmit(antecedent, type, value);
        if (refused !== undefined) return refused;
        plan.events.push(['dependency-remove', { description }]);
      } else if (type === 'after-start' && antecedent.started) {
        plan.events.push(['dependency-remove', { description }]);
      } else {
        plan.outstanding.add(description);
        plan.waits.push({ antecedent, wait: { dependent: job, type, description } });
      }
    }
    return plan;
  }

  /** An inactive antecedent: undefined when the dependency is met, else why it never can be. */
  private settledAtSubmit(antecedent: Job, type: AfterType, value: string): string | undefined {
    const allocated = antecedent.R !== undefined;
    if ((type !== 'after-finish' && !allocated) || (type === 'after-start' && !antecedent.started))
      return `dependency: after: ${value} never started`;
    if (type === 'after-success' && !completed(antecedent))
      return `dependency: afterok: job ${value} failed or was canceled`;
    if (type === 'after-failure' && completed(antecedent)) return `dependency: afternotok: job ${value} succeeded`;
    if (type === 'after-except' && !endedByException(antecedent))
      return `dependency: afterexcept: job ${value}: no exception`;
    return undefined;
  }

  /**
   * A restart: the job in DEPEND has `dependsOn` (its outstanding descriptions, from the
   * eventlog). Each is registered again with its antecedent, or settled now if the antecedent
   * is inactive (or started, for after-start) or gone.
   */
  restore(job: Job): void {
    for (const description of [...(job.dependsOn ?? [])]) {
      const eq = description.indexOf('=');
      const type = description.slice(0, eq) as AfterType;
      const value = description.slice(eq + 1);
      let antecedent: Job | undefined;
      try {
        antecedent = this.host.lookup(parseJobId(value));
      } catch {
        antecedent = undefined;
      }
      if (!antecedent || !Object.values(SCHEMES).includes(type)) {
        this.host.raise(job, `dependency ${description}: job not found`);
        return;
      }
      if (antecedent.state === S.INACTIVE) {
        const refused = this.settledAtSubmit(antecedent, type, value);
        if (refused !== undefined) return this.host.raise(job, refused);
        this.host.remove(job, description);
      } else if (type === 'after-start' && antecedent.started) {
        this.host.remove(job, description);
      } else {
        this.commit({
          events: [],
          outstanding: new Set(),
          waits: [{ antecedent, wait: { dependent: job, type, description } }],
        });
      }
    }
  }

  /** The submitted job was accepted: register its outstanding waits with their antecedents. */
  commit(plan: DependPlan): void {
    for (const { antecedent, wait } of plan.waits) {
      (antecedent.waiters ??= []).push(wait);
      (wait.dependent.waitingOn ??= []).push({ antecedent, wait });
    }
  }

  /** The job left DEPEND: its references to antecedents are no longer needed. */
  released(job: Job): void {
    job.waitingOn = undefined;
  }

  /** The antecedent's `start` was posted: release the after-start waits. */
  started(antecedent: Job): void {
    this.release(antecedent, (t) => t === 'after-start');
  }

  /**
   * The job became inactive. As an antecedent: release the waits its result satisfies and
   * raise an exception on the rest. As a dependent that never left DEPEND (canceled): drop
   * its waits from its antecedents.
   */
  inactive(job: Job): void {
    if (job.waiters?.length) {
      if (job.R === undefined) {
        // never ran: only afterany can be met (flux-core issue 6555)
        this.release(job, (t) => t === 'after-finish');
        this.raiseAll(job, 'job never started');
      } else {
        const ok = completed(job);
        const exc = endedByException(job);
        this.release(job, (t) =>
          ok
            ? t === 'after-finish' || t === 'after-success'
            : t === 'after-finish' || t === 'after-failure' || (exc && t === 'after-except'),
        );
        this.raiseAll(job, 'can never be satisfied');
      }
    }
    job.waiters = undefined;
    for (const { antecedent, wait } of job.waitingOn ?? []) {
      const i = antecedent.waiters?.indexOf(wait) ?? -1;
      if (i >= 0) antecedent.waiters!.splice(i, 1);
    }
    job.waitingOn = undefined;
  }

  private release(antecedent: Job, match: (t: AfterType) => boolean): void {
    const list = antecedent.waiters;
    if (!list) return;
    const due = list.filter((w) => match(w.type));
    antecedent.waiters = list.filter((w) => !match(w.type));
    for (const w of due) this.host.remove(w.dependent, w.description);
  }

  private raiseAll(antecedent: Job, why: string): void {
    const list = antecedent.waiters ?? [];
    antecedent.waiters = undefined;
    for (const w of list) this.host.raise(w.dependent, `dependency ${w.description} ${why}`);
  }
}
