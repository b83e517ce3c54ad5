/**
 * Job submission (docs/protocol.md §B `job-ingest.submit`, §D "Submission"): the jobspec is
 * wrapped in J with signing mechanism "none" and sent with urgency and flags.
 * Resolves to the job id (a bigint).
 */
import { toJobId } from '../../protocol/json.js';
import { JobspecV1 } from '../../job/jobspec.js';
import { wrapNone } from '../../job/sign-none.js';
import { submitFlagBits } from '../../job/submit-flags.js';
import type { Flux } from '../handle.js';

export interface SubmitOptions {
  /** 0 = hold, 16 = default, 31 = expedite. */
  urgency?: number;
  /** Allow job.wait() on this job (instance owner only). */
  waitable?: boolean;
  debug?: boolean;
  /** The jobspec is already a signed J. */
  preSigned?: boolean;
  /** Skip validation (instance owner only). */
  novalidate?: boolean;
}

export type JobspecInput = JobspecV1 | string | Buffer | object;

function jobspecText(spec: JobspecInput): string | Buffer {
  if (spec instanceof JobspecV1) return spec.dumps();
  if (typeof spec === 'string' || Buffer.isBuffer(spec)) return spec;
  return JSON.stringify(spec);
}

const uid = process.getuid?.() ?? 0;

/** The last jobspec signed: bulk submitters send the same text many times (the seed's flow). */
let lastText: string | Buffer | undefined;
let lastJ = '';

function sign(text: string | Buffer): string {
  if (typeof text === 'string' && text === lastText) return lastJ;
  const J = wrapNone(text, uid);
  if (typeof text === 'string') {
    lastText = text;
    lastJ = J;
  }
  return J;
}

let lastPayloadJ = '';
let lastUrgency = -1;
let lastFlags = -1;
let lastPayload = '';

/**
 * Our J is base64 and dots, nothing to escape: the payload text is built directly rather than
 * by JSON.stringify scanning 3 KB, and a bulk submission reuses one (flat) string for every
 * job. A pre-signed J from elsewhere goes through the JSON encoder.
 */
function payloadText(J: string, urgency: number, flags: number): string {
  if (J === lastPayloadJ && urgency === lastUrgency && flags === lastFlags) return lastPayload;
  lastPayload = ['{"J":"', J, '","urgency":', String(urgency), ',"flags":', String(flags), '}'].join('');
  lastPayloadJ = J;
  lastUrgency = urgency;
  lastFlags = flags;
  return lastPayload;
}

/** Submit a job; the Promise resolves to its id once the instance has committed it. */
export async function submitAsync(h: Flux, jobspec: JobspecInput, opts: SubmitOptions = {}): Promise<bigint> {
  const flags = submitFlagBits(opts);
  const text = jobspecText(jobspec);
  const J = opts.preSigned ? String(text) : sign(text);
  const urgency = opts.urgency ?? 16;
  const payload = opts.preSigned || !Number.isInteger(urgency) ? { J, urgency, flags } : payloadText(J, urgency, flags);
  const r = await h.rpc<{ id: unknown }>('job-ingest.submit', payload);
  return toJobId(r.id);
}

/** Same as submitAsync (Python's blocking `submit`); await it. */
export function submit(h: Flux, jobspec: JobspecInput, opts: Omit<SubmitOptions, 'novalidate'> = {}): Promise<bigint> {
  return submitAsync(h, jobspec, opts);
}
