import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeIdset, encodeIdset, isIdset, IdsetError } from '../../src/job/idset.js';

test('encode', () => {
  assert.equal(encodeIdset([0, 1, 2, 5]), '0-2,5');
  assert.equal(encodeIdset([]), '');
  assert.equal(encodeIdset([7]), '7');
  assert.equal(encodeIdset([5, 1, 0, 2, 2]), '0-2,5');
  assert.equal(encodeIdset([0, 1], true), '[0-1]');
  assert.equal(encodeIdset([3], true), '3');
});

test('decode', () => {
  assert.deepEqual(decodeIdset('0-2,5'), [0, 1, 2, 5]);
  assert.deepEqual(decodeIdset(''), []);
  assert.deepEqual(decodeIdset('[]'), []);
  assert.deepEqual(decodeIdset('[3]'), [3]);
  assert.deepEqual(decodeIdset('[0-1,4]'), [0, 1, 4]);
  assert.deepEqual(decodeIdset('5,0-1,1'), [0, 1, 5]);
});

test('garbage gets a clear error', () => {
  const cases: [string, RegExp][] = [
    ['a', /invalid idset "a": "a" is not a non-negative integer/],
    ['1,,2', /empty element/],
    ['3-1', /range 3-1 is reversed/],
    ['1-', /range "1-" is missing an end/],
    ['-1', /range "-1" is missing an end/],
    ['[1-2', /unbalanced brackets/],
    ['1 ,2', /"1 " is not a non-negative integer/],
    ['0-1-2', /"1-2" is not a non-negative integer/],
    ['4294967295', /too large/],
    ['0-99999999', /more than/],
  ];
  for (const [s, re] of cases) {
    assert.throws(
      () => decodeIdset(s),
      (e: unknown) => e instanceof IdsetError && e.errno === 22 && re.test(e.message),
      s,
    );
    assert.equal(isIdset(s), false);
  }
  assert.throws(() => encodeIdset([1.5]), IdsetError);
  assert.throws(() => encodeIdset([-1]), IdsetError);
});

test('round trips', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }), (ids) => {
      const want = [...new Set(ids)].sort((a, b) => a - b);
      const s = encodeIdset(ids);
      assert.deepEqual(decodeIdset(s), want);
      assert.equal(encodeIdset(decodeIdset(s)), s);
      assert.deepEqual(decodeIdset(encodeIdset(ids, true)), want);
    }),
  );
});
