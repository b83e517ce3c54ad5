/**
 * Many submits on one connection, answered in submission order: what `submit --cc/--bcc` does.
 *
 * At most `window` submits are in flight: each answer makes room for the next request, so the
 * connection stays busy (the instance commits what arrives together in one transaction) while
 * the jobspec texts, promises and answers held stay bounded however many jobs there are. Jobs
 * are built as they are sent (`job(i)`), not all beforehand.
 */
import type { Flux } from '../../client/handle.js';
import { submitAsync, type JobspecInput, type SubmitOptions } from '../../client/job/submit.js';
import { isConnectionError } from '../../client/executor/engine.js';
import { FluxError } from '../../protocol/errno.js';

/** In flight at once by default: enough to keep the instance's commit batches full. */
export const SUBMIT_WINDOW = 1024;

/** A job's answer: its id, or the instance's refusal. */
export type SubmitAnswer = bigint | FluxError;

/** One job to submit: its jobspec and how it is submitted. */
export interface SubmitJob {
  jobspec: JobspecInput;
  opts: SubmitOptions;
}

export interface SubmitWindowOptions {
  /** Most submits in flight at once (default SUBMIT_WINDOW). */
  window?: number;
}

/**
 * Submit `count` jobs, the i-th as `job(i)` says, and call `onAnswer(i, answer)` for
 * each in order of i (a refused job's FluxError is its answer; the others go on). Resolves when
 * every job has been answered. A lost connection stops new submits: the jobs in flight are
 * answered with its error, then the promise rejects with it, saying how many were not sent.
 * An exception thrown by `job` or `onAnswer` stops it too, and rejects with that exception.
 */
export function submitInOrder(
  h: Flux,
  count: number,
  job: (i: number) => SubmitJob,
  onAnswer: (i: number, answer: SubmitAnswer) => void,
  { window = SUBMIT_WINDOW }: SubmitWindowOptions = {},
): Promise<void> {
  const size = Math.max(1, Math.min(window, count));
  const answers: (SubmitAnswer | undefined)[] = new Array<SubmitAnswer | undefined>(size);
  let sent = 0;
  let answered = 0;
  let stopped: unknown;
  let lost: FluxError | undefined;
  return new Promise<void>((resolve, reject) => {
    const stop = (e: unknown): void => {
      if (stopped === undefined) {
        stopped = e ?? new Error('submit stopped');
        reject(stopped);
      }
    };
    const send = (): void => {
      while (sent < count && sent - answered < size && lost === undefined) {
        const i = sent++;
        const { jobspec, opts } = job(i);
        submitAsync(h, jobspec, opts).then(
          (id) => settle(i, id),
          (e: unknown) => {
            if (!(e instanceof FluxError)) return stop(e);
            if (isConnectionError(e)) lost ??= e;
            settle(i, e);
          },
        );
      }
    };
    const settle = (i: number, answer: SubmitAnswer): void => {
      if (stopped !== undefined) return;
      answers[i % size] = answer;
      try {
        for (let a = answers[answered % size]; a !== undefined && answered < sent; a = answers[answered % size]) {
          answers[answered % size] = undefined;
          onAnswer(answered++, a);
        }
        send();
      } catch (e) {
        return stop(e);
      }
      if (answered < sent) return;
      if (lost !== undefined && sent < count) {
        stop(new FluxError(lost.errno, `${lost.message}: ${count - sent} of ${count} jobs not submitted`));
      } else if (answered === count) {
        resolve();
      }
    };
    try {
      send();
    } catch (e) {
      stop(e);
    }
    if (count === 0) resolve();
  });
}
