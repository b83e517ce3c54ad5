import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildJobspec,
  ccList,
  filteredEnvironment,
  parseKeyval,
  parseSignalOption,
  parseSubmitFlags,
  parseUrgency,
  uriEntry,
  type SubmitCommandOptions,
} from '../../src/cli/lib/submit-options.js';
import { PyFloat } from '../../src/job/pyjson.js';

const ENV = { HOME: '/home/u', PATH: '/bin', FOO_A: '1', FOO_B: '2', LANG: 'C' };
const CTX = { environ: ENV, cwd: '/tmp/c', rlimits: { core: 0, nofile: 1024, memlock: 64 } };
const build = (cmd: string[], opts: SubmitCommandOptions = {}, cc?: number) => buildJobspec(cmd, opts, { ...CTX, cc });

test('default jobspec: env copy, cwd, filtered rlimits', () => {
  const js = build(['true']);
  assert.deepEqual(js.environment, ENV);
  assert.equal(js.cwd, '/tmp/c');
  assert.deepEqual(js.getattr('shell.options.rlimit'), { core: 0, nofile: 1024 });
  assert.equal(js.duration, 0);
  assert.match(js.dumps(), /"duration": 0,/);
});

test('-N without -n: one task per node, exclusive', () => {
  const js = build(['true'], { nodes: '2' });
  assert.deepEqual(js.resources[0], {
    type: 'node',
    count: 2,
    exclusive: true,
    with: [{ type: 'slot', count: 1, with: [{ type: 'core', count: 1 }], label: 'task' }],
  });
  assert.equal(js.numTasks, 2);
});

test('time limit: bare number is minutes, otherwise FSD; always a float', () => {
  assert.equal(build(['t'], { timeLimit: '1.5' }).duration, 90);
  assert.match(build(['t'], { timeLimit: '2' }).dumps(), /"duration": 120\.0/);
  assert.match(build(['t'], { timeLimit: '0' }).dumps(), /"duration": 0\.0/);
  assert.equal(build(['t'], { timeLimit: '30s' }).duration, 30);
  assert.equal(build(['t'], { timeLimit: '8.43m' }).duration, 505.8); // via timedelta, as flux
  assert.equal(build(['t'], { timeLimit: '8.43' }).duration, 505.79999999999995); // float('8.43')*60, as flux
  assert.throws(() => build(['t'], { timeLimit: 'inf' }), /--time-limit=inf: duration must be a normal, finite value/);
  assert.throws(() => build(['t'], { timeLimit: '1y' }), /--time-limit=1y: invalid Flux standard duration '1y'/);
});

