/**
 * `flux jobs --color[=WHEN]` (flux-jobs.py color_setup / color_reset): on a terminal (auto,
 * the default) or always, a finished job's whole line takes the colour of its result (green
 * COMPLETED, red FAILED and TIMEOUT, grey CANCELED) and an active job that is itself a Flux
 * instance is blue. The colour is set before the line and reset after its newline, byte for
 * byte as flux writes them.
 */
import type { JobInfo } from './jobinfo.js';

export type ColorWhen = 'never' | 'always' | 'auto';
const WHENS: readonly ColorWhen[] = ['never', 'always', 'auto'];

const RESULT_COLORS: Record<string, string> = {
  COMPLETED: '\x1b[01;32m',
  FAILED: '\x1b[01;31m',
  CANCELED: '\x1b[37m',
  TIMEOUT: '\x1b[01;31m',
};
const INSTANCE_COLOR = '\x1b[01;34m';
export const COLOR_RESET = '\x1b[0;0m';

/** The --color value (`--color` alone means always), or an error naming the bad one. */
export function parseColorWhen(value: string | boolean | undefined): ColorWhen {
  if (value === undefined) return 'auto';
  if (value === true) return 'always';
  const v = String(value);
  if ((WHENS as readonly string[]).includes(v)) return v as ColorWhen;
  throw new Error(`argument --color: invalid choice: '${v}' (choose from ${WHENS.map((w) => `'${w}'`).join(', ')})`);
}

/** Whether lines are coloured: always, or auto with stdout a terminal. */
export function colorEnabled(when: ColorWhen, stream: NodeJS.WriteStream = process.stdout): boolean {
  return when === 'always' || (when === 'auto' && stream.isTTY === true);
}

/** The text before and after a job's line (after its newline), or undefined when uncoloured. */
export function jobColor(j: JobInfo): { start: string; end: string } | undefined {
  if (j.result) return { start: RESULT_COLORS[j.result] ?? '', end: COLOR_RESET };
  if (j.uri) return { start: INSTANCE_COLOR, end: COLOR_RESET };
  return undefined;
}
