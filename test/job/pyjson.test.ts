import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { vectorsDir } from '../helpers/paths.js';
import { PyFloat, pyDumps, pyEncodeString, unwrapPy } from '../../src/job/pyjson.js';
import fc from 'fast-check';
import {
  exactDecimal,
  formatFixed,
  formatG,
  formatGExact,
  formatJanssonReal,
  formatPyFloat,
} from '../../src/job/numfmt.js';

test('pyDumps uses Python separators, ints and float repr', () => {
  assert.equal(
    pyDumps({ a: 1, b: [1, 2], c: {}, d: [], e: null, f: true, g: 'x' }),
    '{"a": 1, "b": [1, 2], "c": {}, "d": [], "e": null, "f": true, "g": "x"}',
  );
  assert.equal(pyDumps(new PyFloat(0)), '0.0');
  assert.equal(pyDumps(new PyFloat(3600)), '3600.0');
  assert.equal(pyDumps(0.05), '0.05');
  assert.equal(pyDumps(66.00000000000001), '66.00000000000001');
  assert.equal(pyDumps(new PyFloat(1e16)), '1e+16');
  assert.equal(pyDumps(new PyFloat(1e-5)), '1e-05');
  assert.equal(pyDumps(2 ** 60), '1152921504606846976');
  assert.equal(pyDumps(12n), '12');
  assert.equal(pyDumps([NaN, Infinity, -Infinity]), '[NaN, Infinity, -Infinity]');
  assert.equal(pyDumps({ a: undefined, b: 1 }), '{"b": 1}');
});

test('string escaping as Python json (ensure_ascii on and off)', () => {
  assert.equal(pyEncodeString('a"b\\c\n\r\t\b\f\u0001\u001f'), '"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f"');
  assert.equal(pyEncodeString('é€😀\u007f'), '"\\u00e9\\u20ac\\ud83d\\ude00\\u007f"');
  assert.equal(pyEncodeString('é€😀\u007f', false), '"é€😀\u007f"');
  assert.equal(pyDumps({ ké: 'v' }), '{"k\\u00e9": "v"}');
  assert.equal(pyDumps({ ké: 'v' }, { ensureAscii: false }), '{"ké": "v"}');
});

test('the real dry-run vector re-serializes byte for byte', () => {
  const text = fs.readFileSync(path.join(vectorsDir, 'dry-run-sleep0.json'), 'utf8');
  assert.equal(pyDumps(JSON.parse(text), { ensureAscii: false }) + '\n', text);
});

test('unwrapPy removes PyFloat markers', () => {
  assert.deepEqual(unwrapPy({ a: new PyFloat(1), b: [new PyFloat(2)], c: undefined }), { a: 1, b: [2] });
  assert.equal(JSON.stringify({ d: new PyFloat(0) }), '{"d":0}');
});

test('numfmt: the fast %g path agrees with the exact one, ties included', () => {
  // exact ties at the 18th digit round half to even (toPrecision would round up)
  assert.equal(formatG(1795624709.00390625, 17), '1795624709.0039062');
  assert.equal(formatG(1795624709.01171875, 17), '1795624709.0117188');
  assert.equal(formatG(2.5, 1), '2');
  assert.equal(formatG(3.5, 1), '4');
  assert.equal(formatG(99.96, 3), '100');
  assert.equal(formatG(999999999999999.9, 15), '1e+15');
  assert.equal(formatG(-1.25, 2), '-1.2');
  const check = (x: number, p: number) => assert.equal(formatG(x, p), formatGExact(x, p), `formatG(${x}, ${p})`);
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 1, max: 21 }), (x, p) =>
      check(x, p),
    ),
    { numRuns: 3000 },
  );
  // timestamps (seconds since the epoch, µs-ish resolution) and dyadic fractions near ties
  fc.assert(
    fc.property(fc.double({ min: 1.6e9, max: 2.2e9, noNaN: true }), (x) => check(x, 17)),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 30 }),
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 1, max: 21 }),
      (k, q, p) => check(k / 2 ** q, p),
    ),
    { numRuns: 3000 },
  );
});

test('numfmt: printf-exact formatting', () => {
  assert.deepEqual(exactDecimal(0.5), { neg: false, digits: '5', exp10: -1 });
  assert.equal(formatG(1795623530.4486196, 17), '1795623530.4486196');
  assert.equal(formatG(0.1, 17), '0.10000000000000001');
  assert.equal(formatG(1e21, 17), '1e+21');
  assert.equal(formatG(123456, 4), '1.235e+05');
  assert.equal(formatG(0.0001, 4), '0.0001');
  assert.equal(formatG(0.00001, 4), '1e-05');
  assert.equal(formatG(9.9999, 4), '10');
  // exact ties round half to even (JS toFixed would round up)
  assert.equal(formatFixed(0.0078125, 6), '0.007812');
  assert.equal(formatFixed(0.0234375, 6), '0.023438');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(1795623528.318459, 6), '1795623528.318459');
  assert.equal(formatJanssonReal(0), '0.0');
  assert.equal(formatJanssonReal(1), '1.0');
  assert.equal(formatJanssonReal(1e20), '1e20');
  assert.equal(formatJanssonReal(1e-7), '9.9999999999999995e-8');
  assert.equal(formatJanssonReal(1795623529.14572), '1795623529.14572');
  assert.equal(formatPyFloat(0), '0.0');
  assert.equal(formatPyFloat(-0), '-0.0');
  assert.equal(formatPyFloat(1e15), '1000000000000000.0');
  assert.equal(formatPyFloat(1e16), '1e+16');
  assert.equal(formatPyFloat(1.5e300), '1.5e+300');
  assert.equal(formatPyFloat(0.0001), '0.0001');
  assert.equal(formatPyFloat(123.456), '123.456');
});
