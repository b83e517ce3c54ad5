/**
 * `concurrent.futures.as_completed` and `concurrent.futures.wait` for FluxExecutorFutures (or
 * any futures with `done()` and `addDoneCallback()`).
 */
import { FutureTimeoutError } from './errors.js';

/** What asCompleted / waitFutures need of a future. */
export interface WaitableFuture {
  done(): boolean;
  addDoneCallback(cb: (fut: any) => void): unknown;
}

export interface AsCompletedOptions {
  /** Total time allowed, in ms, from the call; past it the iterator throws a TimeoutError. */
  timeoutMs?: number;
}

/** One completed future, as asCompleted hands it out. */
export interface Completed<F> {
  /** The future, now done: `await future`, `future.result()`, `future.exception()`. */
  future: F;
  /** Its position in the input (first occurrence). */
  index: number;
}

/**
 * Yield each future as it completes (finished or cancelled), those already done first, each
 * once; like `concurrent.futures.as_completed`:
 *
 *     for await (const { future } of asCompleted(futures)) console.log(await future.exception());
 *
 * Each future comes wrapped in `{ future, index }`: a FluxExecutorFuture is a thenable, and
 * `for await`, `yield` and Promise resolution all unwrap thenables (TypeScript types the loop
 * variable as the awaited result too), so a bare future could not come out of an async
 * iterator as itself.
 */
export async function* asCompleted<F extends WaitableFuture>(
  futures: Iterable<F>,
  opts: AsCompletedOptions = {},
): AsyncGenerator<Completed<F>, void, undefined> {
  const index = new Map<F, number>();
  let i = 0;
  for (const f of futures) {
    if (!index.has(f)) index.set(f, i);
    i++;
  }
  const deadline = opts.timeoutMs === undefined ? undefined : performance.now() + opts.timeoutMs;
  const ready: F[] = [];
  let wake: (() => void) | undefined;
  for (const f of index.keys()) {
    if (f.done()) ready.push(f);
    else {
      f.addDoneCallback(() => {
        ready.push(f);
        const w = wake;
        wake = undefined;
        w?.();
      });
    }
  }
  let yielded = 0;
  const total = index.size;
  while (yielded < total) {
    if (ready.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        wake = () => resolve(false);
        if (deadline !== undefined) timer = setTimeout(() => resolve(true), Math.max(0, deadline - performance.now()));
      });
      if (timer) clearTimeout(timer);
      if (timedOut && ready.length === 0) {
        wake = undefined;
        throw new FutureTimeoutError(`${total - yielded} (of ${total}) futures`, opts.timeoutMs!);
      }
      continue;
    }
    const f = ready.shift()!; // completion order
    yielded++;
    yield { future: f, index: index.get(f)! };
  }
}

export type ReturnWhen = 'FIRST_COMPLETED' | 'ALL_COMPLETED';

export interface WaitFuturesOptions {
  /** 'ALL_COMPLETED' (default) or 'FIRST_COMPLETED'. */
  returnWhen?: ReturnWhen;
  /** Return after this many ms even if the condition is not met (no error). */
  timeoutMs?: number;
}

/**
 * Wait until all (or the first of) the futures are done, or the timeout passes; resolves to the
 * sets of done and not-done futures, as `concurrent.futures.wait` (which does not raise on a
 * timeout either).
 */
export function waitFutures<F extends WaitableFuture>(
  futures: Iterable<F>,
  opts: WaitFuturesOptions = {},
): Promise<{ done: Set<F>; notDone: Set<F> }> {
  const returnWhen = opts.returnWhen ?? 'ALL_COMPLETED';
  if (returnWhen !== 'ALL_COMPLETED' && returnWhen !== 'FIRST_COMPLETED') {
    return Promise.reject(
      new TypeError(`returnWhen must be 'FIRST_COMPLETED' or 'ALL_COMPLETED', got ${JSON.stringify(returnWhen)}`),
    );
  }
  const done = new Set<F>();
  const notDone = new Set<F>();
  for (const f of futures) (f.done() ? done : notDone).add(f);
  const satisfied = () => notDone.size === 0 || (returnWhen === 'FIRST_COMPLETED' && done.size > 0);
  if (satisfied()) return Promise.resolve({ done, notDone });
  return new Promise((resolve) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      resolve({ done: new Set(done), notDone: new Set(notDone) });
    };
    for (const f of [...notDone]) {
      f.addDoneCallback(() => {
        if (finished) return;
        notDone.delete(f);
        done.add(f);
        if (satisfied()) finish();
      });
    }
    if (opts.timeoutMs !== undefined && opts.timeoutMs !== Infinity)
      timer = setTimeout(finish, Math.max(0, opts.timeoutMs));
  });
}