test('env rules, in order', () => {
  const f = (rules: string[]) => filteredEnvironment(rules, ENV, ENV);
  assert.deepEqual(f(['-FOO_*']), { HOME: '/home/u', PATH: '/bin', LANG: 'C' });
  assert.deepEqual(f(['-*', 'FOO_?']), { FOO_A: '1', FOO_B: '2' });
  assert.deepEqual(f(['-/^FOO']), { HOME: '/home/u', PATH: '/bin', LANG: 'C' });
  assert.deepEqual(f(['-*', 'X=$HOME:${PATH}:$$']), { X: '/home/u:/bin:$' });
  assert.deepEqual(f(['PATH=/usr/bin', 'PATH=$PATH:/foo'])['PATH'], '/usr/bin:/foo');
  assert.throws(() => f(['X=$NOPE']), /--env: Variable 'NOPE' not found in X=\$NOPE/);
  assert.throws(() => f(['X=$']), /--env: Unable to substitute X=\$/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envf-'));
  const file = path.join(dir, 'rules');
  fs.writeFileSync(file, '-*\n\nFOO_A\nY=2\n');
  assert.deepEqual(f(['^' + file]), { FOO_A: '1', Y: '2' });
  fs.rmSync(dir, { recursive: true });
  assert.throws(() => f(['^/nonexistent/file']), /--env-file: ENOENT/);
  // programmatic envRemove / envFile come after env
  assert.deepEqual(build(['t'], { env: ['Z=1'], envRemove: ['Z', 'FOO*'] }).environment, {
    HOME: '/home/u',
    PATH: '/bin',
    LANG: 'C',
  });
});

test('io, label, unbuffered, setopt, setattr, queue, bank, signal, dependency, taskmap', () => {
  const js = build(['t'], {
    input: 'in',
    output: 'out',
    error: 'err',
    labelIo: true,
    unbuffered: true,
    setopt: ['foo', 'bar=2', 'baz={"a":1}', 'q=x y', 'f=1.0'],
    setattr: ['a=1', 'user.b=[1]', '.attributes.c=3', 'system.d=s'],
    queue: 'q',
    bank: 'b',
    signal: 'USR2@2m',
    dependency: ['afterok:123', 'begin-time:100?x=1&y=a'],
    taskmap: 'cyclic:2',
  });
  const o = js.getattr('shell.options') as Record<string, unknown>;
  assert.deepEqual(o['input'], { stdin: { type: 'file', path: 'in' } });
  assert.deepEqual(o['output'], {
    stdout: { type: 'file', path: 'out', label: true, buffer: { type: 'none' } },
    stderr: { type: 'file', path: 'err', label: true, buffer: { type: 'none' } },
    'batch-timeout': 0.05,
  });
  assert.deepEqual([o['foo'], o['bar'], o['baz'], o['q'], o['f']], [1, 2, { a: 1 }, 'x y', 1]);
  assert.deepEqual(o['signal'], { signum: 12, timeleft: 120 });
  assert.deepEqual(o['taskmap'], { scheme: 'cyclic', value: '2' });
  assert.equal(js.getattr('system.a'), 1);
  assert.deepEqual(js.getattr('user.b'), [1]);
  assert.equal(js.getattr('attributes.c'), 3); // ".attributes.c" → top-level attributes.c, as flux
  assert.equal(js.getattr('system.d'), 's');
  assert.equal(js.queue, 'q');
  assert.equal(js.bank, 'b');
  assert.deepEqual(js.getattr('system.dependencies'), [
    { scheme: 'afterok', value: '123' },
    { scheme: 'begin-time', value: '100', x: 1, y: 'a' },
  ]);
  assert.match(js.dumps(), /"f": 1\.0/);
  assert.match(js.dumps(), /"signal": \{"signum": 12, "timeleft": 120\.0\}/);
  // --input that is an idset is for `attach`, not a file
  assert.equal(build(['t'], { input: '0-1' }).stdin, undefined);
  // --output none/kvs is ignored
  assert.equal(build(['t'], { output: 'kvs' }).stdout, undefined);
});

test('small parsers', () => {
  assert.equal(parseUrgency(undefined), 16);
  assert.equal(parseUrgency('default'), 16);
  assert.equal(parseUrgency('hold'), 0);
  assert.equal(parseUrgency('expedite'), 31);
  assert.equal(parseUrgency('40'), 40); // range is checked by the instance, as flux
  assert.throws(() => parseUrgency('x'), /--urgency: invalid value 'x'/);
  assert.equal(parseSubmitFlags(['waitable,debug', 'novalidate']), 14);
  assert.throws(() => parseSubmitFlags(['bogus']), /--flags: Unknown flag bogus/);
  assert.deepEqual(ccList({}), [undefined]);
  assert.deepEqual(ccList({ cc: '1-3,5' }), [1, 2, 3, 5]);
  assert.deepEqual(ccList({ bcc: '0' }), [0]);
  assert.deepEqual(parseKeyval('--setopt', 'k'), ['k', 1]);
  assert.deepEqual(parseKeyval('--setopt', 'k='), ['k', '']);
  assert.ok(parseKeyval('--setopt', 'k=2.5')[1] instanceof PyFloat);
  assert.deepEqual(parseSignalOption(''), { signum: 10, timeleft: 60 });
  assert.deepEqual(parseSignalOption('SIGTERM'), { signum: 15, timeleft: 60 });
  assert.throws(() => parseSignalOption('0'), /--signal=0: signal must be > 0/);
  assert.throws(() => parseSignalOption('FOO'), /--signal=FOO: signal 'FOO' is invalid/);
  assert.deepEqual(uriEntry('block', 'taskmap'), { scheme: 'block', value: '' });
  assert.throws(() => uriEntry('1:x', 'dependency'), /Invalid dependency URI "1:x"/);
  assert.throws(() => build([]), /job command and arguments are missing/);
  assert.throws(() => build(['t'], { exclusive: true }), /--exclusive can only be used with --nodes/);
  assert.throws(() => build(['echo', '{x}'], {}, 1), /Invalid replacement string in command: '\{x\}'/);
  // flux keeps `{{`/`}}` as they are in a copy (Xcmd's preserve_mustache), not as str.format's `{`/`}`
  assert.deepEqual(build(['echo', '{{cc}}', '{cc}'], { cc: '7' }, 7).command, ['echo', '{{cc}}', '7']);
});

test('a copy of --cc/--bcc: {cc} formatted in the options flux formats, the others as given', () => {
  const opts: SubmitCommandOptions = {
    cc: '1-9',
    ntasks: '{cc}',
    nodes: '{cc}',
    coresPerTask: '{cc}',
    timeLimit: '{cc}m',
    env: ['N={cc}', '-DROP{cc}'],
    urgency: '{cc}',
    setopt: ['o{cc}={cc}'],
    setattr: ['user.n={cc:02d}', 'user.s=a{{b}}'],
    jobName: 'job{cc:03d}',
    input: 'in.{cc}',
    output: 'out.{cc}',
    error: 'err.{cc}',
    dependency: ['afterany:{cc}'],
    taskmap: 'cyclic:{cc}',
    cwd: '/tmp/{cc}',
    signal: 'SIGUSR{cc}@{cc}0',
    queue: 'q{cc}',
    bank: 'b{cc}',
    rlimit: ['core=5'],
  };
  const js = build(['true', '{cc}'], opts, 2);
  assert.deepEqual(js.command, ['true', '2']);
  assert.deepEqual(
    js.resources,
    build(['true'], { ntasks: '2', nodes: '2', coresPerTask: '2' }).resources,
    '-n, -N, -c',
  );
  assert.equal(js.duration, 120);
  assert.equal(js.environment?.N, '2');
  assert.equal(js.environment?.FLUX_JOB_CC, '2');
  assert.deepEqual(js.getattr('shell.options.o2'), 2);
  assert.equal(js.getattr('user.n'), '02', 'formatted, then read as JSON (02 is not JSON: a string, as in flux)');
  assert.equal(js.getattr('user.s'), 'a{{b}}');
  assert.equal(js.getattr('system.job.name'), 'job002');
  assert.equal(js.stdin, 'in.2');
  assert.equal(js.stdout, 'out.2');
  assert.equal(js.stderr, 'err.2');
  assert.deepEqual(js.getattr('system.dependencies'), [{ scheme: 'afterany', value: '2' }]);
  assert.deepEqual(js.getattr('shell.options.taskmap'), { scheme: 'cyclic', value: '2' });
  assert.equal(js.cwd, '/tmp/2');
  assert.match(js.dumps(), /"signal": \{"signum": 12, "timeleft": 20\.0\}/);
  assert.equal(js.getattr('system.queue'), 'q2');
  assert.equal(js.getattr('system.bank'), 'b2');
  assert.deepEqual(js.getattr('shell.options.rlimit'), { core: 5, nofile: 1024 });
  // --rlimit is not one flux formats
  assert.throws(() => build(['true'], { rlimit: ['core={cc}'] }, 2), /Invalid value in core=\{cc\}/);
  // without --cc/--bcc nothing is formatted: flux formats copies only
  const one = build(['true', '{cc}'], { jobName: 'job{cc}', output: 'out.{x}' });
  assert.deepEqual(one.command, ['true', '{cc}']);
  assert.equal(one.getattr('system.job.name'), 'job{cc}');
  assert.equal(one.stdout, 'out.{x}');
});

test("a copy's option errors name the option, in flux's words", () => {
  assert.throws(() => build(['true'], { jobName: 'a{x}' }, 1), {
    message: "Replacement key 'x' not found in '--job-name=a{x}'",
  });
  assert.throws(() => build(['true'], { ntasks: '{}' }, 1), { message: "Invalid replacement index in '-n{}'" });
  assert.throws(() => build(['true'], { setopt: ['a', 'b{0}'] }, 1), {
    message: "Invalid replacement index in '-o b{0}'",
  });
  assert.throws(() => build(['true'], { output: 'a}' }, 1), {
    message: "--output=a}: Single '}' encountered in format string",
  });
  assert.throws(() => build(['true'], { ntasks: '{cc:q}' }, 1), {
    message: "-n {cc:q}: Unknown format code 'q' for object of type 'int'",
  });
  assert.throws(() => build(['true'], { ntasks: '{cc}' }, 0), /--ntasks: must be an integer >= 1 \(got 0\)/);
  assert.throws(() => build(['echo', '{cc:q}'], {}, 1), {
    message: "command argument '{cc:q}': Unknown format code 'q' for object of type 'int'",
  });
});
