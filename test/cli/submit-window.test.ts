/**
 * submitInOrder (submit --cc/--bcc's pipeline) against a real instance: answers come in
 * submission order whatever the window, a refused job in the middle is answered with its error
 * and the rest go on, no more than the window is ever in flight, and a lost connection stops
 * it with the count of jobs not sent.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Flux } from '../../src/client/handle.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { FluxError } from '../../src/protocol/errno.js';
import { submitInOrder, type SubmitAnswer } from '../../src/cli/lib/submit-window.js';
import { suiteInstance } from '../helpers/instance.js';
import { HANG_TIMEOUT } from '../helpers/wait.js';

const good = (i: number): string =>
  JobspecV1.fromCommand(['true', String(i)], { environment: { PATH: '/usr/bin:/bin' } }).dumps();
/** Not a jobspec the instance takes: ingest refuses it (no resources). */
const bad = (i: number): string => JSON.stringify({ version: 1, resources: [], tasks: [], attributes: { i } });

describe('submitInOrder', { timeout: HANG_TIMEOUT }, () => {
  const suite = suiteInstance();

  for (const window of [1, 4, 1024]) {
    test(`window ${window}: answers in order, refused jobs in the middle answered, the rest go on`, async () => {
      const h = await Flux.open(suite.inst.uri);
      try {
        const count = 60;
        const refused = (i: number): boolean => i % 7 === 3;
        const answers: Array<[number, SubmitAnswer]> = [];
        let maxInFlight = 0;
        await submitInOrder(
          h,
          count,
          (i) => {
            // called as job i is sent: what is in flight then is this connection's other submits
            maxInFlight = Math.max(maxInFlight, h.outstanding + 1);
            return { jobspec: refused(i) ? bad(i) : good(i), opts: { urgency: 0 } };
          },
          (i, a) => answers.push([i, a]),
          { window },
        );
        assert.deepEqual(
          answers.map(([i]) => i),
          [...Array(count).keys()],
        );
        let lastId = 0n;
        let lastI = -1;
        for (const [i, a] of answers) {
          if (refused(i)) {
            assert.ok(a instanceof FluxError, `job ${i} refused`);
            assert.match(a.message, /resources/, `job ${i}: ${a.message}`);
          } else {
            assert.equal(typeof a, 'bigint', `job ${i}: ${String(a)}`);
            assert.ok((a as bigint) > lastId, 'ids grow in submission order');
            lastId = a as bigint;
            lastI = i;
          }
        }
        assert.ok(maxInFlight <= window, `at most ${window} in flight (saw ${maxInFlight})`);
        const { jobspec } = await job.lookup(h, lastId, ['jobspec']);
        assert.deepEqual(JSON.parse(jobspec!).tasks[0].command, ['true', String(lastI)]);
      } finally {
        h.close();
      }
    });
  }

  test('no jobs: resolves at once', async () => {
    const h = await Flux.open(suite.inst.uri);
    try {
      const answers: number[] = [];
      await submitInOrder(
        h,
        0,
        (i) => ({ jobspec: good(i), opts: {} }),
        (i) => answers.push(i),
      );
      assert.deepEqual(answers, []);
    } finally {
      h.close();
    }
  });

  test('a lost connection: no more submits, the jobs in flight answered, then an error counting the rest', async () => {
    const h = await Flux.open(suite.inst.uri);
    const answers: Array<[number, SubmitAnswer]> = [];
    await assert.rejects(
      submitInOrder(
        h,
        100,
        (i) => ({ jobspec: good(i), opts: { urgency: 0 } }),
        (i, a) => {
          answers.push([i, a]);
          if (i === 10) h.close();
        },
        { window: 4 },
      ),
      (e: unknown) => {
        assert.ok(e instanceof FluxError);
        assert.match(e.message, /: \d+ of 100 jobs not submitted$/);
        return true;
      },
    );
    assert.deepEqual(
      answers.map(([i]) => i),
      [...Array(answers.length).keys()],
    );
    assert.ok(answers.length < 100);
    for (const [i, a] of answers.slice(0, 11)) assert.equal(typeof a, 'bigint', `job ${i}`);
    assert.ok(answers[answers.length - 1]![1] instanceof FluxError, 'the last answer is the lost connection');
  });

  test('an exception from the caller stops it with that exception', async () => {
    const h = await Flux.open(suite.inst.uri);
    try {
      await assert.rejects(
        submitInOrder(
          h,
          20,
          (i) => {
            if (i === 5) throw new Error('no jobspec for 5');
            return { jobspec: good(i), opts: { urgency: 0 } };
          },
          () => undefined,
          { window: 2 },
        ),
        /no jobspec for 5/,
      );
    } finally {
      h.close();
    }
  });
});
