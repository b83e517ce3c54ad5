/**
 * `{cc}` in a copy of submit --cc/--bcc, as flux's Xcmd formats it: Python's str.format(cc=ID)
 * with `{{`/`}}` left as they are. The expected values are what flux-core's code gives (its
 * preserve_mustache / str.format / restore_mustache / split("::list::") run with Python 3.11).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ccCommand, ccOptions, hasField, onlyPlainCc, strFormat } from '../../src/cli/lib/cc-format.js';

/** [argument, id, the arguments flux makes of it] */
const FORMATTED: Array<[string, number, string[]]> = [
  ['{cc}', 65, ['65']],
  ['x{cc}y{cc}', 65, ['x65y65']],
  ['{{cc}}', 65, ['{{cc}}']],
  ['{{}}', 65, ['{{}}']],
  ['}}{{', 65, ['}}{{']],
  ['{cc:03d}', 7, ['007']],
  ['{cc:03}', 65, ['065']],
  ['{cc:>5}', 65, ['   65']],
  ['{cc:*<5}', 65, ['65***']],
  ['{cc:^7}', 65, ['  65   ']],
  ['{cc:x}', 255, ['ff']],
  ['{cc:#X}', 255, ['0XFF']],
  ['{cc:08b}', 65, ['01000001']],
  ['{cc:,}', 1234567, ['1,234,567']],
  ['{cc:_}', 1234567, ['1_234_567']],
  ['{cc:+}', 65, ['+65']],
  ['{cc: }', 65, [' 65']],
  ['{cc!r}', 65, ['65']],
  ['{cc!s:>4}', 65, ['  65']],
  ['{cc!s:04}', 65, ['6500']],
  ['{cc.real}', 65, ['65']],
  ['{cc.imag}', 65, ['0']],
  ['{cc.denominator}', 65, ['1']],
  ['{cc:0{cc}d}', 3, ['003']],
  ['=stache=x=/stache=', 65, ['{{x}}']],
  ['a::list::b{cc}', 65, ['a', 'b65']],
  ['{cc:e}', 65, ['6.500000e+01']],
  ['{cc:.1f}', 65, ['65.0']],
  ['{cc:%}', 65, ['6500.000000%']],
  ['{cc:c}', 65, ['A']],
  ['{cc:0=8,}', 65, ['0,000,065']],
  ['{cc:n}', 65, ['65']],
  ['{cc:010_x}', 65, ['0_0000_0041']],
];

/** [argument, id, Python's error message, or null for flux's "Invalid replacement string"] */
const REFUSED: Array<[string, number, string | null]> = [
  ['{{{cc}}}', 65, null],
  ['{x}', 65, null],
  ['{}', 65, null],
  ['{0}', 65, null],
  ['{:d}', 65, null],
  ['{cc:{x}d}', 65, null],
  ['{cc:{cc}}', 65, "unmatched '{' in format spec"], // its `}}` is kept as text
  ['{cc.real[0]}', 65, "'int' object is not subscriptable"],
  ['{cc', 65, "expected '}' before end of string"],
  ['}', 65, "Single '}' encountered in format string"],
  ['{', 65, "Single '{' encountered in format string"],
  ['a}b', 65, "Single '}' encountered in format string"],
  ['{cc!z}', 65, 'Unknown conversion specifier z'],
  ['{cc!rr}', 65, "expected ':' after conversion specifier"],
  ['{cc!}', 65, "unmatched '{' in format spec"],
  ['{cc:.2d}', 65, 'Precision not allowed in integer format specifier'],
  ['{cc:s}', 65, "Unknown format code 's' for object of type 'int'"],
  ['{cc[0]}', 65, "'int' object is not subscriptable"],
  ['{cc.foo}', 65, "'int' object has no attribute 'foo'"],
  ['{cc:{cc:{cc}d}d}', 65, 'Max string recursion exceeded'],
  ['{c{c}', 65, "unexpected '{' in field name"],
  ['{cc:q}', 65, "Unknown format code 'q' for object of type 'int'"],
  ['{cc:xx}', 65, "Invalid format specifier 'xx' for object of type 'int'"],
  ['{cc:,s}', 65, "Cannot specify ',' with 's'."],
  ['{cc:z}', 65, 'Negative zero coercion (z) not allowed in integer format specifier'],
  ['{cc!s:=5}', 65, "'=' alignment not allowed in string format specifier"],
  ['{cc:c}', 0x110000, '%c arg not in range(0x110000)'],
];

test('command arguments: formatted as flux formats them', () => {
  for (const [arg, cc, expected] of FORMATTED)
    assert.deepEqual(ccCommand(['echo', arg], cc), ['echo', ...expected], arg);
});

test("command arguments: flux's errors", () => {
  for (const [arg, cc, message] of REFUSED) {
    const expected =
      message === null ? `Invalid replacement string in command: '${arg}'` : `command argument '${arg}': ${message}`;
    assert.throws(() => ccCommand(['echo', arg], cc), { message: expected }, arg);
  }
});

test('an attribute of the id that is a method: refused, naming it', () => {
  assert.throws(() => ccCommand(['{cc.bit_length}'], 1), /'\{cc\.bit_length\}': only the attributes real, imag/);
});

test('options: formatted as the command is, errors naming the option as flux does', () => {
  const o = ccOptions({ jobName: 'j{cc:03d}', setopt: ['a={cc}', 'b'], exclusive: true, rlimit: ['x{cc}'] }, 5);
  assert.deepEqual(o, { jobName: 'j005', setopt: ['a=5', 'b'], exclusive: true, rlimit: ['x{cc}'] });
  assert.throws(() => ccOptions({ output: 'o{n}' }, 1), {
    message: "Replacement key 'n' not found in '--output=o{n}'",
  });
  assert.throws(() => ccOptions({ queue: '{0}' }, 1), { message: "Invalid replacement index in '-q{0}'" });
  assert.throws(() => ccOptions({ env: ['A=${HOME}'] }, 1), {
    message: "Replacement key 'HOME' not found in '--env=A=${HOME}'",
  });
});

test('hasField / onlyPlainCc: what decides the template of cc-jobspecs.ts', () => {
  for (const s of ['{cc}', 'a{x}', '{', '}', '{cc:3}', '{{{cc}}}']) assert.equal(hasField(s), true, s);
  for (const s of ['', 'abc', '{{cc}}', '}}{{', '=stache=']) assert.equal(hasField(s), false, s);
  for (const s of ['', '{cc}', 'a{cc}b{cc}', '{{cc}}', '{{x}}']) assert.equal(onlyPlainCc(s), true, s);
  for (const s of ['{cc:3}', '{cc!r}', '{cc.real}', '{x}', '{', '{cc', '{cc}}']) {
    assert.equal(onlyPlainCc(s), false, s);
  }
});

test('strFormat with a string for the id (the template placeholder)', () => {
  assert.equal(strFormat('a{cc}b', 'PLACE'), 'aPLACEb');
});
