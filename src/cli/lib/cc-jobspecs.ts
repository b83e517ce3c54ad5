/**
 * The jobspec texts of `submit --cc/--bcc IDSET`, one per copy, built once.
 *
 * Copies differ only where the copy id goes: `{cc}` in the command's arguments and, with --cc,
 * FLUX_JOB_CC in the environment (submit-options.ts buildJobspec). So the jobspec is built and
 * encoded once with PLACEHOLDER as the copy id, cut at each PLACEHOLDER, and a copy's text is
 * the pieces joined with its id: no environment copy, /proc/self/limits read or JSON encoding
 * per copy. The result for the first and the last id is checked against a full build; should
 * they differ (the placeholder's text given by the user, say), every copy is built in full.
 */
import { processEnvironment } from '../../job/jobspec.js';
import { allRlimits } from '../../job/rlimits.js';
import { buildJobspec, type BuildContext, type SubmitCommandOptions } from './submit-options.js';

/** What stands for the copy id in the template: letters and dots, which JSON leaves as they are. */
export const PLACEHOLDER = 'tsflux.cc.placeholder';

/**
 * A function giving the jobspec text (as `JobspecV1.dumps()` writes it) of each copy in `ids`
 * (`undefined`: the one job without --cc/--bcc). Option errors (ValueError naming the option)
 * are thrown here, before anything is submitted.
 */
export function ccJobspecs(
  command: readonly string[],
  opts: SubmitCommandOptions,
  ids: readonly (number | undefined)[],
): (cc: number | undefined) => string {
  // what buildJobspec would read from the process for each copy, read once
  const ctx: BuildContext = { environ: processEnvironment(), cwd: process.cwd(), rlimits: allRlimits() };
  const full = (cc: number | undefined): string => buildJobspec(command, opts, { ...ctx, cc }).dumps();
  const first = ids[0];
  const last = ids[ids.length - 1];
  const firstText = full(first); // option errors are thrown from here, as by any build
  if (first === undefined || last === undefined) return () => firstText;
  const pieces = buildJobspec(command, opts, { ...ctx, cc: PLACEHOLDER })
    .dumps()
    .split(PLACEHOLDER);
  const fromTemplate = (cc: number | undefined): string => pieces.join(String(cc));
  if (fromTemplate(first) !== firstText || fromTemplate(last) !== full(last)) return full;
  return fromTemplate;
}
