/**
 * From a submit's J to what ingest keeps: unwrap the signature, parse and validate the
 * jobspec, derive its resource request and its redacted form.
 *
 * Bulk submission sends the same J over and over (the seed copies one jobspec 1025 times), so
 * the last few decoded J are remembered: a repeat skips base64, JSON and validation, and every
 * such job shares one jobspec text and one (frozen) jobspec object, which keeps the broker's
 * memory and garbage-collector time per queued job small. Only validated results are kept,
 * and only for J up to CACHE_MAX_J characters.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { deepFreeze, parseJson } from '../../protocol/json.js';
import { validateJobspec, redactJobspec } from '../../job/jobspec.js';
import { unwrapNone } from '../../job/sign-none.js';
import type { ResourceRequest } from '../contract.js';
import { resourceRequest } from '../resource-request.js';

export interface Decoded {
  /** The signer. */
  userid: number;
  /** The jobspec as submitted (JSON text). */
  jobspecText: string;
  /** The parsed jobspec without attributes.system.environment (frozen when shared). */
  redacted: any;
  request: ResourceRequest;
}

const CACHE_SIZE = 16;
const CACHE_MAX_J = 256 * 1024;

export class JDecoder {
  private readonly cache = new Map<string, Decoded>();
  /** The last J found in the cache: comparing to it costs less than hashing a long J. */
  private lastJ = '';
  private lastD: Decoded | undefined;

  /**
   * Decode J sent by `requestor`. `validate` false (owner's FLUX_JOB_NOVALIDATE) checks only
   * that the jobspec is an object. Throws FluxError: EPERM when J was signed by someone else,
   * EINVAL for a bad J or jobspec.
   */
  decode(J: string, requestor: number, validate: boolean): Decoded {
    const signerCheck = (userid: number) => {
      if (userid !== requestor) throw new FluxError(Errno.EPERM, `signer=${userid} != requestor=${requestor}`);
    };
    if (validate) {
      const hit = J === this.lastJ ? this.lastD : this.cache.get(J);
      if (hit) {
        this.lastJ = J;
        this.lastD = hit;
        signerCheck(hit.userid);
        return hit;
      }
    }
    const u = unwrapNone(J);
    signerCheck(u.userid);
    const jobspecText = u.payload.toString('utf8');
    let jobspec: any;
    try {
      jobspec = parseJson(jobspecText);
    } catch (e) {
      throw new FluxError(Errno.EINVAL, `jobspec: invalid JSON: ${(e as Error).message}`);
    }
    if (validate) validateJobspec(jobspec);
    else if (jobspec === null || typeof jobspec !== 'object')
      throw new FluxError(Errno.EPERM, 'jobspec must be a JSON object');
    const d: Decoded = {
      userid: u.userid,
      jobspecText,
      redacted: redactJobspec(jobspec),
      request: resourceRequest(jobspec),
    };
    if (validate && J.length <= CACHE_MAX_J) {
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      deepFreeze(d);
      this.cache.set(J, d);
    }
    return d;
  }
}
