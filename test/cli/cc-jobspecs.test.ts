/**
 * ccJobspecs (the jobspec texts of submit --cc/--bcc, built once and cut at the copy id): each
 * copy's text is exactly what building that copy's jobspec in full gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PLACEHOLDER, ccJobspecs } from '../../src/cli/lib/cc-jobspecs.js';
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

test('property: any arguments and ids, each copy equals its full build', () => {
  const piece = fc.constantFrom('{cc}', '{{', '}}', 'a', ' ', 'é', '"', '\\', '\n', '😀', PLACEHOLDER, '.', '0');
  const arg = fc.array(piece, { maxLength: 6 }).map((p) => p.join(''));
  fc.assert(
    fc.property(
      fc.array(arg, { minLength: 0, maxLength: 4 }),
      fc.uniqueArray(fc.nat({ max: 100000 }), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      (args, ids, bcc) => {
        ids.sort((a, b) => a - b);
        const cmd = ['echo', ...args];
        const opts: SubmitCommandOptions = bcc ? { bcc: 'x' } : { cc: 'x' };
        let expected: string[];
        try {
          expected = ids.map((cc) => full(cmd, opts, cc));
        } catch (e) {
          assert.throws(() => ccJobspecs(cmd, opts, ids), { message: (e as Error).message });
          return;
        }
        const texts = ccJobspecs(cmd, opts, ids);
        assert.deepEqual(
          ids.map((cc) => texts(cc)),
          expected,
        );
      },
    ),
    { numRuns: 200 },
  );
});
