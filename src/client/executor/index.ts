/** FluxExecutor and its futures (docs/protocol.md §D; Python flux.job.executor). */
export {
  FluxExecutor,
  type FluxExecutorOptions,
  type ExecutorSubmitOptions,
  type ShutdownOptions,
  type FluxExecutorEvents,
} from './executor.js';
export { FluxExecutorFuture, EVENTS, type EventName, type FutureCallback, type EventCallback } from './future.js';
export {
  asCompleted,
  waitFutures,
  type AsCompletedOptions,
  type Completed,
  type WaitFuturesOptions,
  type ReturnWhen,
  type WaitableFuture,
} from './wait.js';
export { CancelledError, FutureTimeoutError, InvalidJobIdError, ExecutorError, BrokenExecutorError } from './errors.js';
export type { EventsMode } from './engine.js';
