/** The job model, pure and shared by the client and the instance (docs/protocol.md §C). */
export * from './jobid.js';
export * from './fluid.js';
export * from './jobspec.js';
export { currentRlimits, filterRlimits } from './rlimits.js';
export * from './states.js';
export * from './waitstatus.js';
export * from './eventlog.js';
export * from './submit-flags.js';
export * from './fsd.js';
export * from './idset.js';
export * from './sign-none.js';
