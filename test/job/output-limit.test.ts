/** output.limit: its values and defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOutputLimit, outputLimitOf, parseOutputLimit } from '../../src/job/output-limit.js';

test('parseOutputLimit: more than 0 and at most 1G; the text is kept for messages; defaults 1G / 10M', () => {
  assert.deepEqual(parseOutputLimit('64k'), { bytes: 65536, text: '64k' });
  assert.deepEqual(parseOutputLimit(1048576), { bytes: 1048576, text: '1M' });
  assert.deepEqual(parseOutputLimit('1G'), { bytes: 1024 ** 3, text: '1G' });
  assert.throws(() => parseOutputLimit('1.5G'), /^Error: 1.5G: must be more than 0 and at most 1G$/);
  assert.throws(() => parseOutputLimit(0), /must be more than 0/);
  assert.throws(() => parseOutputLimit(1.5), /whole number/);
  assert.throws(() => parseOutputLimit(true), /a number of bytes or a size/);
  assert.deepEqual(defaultOutputLimit(true), { bytes: 1024 ** 3, text: '1G' });
  assert.deepEqual(defaultOutputLimit(false), { bytes: 10 * 1024 ** 2, text: '10M' });
  const js = { attributes: { system: { shell: { options: { output: { limit: '2M' } } } } } };
  assert.deepEqual(outputLimitOf(js, true), { bytes: 2 * 1024 ** 2, text: '2M' });
  assert.deepEqual(outputLimitOf({}, false), { bytes: 10 * 1024 ** 2, text: '10M' });
});
