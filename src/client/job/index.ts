/** The job API, in the shape of Python's `flux.job` (docs/protocol.md §D). */
export { submitAsync, submit, type SubmitOptions, type JobspecInput } from './submit.js';
export { SubmitFlags } from '../../job/submit-flags.js';
export { waitAsync, wait, type JobWaitResult } from './wait.js';
export { JOBID_ANY } from '../../protocol/json.js';
export { eventWatch, eventWatchAsync, eventWait, JobEventWatch, WatchFlags, type WatchOptions } from './events.js';
export { outputWatch, JobOutputWatch, type OutputItem } from './output.js';
export {
  raise,
  raiseAll,
  cancel,
  cancelAll,
  cancelAsync,
  kill,
  killAsync,
  urgency,
  type RaiseAllOptions,
} from './control.js';
export { list, listId, getJob, lookup, listConstraint, USERID_ANY, type ListOptions, type JobRecord } from './list.js';
export { result, resultAsync, type JobResultInfo } from './result.js';
export { JobspecV1 } from '../../job/jobspec.js';
export { JobID } from '../../job/jobid.js';
export { EventlogEvent, JobException } from '../../job/eventlog.js';
