/**
 * `tsflux jobs` formatting without an instance: Python format specs and Flux's extensions,
 * and the default format rendering the job-list records of real `flux jobs` captures into
 * the exact lines flux printed.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readVector } from '../helpers/paths.js';
import { OutputFormat, formatField, convertField, parseFormat, pyFormat } from '../../src/cli/lib/pyformat.js';
import { fsd } from '../../src/job/fsd.js';
import { HEADINGS, JobInfo, fieldsToAttrs, headingsFor, usernameOf } from '../../src/cli/lib/jobinfo.js';
import { JOBS_FORMATS, parseFilters } from '../../src/cli/jobs.js';
import { PyFloat } from '../../src/job/pyjson.js';
import { parseJson, toJobId } from '../../src/protocol/json.js';
import { ResourceSet } from '../../src/cli/resource.js';

let saved: string | undefined;
before(() => {
  saved = process.env.LC_ALL;
  process.env.LC_ALL = 'C.UTF-8';
});
after(() => {
  if (saved === undefined) delete process.env.LC_ALL;
  else process.env.LC_ALL = saved;
});

describe('Python format specs', () => {
  const cases: Array<[unknown, string, string]> = [
    ['abc', '', 'abc'],
    ['abc', '>6', '   abc'],
    ['abc', '<6', 'abc   '],
    ['abc', '^7', '  abc  '],
    ['abcdefghijkl', '<10.10', 'abcdefghij'],
    ['ab', '*>5', '***ab'],
    [42, '', '42'],
    [42, '>6', '    42'],
    [42, '<4', '42  '],
    [42, '06', '000042'],
    [-42, '=+6', '-   42'],
    [42, '+d', '+42'],
    [255, 'x', 'ff'],
    [255, '#X', '0XFF'],
    [1234567, ',', '1,234,567'],
    [new PyFloat(0), '', '0.0'],
    [new PyFloat(1795623488.6881573), '', '1795623488.6881573'],
    [1.5, '.2f', '1.50'],
    [1.5, '>8.3f', '   1.500'],
    [0.1234, '.1%', '12.3%'],
    [12345.678, '.3', '1.23e+04'],
    [new PyFloat(1), '.3', '1.0'],
    [true, '', 'True'],
    // as Python 3.10+: `0` pads a string with zeros on its right, and with an alignment too
    ['abc', '06', 'abc000'],
    [42, '>06', '000042'],
    [65, '5c', '    A'],
    [1234567, '012,', '0,001,234,567'],
    [new PyFloat(-0), 'z.1f', '0.0'],
    [new PyFloat(1), '.1', '1e+00'],
    [new PyFloat(Infinity), '%', 'inf%'],
    [new PyFloat(1.5), '#.0f', '2.'],
    [new PyFloat(2.5), '#.0e', '2.e+00'],
  ];
  for (const [v, spec, want] of cases) {
    test(`format(${JSON.stringify(v)}, '${spec}') = '${want}'`, () => {
      assert.equal(pyFormat(v as never, spec), want);
    });
  }
  test("a bad spec is Python's error", () => {
    const errors: Array<[unknown, string, string]> = [
      [42, 'xx', "Invalid format specifier 'xx' for object of type 'int'"],
      ['a', ',', "Cannot specify ',' with 's'."],
      [42, 'q', "Unknown format code 'q' for object of type 'int'"],
      [new PyFloat(1.5), 'd', "Unknown format code 'd' for object of type 'float'"],
      [42, '.2', 'Precision not allowed in integer format specifier'],
      // the alternate form of 'g' and of no type is not implemented: refused rather than ignored
      [new PyFloat(1.5), '#g', "Alternate form (#) is not supported by tsflux for a float formatted with 'g'"],
    ];
    for (const [v, spec, message] of errors) assert.throws(() => pyFormat(v as never, spec), { message }, spec);
  });
  test('h shows empty and zero durations as -, + marks truncation', () => {
    assert.equal(formatField('', '>6h'), '     -');
    assert.equal(formatField(new PyFloat(0), '>6h'), '     -');
    assert.equal(formatField(0, '>6h'), '     0');
    assert.equal(formatField(convertField(new PyFloat(0), 'F'), '>8h'), '       -');
    assert.equal(formatField('nosuchcommand', '<10.10+'), 'nosuchcom+');
    assert.equal(formatField('nosuchcmd', '<10.10+'), 'nosuchcmd ');
  });
  test('conversions: !F (FSD), !H (h:mm:ss), !D, !d with strftime and ::spec', () => {
    assert.equal(convertField(1.0254, 'F'), '1.025s');
    assert.equal(convertField(90, 'F'), '1.5m');
    assert.equal(convertField(3725, 'H'), '1:02:05');
    assert.equal(convertField(0.2, 'H'), '0:00:01');
    assert.equal(convertField(0, 'D'), '');
    assert.equal(formatField(convertField(new PyFloat(0), 'd'), '%H:%M::>6h'), '     -');
    const t = new Date(2026, 0, 2, 3, 4, 5).getTime() / 1000;
    assert.equal(formatField(convertField(t, 'd'), '%H:%M'), '03:04');
    assert.equal(formatField(convertField(t, 'd'), '%F::>12'), '  2026-01-02');
    assert.equal(fsd(0.0004), '0s');
    assert.equal(fsd(Infinity), 'inf');
  });
  test('format strings: literal braces, conversions, specs', () => {
    assert.deepEqual(parseFormat('a{{b}} {x!F:>8h}|{y}'), [
      { text: 'a{b} ', field: 'x', conv: 'F', spec: '>8h' },
      { text: '|', field: 'y', conv: '', spec: '' },
    ]);
    assert.throws(() => parseFormat('{x'), /expected '}'/);
  });
});

describe('flux jobs output from captured job-list records', () => {
  function records(file: string): JobInfo[] {
    const v = readVector<{
      messages: Array<{ dir: string; decoded: { topic: string; payload: string | null; errnum?: number } }>;
    }>(file);
    const out: JobInfo[] = [];
    for (const m of v.messages) {
      if (m.dir !== 'b2c' || m.decoded.topic !== 'job-list.list' || !m.decoded.payload) continue;
      const p = parseJson(m.decoded.payload) as { jobs: Array<Record<string, unknown>> };
      for (const j of p.jobs) out.push(new JobInfo({ ...j, id: toJobId(j.id) }));
    }
    return out;
  }
  const fmt = () => new OutputFormat<JobInfo>(JOBS_FORMATS.default!.format, headingsFor([]), (j, f) => j.field(f));

  test('annotations print as Python json.dumps prints them', () => {
    const j = new JobInfo({ id: 1n, annotations: { sched: { t_estimate: 1.5, reason: 'héllo' }, user: { n: 2 } } });
    const f = new OutputFormat<JobInfo>('{annotations}|{sched}|{user}', headingsFor([]), (x, name) => x.field(name));
    assert.equal(
      f.prepare([j]).format(j),
      '{"sched": {"t_estimate": 1.5, "reason": "h\\u00e9llo"}, "user": {"n": 2}}|{"t_estimate": 1.5, "reason": "h\\u00e9llo"}|{"n": 2}',
    );
  });

  test(
    'flux jobs -a: header and every line byte for byte',
    { skip: usernameOf(0) !== 'root' && 'uid 0 is not root here' },
    () => {
      const jobs = records('cli-jobs-a.json');
      const f = fmt().prepare(jobs);
      const text = [f.header(), ...jobs.map((j) => f.format(j))].join('\n') + '\n';
      assert.equal(text, readVector<{ stdout: string }>('cli-jobs-a.json').stdout);
    },
  );

  test(
    'flux jobs --stats -a: held (S, -, -, held) and inactive lines',
    { skip: usernameOf(0) !== 'root' && 'uid 0 is not root here' },
    () => {
      const jobs = records('cli-jobs-stats.json');
      const f = fmt().prepare(jobs);
      const want = readVector<{ stdout: string }>('cli-jobs-stats.json').stdout.split('\n');
      const got = [f.header(), ...jobs.map((j) => f.format(j))];
      // want: stats line, [exit 0], stats line, header, rows (the running job's runtime is live)
      assert.equal(got[0], want[3]);
      assert.equal(got[1], want[4]);
      assert.equal(got[1], '    ƒ2k9S17V root     true        S      1      -        - held');
      for (let i = 3; i < got.length; i++) assert.equal(got[i], want[i + 3], `row ${i}`);
      assert.match(got[2]!, /^ {4}ƒ2nyzdPm root {5}sleep {7}R {6}1 {6}1 +\S+[smhd] vm$/);
    },
  );

  test('the attrs requested for the default format are the ones flux requests', () => {
    const v = readVector<{ messages: Array<{ dir: string; decoded: { payload: string } }> }>('cli-jobs-a.json');
    const req = JSON.parse(v.messages[0]!.decoded.payload) as { attrs: string[] };
    const fields = new OutputFormat(JOBS_FORMATS.default!.format, HEADINGS, () => '').fields;
    assert.deepEqual(fieldsToAttrs(fields).sort(), [...req.attrs].sort());
  });

  test('summary.json: {id} {result} {returncode} {status} for every scenario', () => {
    const f = new OutputFormat<JobInfo>('{id} {result} {returncode} {status}', HEADINGS, (j, x) => j.field(x));
    assert.equal(f.header(), 'JOBID RESULT RC STATUS');
    const mk = (rec: Record<string, unknown>) => f.format(new JobInfo({ id: 2367560704n, state: 64, ...rec }));
    assert.equal(
      mk({ result: 1, waitstatus: 0 }),
      'ƒ4gpVRKY COMPLETED 0 COMPLETED'.replace('ƒ4gpVRKY', new JobInfo({ id: 2367560704n }).id.f58),
    );
    assert.match(mk({ result: 2, waitstatus: 256 }), / FAILED 1 FAILED$/);
    assert.match(mk({ result: 4 }), / CANCELED -128 CANCELED$/);
    assert.match(mk({ result: 4, waitstatus: 36608 }), / CANCELED 143 CANCELED$/);
    assert.match(mk({ result: 8, waitstatus: 36352 }), / TIMEOUT 142 TIMEOUT$/);
    assert.match(mk({ result: 2, waitstatus: 9 }), / FAILED -9 FAILED$/);
  });

  test('?: drops a field that is empty on every row; {id:>12} is the decimal id', () => {
    const f = new OutputFormat<JobInfo>('{id.f58} ?:{queue:<8.8} {name}|{id:>12}', HEADINGS, (j, x) => j.field(x));
    const j = new JobInfo({ id: 42n, name: 'x' });
    assert.equal(f.prepare([j]).format(j), 'ƒj x|          42');
    const q = new JobInfo({ id: 42n, name: 'x', queue: 'batch' });
    assert.equal(f.prepare([q]).format(q), 'ƒj batch    x|          42');
  });

  test('filters: states and results', () => {
    assert.deepEqual(parseFilters(['pending', 'running']), { states: 62, results: 0 });
    assert.deepEqual(parseFilters(['completed', 'canceled', 'timeout']), { states: 0, results: 13 });
    assert.throws(() => parseFilters(['bogus']), /Invalid filter specified: bogus/);
  });
});

describe('resource sets', () => {
  test('free = all - allocated - down, per rank', () => {
    const R = (lite: unknown[], nodelist: string[]) => ({ version: 1, execution: { R_lite: lite, nodelist } });
    const all = ResourceSet.fromRv1(R([{ rank: '0-1', children: { core: '0-3', gpu: '0' } }], ['n[0-1]']));
    const alloc = ResourceSet.fromRv1(
      R(
        [
          { rank: '0', children: { core: '0-3', gpu: '0' } },
          { rank: '1', children: { core: '0' } },
        ],
        ['n[0-1]'],
      ),
    );
    const free = all.minus(alloc);
    assert.deepEqual([free.nnodes, free.ncores, free.ngpus, free.nodelist()], [1, 3, 1, 'n1']);
    assert.deepEqual([all.nnodes, all.ncores, all.ngpus, all.nodelist()], [2, 8, 2, 'n[0-1]']);
  });
});
