/** Lossless JSON (64-bit job ids) and job id helpers (docs/protocol.md §A.5, §C.4). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JOBID_ANY, jobIdToWire, parseJson, stringifyJson, toJobId } from '../../src/protocol/index.js';

/** true if a plain JSON.parse result holds an integer JSON.parse could not represent exactly */
function hasUnsafeInt(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasUnsafeInt);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasUnsafeInt);
  return false;
}

const u64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n });
/** value that parseJson gives back for an integer: number when safe, else bigint */
const wireInt = u64.map((b) =>
  b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b,
);
const digitString = fc.string({
  unit: fc.constantFrom('0', '1', '9', '"', '\\', '-', '.', 'e', 'é', '\n', '\u2028'),
  maxLength: 40,
});
const safeDouble = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .filter((d) => !Object.is(d, -0) && !(Number.isInteger(d) && !Number.isSafeInteger(d)));

const { tree } = fc.letrec((tie) => ({
  leaf: fc.oneof(wireInt, u64, digitString, fc.string({ unit: 'binary' }), safeDouble, fc.boolean(), fc.constant(null)),
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('tree'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), digitString), tie('tree'), { maxKeys: 5 }),
  ),
}));
/** values as parseJson returns them (bigints only where unsafe) */
const normalize = (v: unknown): unknown =>
  typeof v === 'bigint'
    ? v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v
    : Array.isArray(v)
      ? v.map(normalize)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
        : v;

describe('parseJson', () => {
  test('specific values', () => {
    assert.deepEqual(parseJson('{"id":18446744073709551615}'), { id: 18446744073709551615n });
    assert.deepEqual(parseJson('[-1, -9223372036854775808, 9007199254740991, 9007199254740992, -9007199254740992]'), [
      -1,
      -9223372036854775808n,
      9007199254740991,
      9007199254740992n,
      -9007199254740992n,
    ]);
    /* eslint-disable no-loss-of-precision -- the literals round as JSON.parse rounds them */
    assert.deepEqual(parseJson('[1.0, 12345678901234567.5, 1e400, 1234567890123456789e2, 0, -0]'), [
      1,
      12345678901234567.5,
      Infinity,
      1234567890123456789e2,
      0,
      -0,
    ]);
    /* eslint-enable no-loss-of-precision */
    assert.deepEqual(parseJson(' {\n\t"a" : [ 12345678901234567890 , "12345678901234567890" ] ,"b":{ } } '), {
      a: [12345678901234567890n, '12345678901234567890'],
      b: {},
    });
    assert.deepEqual(parseJson(Buffer.from('{"s":"x\\"12345678901234567890\\\\","u":"\\u00e9ü"}')), {
      s: 'x"12345678901234567890\\',
      u: 'éü',
    });
  });

  test('__proto__ key is an own property, like JSON.parse', () => {
    const text = '{"__proto__":{"x":1},"id":12345678901234567890}';
    const v = parseJson(text) as any;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__', 'id']);
    assert.equal(v.x, undefined);
  });

  test('invalid JSON on the slow path throws SyntaxError', () => {
    for (const bad of [
      '{"a":12345678901234567890,}',
      '[12345678901234567890',
      '{"a":"\u0001","n":12345678901234567890}',
      '["\\q",12345678901234567890]',
      '12345678901234567890 1',
      '[01234567890123456789]',
      '{"a" 12345678901234567890}',
      '[tru, 12345678901234567890]',
      '"12345678901234567890',
      '[-, 12345678901234567890]',
      '[1., 12345678901234567890]',
    ]) {
      assert.throws(() => parseJson(bad), SyntaxError, bad);
      assert.throws(() => JSON.parse(bad), SyntaxError, bad);
    }
  });

  test('agrees with JSON.parse when there are no unsafe integers (fast and slow paths)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, spaced) => {
        const text = JSON.stringify(v, null, spaced ? 1 : undefined);
        const plain = JSON.parse(text);
        fc.pre(!hasUnsafeInt(plain));
        assert.deepEqual(parseJson(text), plain);
        // force the slow path with a long digit run inside a string
        const slow = `{"pad":"12345678901234567890","v":${text}}`;
        assert.deepEqual(parseJson(slow), JSON.parse(slow));
      }),
      { numRuns: 400 },
    );
  });

  test('random trees with 64-bit integers round trip exactly', () => {
    fc.assert(
      fc.property(tree, (v) => {
        const text = stringifyJson(v);
        assert.deepEqual(parseJson(text), normalize(v));
      }),
      { numRuns: 500 },
    );
  });

  test('strings with digit runs are not corrupted', () => {
    fc.assert(
      fc.property(fc.array(digitString, { maxLength: 6 }), u64, (strs, id) => {
        const v = { id, strs, [strs.join('')]: strs[0] ?? '' };
        assert.deepEqual(parseJson(stringifyJson(v)), normalize(v));
      }),
      { numRuns: 300 },
    );
  });
});

