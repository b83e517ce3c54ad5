/** Sizes as flux's parse_size / encode_size read and write them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSize, parseSize } from '../../src/job/size.js';

test('parseSize: bytes, k/K/M/G/T suffixes, fractions; anything else is an error naming it', () => {
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('64k'), 65536);
  assert.equal(parseSize('64K'), 65536);
  assert.equal(parseSize('1.5M'), 1572864);
  assert.equal(parseSize('1G'), 1073741824);
  assert.equal(parseSize('2T'), 2 * 1024 ** 4);
  assert.equal(parseSize('.5k'), 512);
  for (const bad of ['', 'M', '1X', '1MB', '-1', '1 M', 'lots']) {
    assert.throws(() => parseSize(bad), new RegExp(`invalid size ${JSON.stringify(bad)}`), bad);
  }
});

test('encodeSize as flux writes sizes in its messages', () => {
  assert.equal(encodeSize(0), '0');
  assert.equal(encodeSize(1000), '1000');
  assert.equal(encodeSize(1024), '1K');
  assert.equal(encodeSize(10 * 1024 ** 2), '10M');
  assert.equal(encodeSize(1024 ** 3), '1G');
  assert.equal(encodeSize(1500000), '1.4305115M');
});
