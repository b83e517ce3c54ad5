/**
 * The `flags` of a job-ingest.submit request (docs/protocol.md §B; flux-core's FLUX_JOB_*
 * submit flags). PRE_SIGNED never travels: it tells the client that the jobspec it was given
 * is already a signed J.
 */
export const SubmitFlags = { PRE_SIGNED: 1, DEBUG: 2, WAITABLE: 4, NOVALIDATE: 8 } as const;

/** The flags a submit request may carry. */
export const SUBMIT_REQUEST_FLAGS = SubmitFlags.DEBUG | SubmitFlags.WAITABLE | SubmitFlags.NOVALIDATE;

/** The flags by the names `flux submit --flags=NAME,…` and Python's `submit(waitable=True, …)` use. */
export const SUBMIT_FLAG_NAMES = {
  debug: SubmitFlags.DEBUG,
  waitable: SubmitFlags.WAITABLE,
  novalidate: SubmitFlags.NOVALIDATE,
} as const;

export type SubmitFlagName = keyof typeof SUBMIT_FLAG_NAMES;

/** The bit of a flag name, or undefined when it names no flag. */
export function submitFlagBit(name: string): number | undefined {
  return Object.hasOwn(SUBMIT_FLAG_NAMES, name) ? SUBMIT_FLAG_NAMES[name as SubmitFlagName] : undefined;
}

/** Flag bits from named booleans: `{waitable: true}` → 4. */
export function submitFlagBits(named: Partial<Record<SubmitFlagName, boolean>>): number {
  let flags = 0;
  for (const name of Object.keys(SUBMIT_FLAG_NAMES) as SubmitFlagName[])
    if (named[name]) flags |= SUBMIT_FLAG_NAMES[name];
  return flags;
}

/** Named booleans from flag bits: 4 → `{debug: false, waitable: true, novalidate: false}`. */
export function submitFlagNames(flags: number): Record<SubmitFlagName, boolean> {
  return {
    debug: (flags & SubmitFlags.DEBUG) !== 0,
    waitable: (flags & SubmitFlags.WAITABLE) !== 0,
    novalidate: (flags & SubmitFlags.NOVALIDATE) !== 0,
  };
}