describe('stringifyJson', () => {
  test('equals JSON.stringify without bigints', () => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: true, withNullPrototype: true }), (v) => {
        let expected: string | undefined;
        try {
          expected = JSON.stringify(v);
        } catch {
          return;
        }
        if (expected === undefined) assert.throws(() => stringifyJson(v), TypeError);
        else assert.equal(stringifyJson(v), expected);
      }),
      { numRuns: 300 },
    );
  });

  test('bigints are bare integers; JSON.stringify rules elsewhere', () => {
    const d = new Date(0);
    assert.equal(
      stringifyJson({
        id: 2n ** 64n - 1n,
        neg: -(2n ** 63n),
        small: 5n,
        a: [undefined, () => 1, NaN, 1n],
        u: undefined,
        d,
        s: 'q"\n',
      }),
      `{"id":18446744073709551615,"neg":-9223372036854775808,"small":5,"a":[null,null,null,1],"d":${JSON.stringify(d)},"s":"q\\"\\n"}`,
    );
    assert.equal(stringifyJson(7n), '7');
    assert.equal(stringifyJson([new Number(3), new String('x'), 1n]), '[3,"x",1]');
  });

  test('toJSON results are serialized once, bigints inside them too', () => {
    class Id {
      constructor(readonly v: bigint) {}
      toJSON() {
        return { id: this.v, nested: { toJSON: () => 'not called twice' } };
      }
    }
    assert.equal(stringifyJson(new Id(2n ** 63n)), '{"id":9223372036854775808,"nested":"not called twice"}');
    assert.equal(stringifyJson([new Id(1n)]), '[{"id":1,"nested":"not called twice"}]');
  });

  test('Error.stackTraceLimit is restored and real errors keep their stack', () => {
    const before = Error.stackTraceLimit;
    stringifyJson({ a: [1n] });
    assert.equal(Error.stackTraceLimit, before);
    const o: any = {};
    o.o = o;
    assert.throws(
      () => stringifyJson(o),
      (e: any) => e instanceof TypeError && /\n\s+at /.test(String(e.stack)),
    );
    assert.equal(Error.stackTraceLimit, before);
  });

  test('circular structures and undefined throw TypeError', () => {
    const o: any = { id: 1n };
    o.self = o;
    assert.throws(() => stringifyJson(o), TypeError);
    assert.throws(() => stringifyJson(undefined), TypeError);
  });
});

describe('job ids (§C.4)', () => {
  test('toJobId', () => {
    assert.equal(toJobId(0), 0n);
    assert.equal(toJobId(33923530752), 33923530752n);
    assert.equal(toJobId(-1), JOBID_ANY);
    assert.equal(toJobId(-1n), JOBID_ANY);
    assert.equal(toJobId('-1'), JOBID_ANY);
    assert.equal(toJobId('18446744073709551615'), JOBID_ANY);
    assert.equal(toJobId(12345678901234567890n), 12345678901234567890n);
    assert.equal(JOBID_ANY, 2n ** 64n - 1n);
    for (const bad of [1.5, -2, 2 ** 60, '12a', '', '18446744073709551616', 2n ** 64n, -2n, null, undefined, {}, NaN]) {
      assert.throws(
        () => toJobId(bad),
        (e: any) => e.errno === 22 && e.code === 'EINVAL',
        String(bad),
      );
    }
  });
  test('jobIdToWire', () => {
    assert.equal(jobIdToWire(JOBID_ANY), -1);
    assert.equal(jobIdToWire(5n), 5);
    assert.equal(jobIdToWire(9007199254740991n), 9007199254740991);
    assert.equal(jobIdToWire(9007199254740992n), 9007199254740992n);
    assert.equal(stringifyJson({ id: jobIdToWire(toJobId(-1)) }), '{"id":-1}');
  });
  test('id round trip through a payload', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: JOBID_ANY }), (id) => {
        const text = stringifyJson({ id: jobIdToWire(id) });
        assert.equal(toJobId((parseJson(text) as { id: unknown }).id), id);
      }),
    );
  });
});
