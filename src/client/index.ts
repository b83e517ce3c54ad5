/** The tsflux client library: usable on its own against any Flux instance. */
export { Flux, RpcStream, uriToPath, type RpcOptions } from './handle.js';
export * as job from './job/index.js';
export { JobspecV1 } from '../job/jobspec.js';
export { JobID } from '../job/jobid.js';
export { EventlogEvent, JobException } from '../job/eventlog.js';
export { FluxError } from '../protocol/errno.js';
export * from './executor/index.js';
