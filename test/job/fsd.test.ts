import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsdError, fsd, parseFsd, parsePyFloat } from '../../src/job/fsd.js';

// expected values computed with flux.util.parse_fsd / fsd (Python 3.11)
const PARSE: Array<[string, number]> = [
  ['30s', 30],
  ['2.5m', 150],
  ['1h', 3600],
  ['2d', 172800],
  ['500ms', 0.5],
  ['10', 10],
  ['1.5', 1.5],
  ['0', 0],
  ['1.1m', 66],
  ['0.1h', 360],
  ['1e3s', 1000],
  ['1e-3', 0.001],
  ['1.5d', 129600],
  [' 5 ', 5],
  ['1_0s', 10],
  ['7.3h', 26280],
  ['0.001ms', 1e-6],
  ['3.7ms', 0.0037],
  ['5.', 5],
  ['.5m', 30],
  ['1 s', 1],
  ['inf', Infinity],
  ['infinity', Infinity],
  ['INF', Infinity],
  ['Infinity', Infinity],
];

test('parseFsd accepts what Flux accepts, with the same values', () => {
  for (const [s, v] of PARSE) assert.equal(parseFsd(s), v, s);
});

test('parseFsd rejects garbage, negative and NaN with a message naming the input', () => {
  const bad: Array<[string, RegExp]> = [
    ['-1', /negative/],
    ['-1s', /negative/],
    ['-0.5m', /negative/],
    ['nan', /NaN/],
    ['nans', /NaN/],
    ['infs', /not finite/],
    ['abc', /not a number/],
    ['', /empty/],
    ['1x', /not a number/],
    ['s', /missing number/],
    ['1sec', /not a number/],
    ['1e999', /not finite/],
    ['1h30m', /not a number/],
  ];
  for (const [s, re] of bad) {
    assert.throws(
      () => parseFsd(s),
      (e: unknown) => {
        assert.ok(e instanceof FsdError, s);
        assert.equal(e.errno, 22);
        assert.ok(e.message.startsWith(`invalid Flux standard duration '${s}'`), e.message);
        assert.match(e.message, re);
        return true;
      },
    );
  }
});

test('fsd matches flux.util.fsd', () => {
  const rows: Array<[number, string]> = [
    [0, '0s'],
    [0.0005, '0s'],
    [0.001, '0.001s'],
    [1.5, '1.500s'],
    [9.9999, '10.000s'],
    [10, '10s'],
    [30, '30s'],
    [59.99, '59.99s'],
    [60, '1m'],
    [90, '1.5m'],
    [150, '2.5m'],
    [3599, '59.98m'],
    [3600, '1h'],
    [5400, '1.5h'],
    [86399, '24h'],
    [86400, '1d'],
    [172800, '2d'],
    [1e9, '1.157e+04d'],
    [Infinity, 'inf'],
  ];
  for (const [x, s] of rows) assert.equal(fsd(x), s, String(x));
  // flux.util.fsd prints anything below 1 ms as 0s, negative durations included; NaN is no duration
  assert.equal(fsd(-1), '0s');
  assert.equal(fsd(NaN), '0s');
});

test('parsePyFloat follows Python float()', () => {
  assert.equal(parsePyFloat(' 1.5 '), 1.5);
  assert.equal(parsePyFloat('1_000.5'), 1000.5);
  assert.equal(parsePyFloat('-inf'), -Infinity);
  assert.ok(Number.isNaN(parsePyFloat('NaN')));
  assert.equal(parsePyFloat('1e3'), 1000);
  for (const bad of ['', '1__0', '_1', '1_', '0x10', '1h', '.', 'e3']) assert.equal(parsePyFloat(bad), undefined, bad);
});

test('units go through timedelta microsecond rounding like Python', () => {
  // float*60 would give 505.79999999999995 / 4947.599999999999 / 2188.8828000000003
  assert.equal(parseFsd('8.43m'), 505.8);
  assert.equal(parseFsd('82.46m'), 4947.6);
  assert.equal(parseFsd('36.48138m'), 2188.8828);
  assert.equal(parseFsd('0.0000005ms'), 0); // below half a microsecond
});
