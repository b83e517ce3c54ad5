/**
 * flux's shell `output.limit` option (`attributes.system.shell.options.output.limit`, set with
 * `-o output.limit=SIZE`): how much of each of a job's output streams the instance keeps in
 * `guest.output` (flux-core src/shell/output/kvs.c). SIZE is a byte count, or a string with an
 * optional suffix k/K (1024), M, G, T, P, E, as flux's parse_size; it must be more than 0 and at
 * most 1G. Without it: 1G for a job of the instance owner (a single-user instance), 10M for
 * another user's. Output sent to a file (`--output`) is not limited.
 */

import { encodeSize, parseSize } from './size.js';

/** The largest limit (flux-core OUTPUT_LIMIT_MAX). */
export const OUTPUT_LIMIT_MAX = 1024 ** 3;
/** Beyond this, the job is told its output is large (flux-core OUTPUT_LIMIT_WARNING, 100M). */
export const OUTPUT_LIMIT_WARNING = 100 * 1024 ** 2;

export interface OutputLimit {
  bytes: number;
  /** As the user wrote it (flux's messages quote it): `1M`, or encodeSize() of a number. */
  text: string;
}

/** The default limit: 1G for the instance owner's jobs, 10M for other users'. */
export function defaultOutputLimit(ownersJob: boolean): OutputLimit {
  return ownersJob ? { bytes: OUTPUT_LIMIT_MAX, text: '1G' } : { bytes: 10 * 1024 ** 2, text: '10M' };
}

/** The option's value (a number of bytes or a SIZE string) as a limit. Throws Error naming the problem. */
export function parseOutputLimit(v: unknown): OutputLimit {
  let bytes: number;
  let text: string;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('must be a whole number of bytes or a size such as 64k or 1M');
    bytes = v;
    text = encodeSize(v);
  } else if (typeof v === 'string') {
    bytes = parseSize(v);
    text = v;
  } else {
    throw new Error('must be a number of bytes or a size such as 64k or 1M');
  }
  if (bytes <= 0 || bytes > OUTPUT_LIMIT_MAX) throw new Error(`${text}: must be more than 0 and at most 1G`);
  return { bytes, text };
}

/** The limit a jobspec asks for, else the default. Throws Error for a bad value. */
export function outputLimitOf(jobspec: any, ownersJob: boolean): OutputLimit {
  const v: unknown = jobspec?.attributes?.system?.shell?.options?.output?.limit;
  return v === undefined ? defaultOutputLimit(ownersJob) : parseOutputLimit(v);
}
