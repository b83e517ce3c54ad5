import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readVector } from '../helpers/paths.js';
import {
  JOBID_ENCODINGS,
  JobID,
  JobIdError,
  encodeJobId,
  f58Prefix,
  isUtf8Locale,
  parseJobId,
  parseJobIdAs,
  parseJobIdDetailed,
  type JobIdEncoding,
} from '../../src/job/jobid.js';
import { mnWords, MN_WORDS } from '../../src/job/mnemonic.js';
import { basemojiDigits } from '../../src/job/emoji.js';

interface TableRow {
  input: string;
  real_job: boolean;
  dec: string;
  hex: string;
  dothex: string;
  kvs: string;
  words: string;
  f58: string;
  f58plain: string;
  emoji: string;
  f58_C_locale: string;
  parsed_back_to_dec: Record<string, string>;
}
interface ParseRow {
  input: string;
  rc: number;
  stdout: string;
  stderr: string;
}
const vec = readVector<{ table: TableRow[]; parse_only: ParseRow[] }>('jobid.json');

const LOCALE_VARS = ['LC_ALL', 'LC_CTYPE', 'LANG', 'FLUX_F58_FORCE_ASCII'] as const;
let saved: Record<string, string | undefined> = {};
function setLocaleEnv(env: Partial<Record<(typeof LOCALE_VARS)[number], string>>): void {
  for (const k of LOCALE_VARS) delete process.env[k];
  Object.assign(process.env, env);
}
beforeEach(() => {
  saved = Object.fromEntries(LOCALE_VARS.map((k) => [k, process.env[k]]));
  setLocaleEnv({ LANG: 'C.UTF-8' }); // the vectors were captured with LANG=C.UTF-8
});
afterEach(() => {
  for (const k of LOCALE_VARS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const U64 = (1n << 64n) - 1n;

describe('jobid.json table (real flux job id output)', () => {
  for (const row of vec.table) {
    test(`encodings of ${row.input}`, () => {
      const id = BigInt(row.dec);
      for (const enc of JOBID_ENCODINGS) {
        assert.equal(encodeJobId(id, enc), row[enc], `--to=${enc}`);
      }
      const j = JobID.from(id);
      assert.equal(j.dec, row.dec);
      assert.equal(j.hex, row.hex);
      assert.equal(j.dothex, row.dothex);
      assert.equal(j.kvs, row.kvs);
      assert.equal(j.f58, row.f58);
      assert.equal(j.f58plain, row.f58plain);
      assert.equal(j.words, row.words);
      assert.equal(j.emoji, row.emoji);
      assert.equal(String(j), row.f58);
      assert.equal(`${j}`, row.f58);
    });
    test(`C locale f58 of ${row.input}`, () => {
      setLocaleEnv({ LANG: 'C' });
      assert.equal(encodeJobId(BigInt(row.dec), 'f58'), row.f58_C_locale);
      setLocaleEnv({});
      assert.equal(encodeJobId(BigInt(row.dec), 'f58'), row.f58_C_locale);
    });
    test(`parse back ${row.input}`, () => {
      assert.equal(parseJobId(row.input).toString(), row.dec);
      for (const [enc, dec] of Object.entries(row.parsed_back_to_dec)) {
        const s = row[enc as JobIdEncoding];
        assert.equal(parseJobId(s).toString(), dec, `${enc} ${s}`);
        assert.equal(JobID.parse(s).dec, dec);
      }
      assert.equal(parseJobId(row.f58_C_locale).toString(), row.dec);
    });
  }
});

describe('jobid.json parse_only edge cases', () => {
  for (const row of vec.parse_only) {
    test(`parse ${JSON.stringify(row.input)}`, () => {
      if (row.rc === 0) {
        assert.equal(parseJobId(row.input).toString(), row.stdout);
        return;
      }
      if (row.input === '-1') {
        // flux's option parser rejects '-1' before parsing; fluid_parse("-1") is EINVAL too
        assert.throws(() => parseJobId(row.input), { message: '-1: malformed input' });
        return;
      }
      const expected = row.stderr.replace(/^flux-job: /, '');
      assert.throws(
        () => parseJobId(row.input),
        (e: unknown) => e instanceof JobIdError && e.message === expected && e.errno === 22 && e.code === 'EINVAL',
      );
    });
  }
});

describe('flux-core unit test vectors (libutil/test/fluid.c)', () => {
  const f58: [bigint, string][] = [
    [0n, '1'],
    [1n, '2'],
    [57n, 'z'],
    [1234n, 'NH'],
    [1888n, 'ZZ'],
    [3363n, 'zz'],
    [3364n, '211'],
    [4369n, '2JL'],
    [65535n, 'LUv'],
    [4294967295n, '7YXq9G'],
    [633528662n, 'xyzzy'],
    [6731191091817518n, 'uZZybuNNy'],
    [18446744073709551614n, 'jpXCZedGfVP'],
    [18446744073709551615n, 'jpXCZedGfVQ'],
  ];
  test('f58 encode/decode', () => {
    for (const [id, d] of f58) {
      assert.equal(encodeJobId(id, 'f58'), 'ƒ' + d);
      assert.equal(encodeJobId(id, 'f58plain'), 'f' + d);
      assert.equal(parseJobId('ƒ' + d), id);
      assert.equal(parseJobId('f' + d), id);
    }
    assert.equal(parseJobId('f111'), 0n);
  });
  test('FLUX_F58_FORCE_ASCII selects the f prefix', () => {
    process.env.FLUX_F58_FORCE_ASCII = '1';
    assert.equal(encodeJobId(0n, 'f58'), 'f1');
    assert.equal(JobID.from(1n).toString(), 'f2');
    process.env.FLUX_F58_FORCE_ASCII = '';
    assert.equal(f58Prefix(), 'f', 'set-but-empty still forces ASCII (getenv != NULL)');
    delete process.env.FLUX_F58_FORCE_ASCII;
    assert.equal(encodeJobId(0n, 'f58'), 'ƒ1');
  });
  test('fluid_parse table', () => {
    const cases: [bigint, string][] = [
      [1234n, '1234'],
      [18446744073709551615n, '18446744073709551615'],
      [0n, '0x0'],
      [1234n, '0x4d2'],
      [6731191091817518n, '0x17e9fb8df16c2e'],
      [18446744073709551615n, '0xffffffffffffffff'],
      [0n, '0.0.0.0'],
      [1n, '0000.0000.0000.0001'],
      [57n, '0.0.0.0039'],
      [65535n, '0.0.0.ffff'],
      [4294967295n, '0000.0000.ffff.ffff'],
      [18446744073709551615n, 'ffff.ffff.ffff.ffff'],
      [0n, '😃'],
      [1n, '😄'],
      [57n, '🙊'],
      [1234n, '😁👌'],
      [1888n, '😆🐻'],
      [4369n, '😊🌀'],
      [65535n, '💁📚'],
      [4294967295n, '😳🏪🍖🍸'],
      [18446744073709551615n, '🚹💗💧👗😷📷📚'],
      [65535n, ' 0xffff   '],
    ];
    for (const [id, s] of cases) assert.equal(parseJobId(s), id, s);
  });
  test('fluid_parse rejects', () => {
    for (const s of ['', 'boo', 'f', '-1', '1234x', 'aaa', 'flux', 'f1230', 'x1', 'a-a-a--a-a-a', 'bogus']) {
      assert.throws(() => parseJobId(s), { name: 'JobIdError', message: `${s}: malformed input` }, s);
    }
  });
});

describe('parser details', () => {
  test('whitespace and job. prefix', () => {
    assert.equal(parseJobId('  57'), 57n);
    assert.equal(parseJobId('57 \t\n'), 57n);
    assert.equal(parseJobId('\tjob.0000.0000.0000.0039'), 57n);
    assert.equal(parseJobId('job.57'), 57n, 'job. is stripped before any encoding');
    assert.equal(parseJobId('job. 57'), 57n);
    assert.equal(parseJobId('job.ƒz'), 57n);
    assert.equal(parseJobId('+57'), 57n, 'strtoull accepts a plus sign');
    assert.equal(parseJobId('000000000000000000000057'), 57n);
    assert.equal(parseJobId('job.  '), 0n, 'flux quirk: strtoull of "" after job. is 0');
  });
  test('integers', () => {
    for (const s of [
      '1e3',
      '-1',
      '18446744073709551616',
      '99999999999999999999999',
      '0X39',
      '0x',
      '0xg',
      '0x 1',
      '1 2',
      '١٢',
      '',
      '   ',
      'job.',
      '+',
      '+-1',
      '57\0',
    ]) {
      assert.throws(
        () => parseJobId(s),
        (e: unknown) => e instanceof JobIdError && e.message === `${s}: malformed input`,
        JSON.stringify(s),
      );
    }
    assert.equal(parseJobId('0x00000000000000000000ff'), 255n);
    assert.equal(parseJobId('0xFF'), 255n);
    assert.equal(parseJobId('18446744073709551615 '), U64);
  });
  test('f58', () => {
    assert.equal(parseJobId('fjpXCZedGfVR'), 0n, '2^64 wraps as in flux');
    assert.equal(parseJobId('fzzzzzzzzzzzz'.slice(0, 13)), (58n ** 12n - 1n) & U64);
    for (const s of ['ƒ0', 'fO', 'fI', 'fl', 'f2 ', 'f1111111111111', 'ƒ', 'fƒ2', 'f+2', 'ƒ2ƒ']) {
      assert.throws(() => parseJobId(s), { message: `${s}: malformed input` }, s);
    }
  });
  test('dothex mirrors strtoul fields', () => {
    assert.equal(parseJobId('0.0.0.10000'), 65536n, 'fields are not masked, as in C');
    assert.equal(parseJobId('.0.0.57'), 87n, 'empty field converts to 0');
    assert.equal(parseJobId('0x1.0.0.0'), 1n << 48n);
    assert.equal(parseJobId('FFFF.0.0.0'), 0xffffn << 48n);
    assert.equal(parseJobId('0. 1.0.0'), 1n << 32n);
    for (const s of ['0.0.0', '0.0.0.0.0', '0.0.0.0 ', '0.0.0.g', '0x.0.0.0', '1.2.3.4x', 'job.0000.0000.0000.0039 ']) {
      assert.throws(() => parseJobId(s), { message: `${s}: malformed input` }, s);
    }
  });
  test('words mirror mn_decode', () => {
    assert.equal(parseJobId('ACROBAT-academy-Academy--academy-academy-academy'), 1n);
    assert.equal(parseJobId('acrobat academy academy-academy academy academy'), 1n);
    assert.equal(parseJobId('acrobat-academy-academy--academy-academy-academy-xyzzy'), 1n, 'stops at unknown word');
    for (const s of [
      'academy-academy-academy--academy-academy', // 5 words
      'academy-academy-academy--academy-academy-academy-academy', // 7 words
      'academy-xyzzy-academy--academy-academy-academy',
      'academy-academy-yes--academy-academy-academy', // 24-bit remainder word
      'yes-academy-academy--academy-academy-academy', // remainder word out of place
    ]) {
      assert.throws(() => parseJobId(s), { message: `${s}: malformed input` }, s);
    }
    // index 1624 third word ("verbal") only valid while the low part <= 1312671
    assert.equal(parseJobId('natural-analyze-verbal--academy-academy-academy'), 0xffffffffn);
    const third1624 = `${mnWords[1]}-${mnWords[1]}-verbal--academy-academy-academy`;
    assert.equal(parseJobId(third1624), 1624n * 1626n * 1626n);
    // last valid low part + 1 overflows 32 bits -> MN_EENCODING
    const lowOver = 1312672;
    const w0 = mnWords[(lowOver % 1626) + 1]!;
    const w1 = mnWords[Math.floor(lowOver / 1626) + 1]!;
    assert.throws(() => parseJobId(`${w0}-${w1}-verbal--academy-academy-academy`));
    // a third word with index 1625 (0-based) is always invalid
    assert.throws(() => parseJobId(`academy-academy-${mnWords[1626]}--academy-academy-academy`));
  });
  test('emoji', () => {
    for (const s of ['😃 ', ' 😃x', '😃😃😃😃😃😃😃😃', '🤖', '😃a']) {
      assert.throws(() => parseJobId(s), { message: `${s}: malformed input` }, JSON.stringify(s));
    }
    assert.equal(parseJobId(' 😄'), 1n, 'leading whitespace is skipped');
    // 7 emoji can exceed 2^64: wraps like the C uint64_t arithmetic
    const big = basemojiDigits[575]!.repeat(7);
    assert.equal(parseJobId(big), (576n ** 7n - 1n) & U64);
  });
  test('detected kind / parseJobIdAs', () => {
    const kinds: [string, string][] = [
      ['57', 'dec'],
      ['0x39', 'hex'],
      ['0000.0000.0000.0039', 'dothex'],
      ['job.0000.0000.0000.0039', 'kvs'],
      ['ƒz', 'f58'],
      ['fz', 'f58plain'],
      ['aztec-academy-academy--academy-academy-academy', 'words'],
      ['🙊', 'emoji'],
    ];
    for (const [s, k] of kinds) {
      assert.equal(parseJobIdDetailed(s)?.kind, k);
      assert.equal(parseJobIdAs(s, k as JobIdEncoding), 57n);
      assert.equal(parseJobIdAs(s, 'any'), 57n);
    }
    assert.equal(parseJobIdAs('fz', 'f58'), 57n);
    assert.equal(parseJobIdAs('job.0000.0000.0000.0039', 'dothex'), 57n);
    assert.throws(() => parseJobIdAs('57', 'hex'), { message: '57: malformed input' });
    assert.throws(() => parseJobIdAs('ƒz', 'f58plain'), JobIdError);
  });
});

describe('JobID class', () => {
  test('from / parse / value semantics', () => {
    const a = JobID.from(182536110080n);
    const b = JobID.parse('ƒ5o76H4j');
    const c = JobID.from(182536110080);
    const d = new JobID('job.0000.002a.8000.0000');
    assert.equal(a.value, b.value);
    assert.ok(a.equals(b) && a.equals(c) && a.equals(d) && a.equals('ƒ5o76H4j') && a.equals(182536110080n));
    assert.ok(!a.equals('garbage') && !a.equals(1n));
    assert.equal(JobID.from(a), a);
    assert.equal(b.orig, 'ƒ5o76H4j');
    assert.equal(a.orig, '182536110080');
    assert.equal(a.valueOf(), 182536110080n);
    assert.ok((a as unknown as bigint) < (JobID.from(184918474752n) as unknown as bigint));
    assert.equal(Number(a), 182536110080);
    assert.equal(JSON.stringify({ id: JobID.from(U64) }), '{"id":"18446744073709551615"}');
    assert.equal(a.encode('hex'), '0x2a80000000');
    assert.equal(JobID.compare(a, JobID.from(1n)), 1);
    assert.ok(Object.isFrozen(a));
    assert.equal(JobID.tryParse('nope'), undefined);
    assert.equal(JobID.tryParse('fz')?.value, 57n);
  });
  test('rejects bad values', () => {
    assert.throws(() => JobID.from(-1), JobIdError);
    assert.throws(() => JobID.from(1.5), JobIdError);
    assert.throws(() => JobID.from(2 ** 60), JobIdError);
    assert.throws(() => JobID.from(1n << 64n), JobIdError);
    assert.throws(() => JobID.from(-1n), JobIdError);
    assert.throws(() => JobID.parse('1e3'), { message: '1e3: malformed input', errno: 22, code: 'EINVAL' });
  });
  test('encodeJobId argument checks', () => {
    assert.throws(() => encodeJobId(-1n, 'dec'), RangeError);
    assert.throws(() => encodeJobId(1n << 64n, 'dec'), RangeError);
    assert.equal(encodeJobId(57n, 'HEX' as JobIdEncoding), '0x39', 'strcasecmp like flux');
    assert.throws(() => encodeJobId(57n, 'octal' as JobIdEncoding), { message: 'Unknown to=octal', errno: 71 });
  });
  test('locale detection', () => {
    assert.equal(isUtf8Locale({ LANG: 'en_US.UTF-8' }), true);
    assert.equal(isUtf8Locale({ LANG: 'en_US.utf8' }), true);
    assert.equal(isUtf8Locale({ LC_ALL: 'C', LANG: 'en_US.UTF-8' }), false);
    assert.equal(isUtf8Locale({ LC_CTYPE: 'C.UTF-8', LANG: 'C' }), true);
    assert.equal(isUtf8Locale({ LC_ALL: '', LC_CTYPE: '', LANG: 'C.utf-8' }), true);
    assert.equal(isUtf8Locale({}), false);
  });
});

describe('tables', () => {
  test('mnemonicode word list', () => {
    assert.equal(mnWords.length, MN_WORDS + 1);
    assert.equal(new Set(mnWords.slice(1)).size, MN_WORDS);
    assert.equal(mnWords[1], 'academy');
    assert.equal(mnWords[1626], 'amen');
    assert.equal(mnWords[1633], 'yes');
    for (const w of mnWords.slice(1)) assert.match(w, /^[a-z]{3,7}$/);
  });
  test('basemoji table', () => {
    assert.equal(basemojiDigits.length, 576);
    assert.equal(new Set(basemojiDigits).size, 576);
    for (const e of basemojiDigits) {
      assert.equal([...e].length, 1);
      assert.equal(Buffer.byteLength(e), 4);
    }
  });
});

describe('properties (fast-check)', () => {
  const u64 = fc.bigInt({ min: 0n, max: U64 });
  // bias toward realistic FLUIDs and boundary values too
  const anyId = fc.oneof(
    u64,
    fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }).map((t) => t << 24n),
    fc.constantFrom(0n, 1n, U64, 1n << 63n, (1n << 53n) + 1n),
  );

  test('every encoding round-trips (no lossy encodings for u64)', () => {
    fc.assert(
      fc.property(anyId, (id) => {
        for (const enc of JOBID_ENCODINGS) {
          const s = encodeJobId(id, enc);
          if (parseJobId(s) !== id) return false;
          if (parseJobIdDetailed(s)?.kind !== (enc === 'f58' ? (f58Prefix() === 'f' ? 'f58plain' : 'f58') : enc))
            return false;
        }
        return JobID.parse(JobID.from(id).toString()).value === id;
      }),
      { numRuns: 3000 },
    );
  });

  test('encodings match a straightforward reference implementation', () => {
    const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
    fc.assert(
      fc.property(u64, (id) => {
        let v = id;
        let f = '';
        do {
          f = B58[Number(v % 58n)] + f;
          v /= 58n;
        } while (v > 0n);
        let e = '';
        v = id;
        do {
          e = basemojiDigits[Number(v % 576n)] + e;
          v /= 576n;
        } while (v > 0n);
        const hexd = id.toString(16).padStart(16, '0');
        const lo = Number(id & 0xffffffffn);
        const hi = Number(id >> 32n);
        const w = (x: number) =>
          [x % 1626, Math.floor(x / 1626) % 1626, Math.floor(x / 1626 / 1626) % 1626].map((i) => mnWords[i + 1]);
        return (
          encodeJobId(id, 'f58plain') === 'f' + f &&
          encodeJobId(id, 'emoji') === e &&
          encodeJobId(id, 'dothex') === hexd.match(/..../g)!.join('.') &&
          encodeJobId(id, 'words') === `${w(lo).join('-')}--${w(hi).join('-')}`
        );
      }),
      { numRuns: 2000 },
    );
  });

  test('arbitrary strings never crash the parser; results are in range', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[ \tjob.0-9a-fx\-ƒ]{0,30}$/)),
        (s) => {
          try {
            const id = parseJobId(s);
            return id >= 0n && id <= U64;
          } catch (e) {
            return e instanceof JobIdError && e.message === `${s}: malformed input`;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('decimal strings above 2^64-1 are rejected, below accepted', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 70n }), (n) => {
        const ok = n <= U64;
        try {
          return parseJobId(n.toString()) === n && ok;
        } catch {
          return !ok;
        }
      }),
    );
  });
});
