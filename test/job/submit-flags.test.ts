import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SUBMIT_FLAG_NAMES,
  SUBMIT_REQUEST_FLAGS,
  SubmitFlags,
  submitFlagBit,
  submitFlagBits,
  submitFlagNames,
} from '../../src/job/submit-flags.js';

test("submit flags have flux-core's values (FLUX_JOB_PRE_SIGNED, DEBUG, WAITABLE, NOVALIDATE)", () => {
  assert.deepEqual(SubmitFlags, { PRE_SIGNED: 1, DEBUG: 2, WAITABLE: 4, NOVALIDATE: 8 });
  assert.equal(SUBMIT_REQUEST_FLAGS, 14); // PRE_SIGNED is the client's own
  assert.deepEqual(SUBMIT_FLAG_NAMES, { debug: 2, waitable: 4, novalidate: 8 });
});

test('flag names to bits and back', () => {
  assert.equal(submitFlagBit('waitable'), 4);
  assert.equal(submitFlagBit('debug'), 2);
  assert.equal(submitFlagBit('novalidate'), 8);
  assert.equal(submitFlagBit('bogus'), undefined);
  assert.equal(submitFlagBit('toString'), undefined); // not a flag, whatever Object.prototype holds
  assert.equal(submitFlagBit('WAITABLE'), undefined);
  assert.equal(submitFlagBits({}), 0);
  assert.equal(submitFlagBits({ waitable: true, debug: false }), 4);
  assert.equal(submitFlagBits({ waitable: true, debug: true, novalidate: true }), 14);
  assert.deepEqual(submitFlagNames(0), { debug: false, waitable: false, novalidate: false });
  assert.deepEqual(submitFlagNames(14), { debug: true, waitable: true, novalidate: true });
  assert.deepEqual(submitFlagNames(SubmitFlags.WAITABLE | SubmitFlags.PRE_SIGNED), {
    debug: false,
    waitable: true,
    novalidate: false,
  });
  for (let f = 0; f < 16; f++) assert.equal(submitFlagBits(submitFlagNames(f)), f & SUBMIT_REQUEST_FLAGS);
});
