/** tsflux: the client library (see src/client) and the job model (see src/job). */
export * from './client/index.js';
export { ProgressBar, type ProgressOptions } from './util/progress.js';
