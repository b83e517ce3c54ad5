/**
 * ccJobspecs (the jobspec texts of submit --cc/--bcc, built once and cut at the copy id): each
 * copy's text is exactly what building that copy's jobspec in full gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PLACEHOLDER, ccJobspecs, ccSettings } from '../../src/cli/lib/cc-jobspecs.js';
import { hasField, onlyPlainCc } from '../../src/cli/lib/cc-format.js';
import { buildJobspec, type SubmitCommandOptions } from '../../src/cli/lib/submit-options.js';

/** Every copy in full, the slow way (one buildJobspec and dumps per copy). */
const full = (cmd: string[], opts: SubmitCommandOptions, cc: number | undefined): string =>
  buildJobspec(cmd, opts, { cc }).dumps();

function check(cmd: string[], opts: SubmitCommandOptions, ids: number[]): void {
  const texts = ccJobspecs(cmd, opts, ids);
  for (const cc of ids) assert.equal(texts(cc), full(cmd, opts, cc), `${JSON.stringify(cmd)} cc=${cc}`);
}

test('--cc: {cc} in the arguments and FLUX_JOB_CC, copy by copy as a full build', () => {
  check(['echo', '{cc}', 'a{cc}b{cc}', '{{cc}}', 'é"\\\t'], { cc: '1-12' }, [0, 1, 9, 10, 11, 99, 100, 4294967294]);
  const one = JSON.parse(ccJobspecs(['true', '{cc}'], { cc: '5' }, [5])(5));
  assert.deepEqual(one.tasks[0].command, ['true', '5']);
  assert.equal(one.attributes.system.environment.FLUX_JOB_CC, '5');
});

test('--bcc: {cc} in the arguments, no FLUX_JOB_CC', () => {
  check(['echo', '{cc}'], { bcc: '1-3' }, [1, 2, 3]);
  const js = JSON.parse(ccJobspecs(['echo', '{cc}'], { bcc: '1-3' }, [1, 2, 3])(2));
  assert.deepEqual(js.tasks[0].command, ['echo', '2']);
  assert.equal(js.attributes.system.environment.FLUX_JOB_CC, undefined);
});

test('FLUX_JOB_CC already in the environment (a submit from a --cc job) keeps its place', () => {
  check(['true'], { cc: '1-3', env: ['FLUX_JOB_CC=77', 'A=1'] }, [1, 2, 3]);
});

test('no --cc/--bcc: one text, as a full build', () => {
  assert.equal(ccJobspecs(['true'], {}, [undefined])(undefined), full(['true'], {}, undefined));
});

test("the placeholder's own text in an argument: copies are still right (built in full)", () => {
  const cmd = ['echo', PLACEHOLDER, `x${PLACEHOLDER}{cc}`];
  check(cmd, { cc: '1-3' }, [1, 2, 3]);
  const js = JSON.parse(ccJobspecs(cmd, { cc: '1-3' }, [1, 2, 3])(3));
  assert.deepEqual(js.tasks[0].command, ['echo', PLACEHOLDER, `x${PLACEHOLDER}3`]);
});

test('a bad replacement string is the same error as a full build, before anything is submitted', () => {
  assert.throws(() => ccJobspecs(['echo', '{x}'], { cc: '1' }, [1]), /Invalid replacement string in command: '\{x\}'/);
  assert.throws(() => ccJobspecs(['true'], { cc: '1', ntasks: '0' }, [1]), /--ntasks: must be an integer >= 1/);
});

