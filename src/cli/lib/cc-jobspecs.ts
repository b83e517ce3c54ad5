/**
 * The copies of `submit --cc/--bcc IDSET`: each copy's jobspec text and submit settings.
 *
 * A copy is the job of its id: `{cc}` formatted into its command and options (cc-format.ts, as
 * flux's Xcmd) and, with --cc, FLUX_JOB_CC in its environment (submit-options.ts buildJobspec).
 *
 * The jobspec texts: when copies differ only where the id goes (every field of the command a
 * plain `{cc}`, none in the options), the jobspec is built and encoded once with PLACEHOLDER as
 * the id, cut at each PLACEHOLDER, and a copy's text is the pieces joined with its id: no
 * environment copy, /proc/self/limits read or JSON encoding per copy. The result for the first
 * and the last id is checked against a full build; should they differ (the placeholder's text
 * given by the user, say), or should an option hold `{cc}` (`-n {cc}`, `--output=out.{cc}`,
 * `{cc:03d}` in the command), every copy is built in full.
 *
 * The settings (urgency, flags, the event --wait-event waits for) are the same for every copy
 * unless one of those options holds `{cc}`: then each copy's are made from its own options.
 */
import { processEnvironment, ValueError } from '../../job/jobspec.js';
import { allRlimits } from '../../job/rlimits.js';
import { isIdset } from '../../job/idset.js';
import { submitFlagNames } from '../../job/submit-flags.js';
import type { SubmitOptions } from '../../client/job/submit.js';
import { ccOptions, onlyPlainCc, optionsHaveField } from './cc-format.js';
import {
  buildJobspec,
  parseSubmitFlags,
  parseUrgency,
  type BuildContext,
  type SubmitCommandOptions,
} from './submit-options.js';

/** What stands for the copy id in the template: letters and dots, which JSON leaves as they are. */
export const PLACEHOLDER = 'tsflux.cc.placeholder';

/** The jobspec text of each copy; `fromTemplate` tells whether copies are cut from one template. */
export type CopyJobspecs = ((cc: number | undefined) => string) & { readonly fromTemplate: boolean };

/**
 * A function giving the jobspec text (as `JobspecV1.dumps()` writes it) of each copy in `ids`
 * (`undefined`: the one job without --cc/--bcc). Option errors (ValueError naming the option)
 * are thrown here, before anything is submitted, for the first and the last copy.
 */
export function ccJobspecs(
  command: readonly string[],
  opts: SubmitCommandOptions,
  ids: readonly (number | undefined)[],
): CopyJobspecs {
  // what buildJobspec would read from the process for each copy, read once
  const ctx: BuildContext = { environ: processEnvironment(), cwd: process.cwd(), rlimits: allRlimits() };
  const full = (cc: number | undefined): string => buildJobspec(command, opts, { ...ctx, cc }).dumps();
  const first = ids[0];
  const last = ids[ids.length - 1];
  const firstText = full(first); // option errors are thrown from here, as by any build
  if (first === undefined || last === undefined) return Object.assign(() => firstText, { fromTemplate: true });
  const lastText = full(last);
  const byCopy = Object.assign(full, { fromTemplate: false });
  if (!command.every(onlyPlainCc) || optionsHaveField(opts)) return byCopy;
  const pieces = buildJobspec(command, opts, { ...ctx, cc: PLACEHOLDER })
    .dumps()
    .split(PLACEHOLDER);
  const fromTemplate = (cc: number | undefined): string => pieces.join(String(cc));
  if (fromTemplate(first) !== firstText || fromTemplate(last) !== lastText) return byCopy;
  return Object.assign(fromTemplate, { fromTemplate: true });
}

/** What a copy is submitted with, besides its jobspec. */
export interface CopySettings {
  submit: SubmitOptions;
  /** With --wait, --wait-event or --watch: the event of the job to wait for. */
  waitEvent: string | undefined;
}

/** The options the settings of a copy come from (with --input, checked as flux's submit does). */
const SETTINGS_OPTIONS = ['urgency', 'flags', 'waitEvent', 'input'] as const;

/** Flux's submit refuses an --input that is an idset (per-task input is for run). */
export function refusePerTaskInput(opts: SubmitCommandOptions, cc: number | undefined): void {
  const input = cc === undefined ? opts.input : ccOptions({ input: opts.input }, cc).input;
  if (input !== undefined && isIdset(input)) throw new ValueError('per-task input not supported for submit');
}

function settingsOf(o: SubmitCommandOptions): CopySettings {
  refusePerTaskInput(o, undefined);
  const flags = parseSubmitFlags(o.flags);
  return {
    submit: { urgency: parseUrgency(o.urgency), ...submitFlagNames(flags) },
    waitEvent: o.waitEvent ?? (o.wait || o.watch ? 'clean' : undefined),
  };
}

/**
 * A function giving the settings of each copy in `ids`. Errors (a bad --urgency or --flags,
 * per-task --input) are thrown here for the first and the last copy.
 */
export function ccSettings(
  opts: SubmitCommandOptions,
  ids: readonly (number | undefined)[],
): (cc: number | undefined) => CopySettings {
  const first = ids[0];
  const last = ids[ids.length - 1];
  if (first === undefined || last === undefined) {
    const one = settingsOf(opts);
    return () => one;
  }
  const used: SubmitCommandOptions = { wait: opts.wait, watch: opts.watch };
  for (const k of SETTINGS_OPTIONS) if (opts[k] !== undefined) Object.assign(used, { [k]: opts[k] });
  const of = (cc: number): CopySettings => settingsOf(ccOptions(used, cc));
  const same = of(first);
  of(last);
  if (!optionsHaveField(used)) return () => same;
  return (cc) => of(cc!);
}
