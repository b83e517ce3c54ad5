/**
 * EXPERIMENT (see worker-engine.ts): the worker-thread side of a FluxExecutor whose I/O runs in
 * a worker thread: runs an ExecutorEngine (the
 * connection, the submits and the event routing) and sends what it learns to the main thread in
 * batches, one message per turn of this thread's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ExecutorEngine, type EngineOptions } from '../../src/client/executor/engine.js';
import { errorToRecord } from '../../src/client/executor/errors.js';
import type { FromWorker, ToWorker } from './worker-engine.js';

const port = parentPort!;
let out: FromWorker[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const batch = out;
  out = [];
  port.postMessage(batch);
};
const note = (n: FromWorker) => {
  out.push(n);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
};

let mode = '';
const engine = new ExecutorEngine(
  {
    jobid: (key, id) => note(['j', key, id]),
    events: (key, entries) => note(['e', key, entries]),
    fail: (key, err) => note(['f', key, errorToRecord(err)]),
    end: (key) => {
      note(['n', key]);
      if (engine && engine.eventsMode !== mode) note(['m', (mode = engine.eventsMode)]);
    },
    broken: (err) => note(['b', errorToRecord(err)]),
  },
  workerData as EngineOptions,
);
mode = engine.eventsMode;

port.on('message', (batch: ToWorker[]) => {
  for (const m of batch) {
    switch (m[0]) {
      case 's':
        engine.submit(m[1], m[2], m[3]);
        break;
      case 'a':
        engine.attach(m[1], m[2]);
        break;
      case 'c':
        engine.cancel(m[1]);
        break;
      case 'r': {
        const seq = m[1];
        engine.ready().then(
          () => note(['r', seq, null]),
          (e) => note(['r', seq, errorToRecord(e)]),
        );
        break;
      }
      case 'x':
        void engine.close().then(() => {
          note(['x']);
        });
        break;
    }
  }
});