test('property: any arguments, options and ids, each copy equals its full build', () => {
  const piece = fc.constantFrom(
    '{cc}',
    '{{',
    '}}',
    'a',
    ' ',
    'é',
    '"',
    '\\',
    '\n',
    '😀',
    PLACEHOLDER,
    '.',
    '0',
    '{cc:03d}',
    '{cc!r}',
    '=stache=',
  );
  const text = fc.array(piece, { maxLength: 6 }).map((p) => p.join(''));
  // options flux formats (and --rlimit, which it does not), each maybe holding `{cc}`
  const options = fc.record(
    {
      jobName: text,
      output: text,
      env: fc.array(
        text.map((t) => `X=${t}`),
        { maxLength: 2 },
      ),
      setattr: fc.array(
        text.map((t) => `user.a=${t}`),
        { maxLength: 2 },
      ),
      ntasks: fc.constantFrom('2', '{cc}', '{cc:d}'),
      cwd: text.map((t) => `/tmp/${t}`),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.array(text, { minLength: 0, maxLength: 4 }),
      options,
      fc.uniqueArray(fc.nat({ max: 100000 }), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      (args, extra, ids, bcc) => {
        ids.sort((a, b) => a - b);
        const cmd = ['echo', ...args];
        const opts: SubmitCommandOptions = { ...extra, ...(bcc ? { bcc: 'x' } : { cc: 'x' }) };
        const expected = ids.map((cc) => {
          try {
            return { text: full(cmd, opts, cc) };
          } catch (e) {
            return { error: (e as Error).message };
          }
        });
        const firstOrLastError = expected[0]!.error ?? expected[expected.length - 1]!.error;
        if (firstOrLastError !== undefined) {
          assert.throws(() => ccJobspecs(cmd, opts, ids), { message: firstOrLastError });
          return;
        }
        const texts = ccJobspecs(cmd, opts, ids);
        ids.forEach((cc, i) => {
          const e = expected[i]!;
          if (e.error !== undefined) assert.throws(() => texts(cc), { message: e.error });
          else assert.equal(texts(cc), e.text);
        });
        // the template is kept when only the command holds `{cc}`, and plainly
        const fields = [extra.jobName, extra.output, ...(extra.env ?? []), ...(extra.setattr ?? []), extra.cwd];
        const optionField = extra.ntasks?.includes('{') || fields.some((t) => t !== undefined && hasField(t));
        const plain = cmd.every(onlyPlainCc);
        if (optionField || !plain) assert.equal(texts.fromTemplate, false);
        else if (!JSON.stringify({ cmd, extra }).includes(PLACEHOLDER)) assert.equal(texts.fromTemplate, true);
      },
    ),
    { numRuns: 300 },
  );
});

test('settings of each copy: the same object for all, unless --urgency, --flags or --wait-event hold {cc}', () => {
  const ids = [1, 2, 3];
  const same = ccSettings({ cc: '1-3', urgency: '5', flags: ['waitable'] }, ids);
  assert.equal(same(1), same(3));
  assert.deepEqual(same(2), {
    submit: { urgency: 5, debug: false, waitable: true, novalidate: false },
    waitEvent: undefined,
  });
  const each = ccSettings({ cc: '1-3', urgency: '{cc}', waitEvent: 'ev{cc}', wait: true }, ids);
  assert.deepEqual(
    ids.map((cc) => [each(cc).submit.urgency, each(cc).waitEvent]),
    [
      [1, 'ev1'],
      [2, 'ev2'],
      [3, 'ev3'],
    ],
  );
  assert.equal(ccSettings({ watch: true }, [undefined])(undefined).waitEvent, 'clean');
  // errors of the first or the last copy, before anything is submitted
  assert.throws(() => ccSettings({ cc: '1-3', urgency: 'x{cc}' }, ids), /--urgency: invalid value 'x1'/);
  assert.throws(() => ccSettings({ cc: '1-3', flags: ['{cc}'] }, ids), /--flags: Unknown flag 1/);
  assert.throws(() => ccSettings({ cc: '1-3', input: '{cc}' }, ids), /per-task input not supported for submit/);
  assert.throws(() => ccSettings({ input: '0-1' }, [undefined]), /per-task input not supported for submit/);
  assert.doesNotThrow(() => ccSettings({ cc: '1-3', input: 'file{cc}' }, ids));
});
