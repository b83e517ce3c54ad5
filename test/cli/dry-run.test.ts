import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readVector, tsfluxBin } from '../helpers/paths.js';

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-dryrun-'));
process.on('exit', () => fs.rmSync(cwd, { recursive: true, force: true }));

// a small environment like the vector's (env -i PATH=… HOME=… FLUX_URI=…)
const ENV: Record<string, string> = {
  HOME: '/root',
  FLUX_URI: 'local:///tmp/flux-test/local-0',
  PATH: '/usr/bin:/bin',
  PWD: cwd,
  LC_CTYPE: 'C.UTF-8',
};

function tsflux(args: string[], env: Record<string, string> = ENV) {
  const r = spawnSync(process.execPath, [tsfluxBin, ...args], { cwd, env, encoding: 'utf8' });
  return { rc: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Structure of a JSON value: same keys in the same order, same types, same nesting. */
function shape(v: unknown, skip: Set<string> = new Set(), at = ''): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shape(x, skip, `${at}[${i}]`));
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => [k, skip.has(`${at}.${k}`) ? 'object' : shape(x, skip, `${at}.${k}`)]);
  }
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v;
}

const vector: any = readVector('dry-run-sleep0.json');
const SKIP = new Set(['.attributes.system.environment']);

function checkDryRun(out: { rc: number | null; stdout: string; stderr: string }): void {
  assert.equal(out.stderr, '');
  assert.equal(out.rc, 0);
  assert.ok(out.stdout.endsWith('}\n'));
  assert.equal(out.stdout.split('\n').length, 2, 'one line');

  const got: any = JSON.parse(out.stdout);
  assert.deepEqual(shape(got, SKIP), shape(vector, SKIP));
  // Python json.dumps separators, as in the vector
  assert.ok(
    out.stdout.startsWith(
      '{"resources": [{"type": "slot", "count": 1, "with": [{"type": "core", "count": 1}], "label": "task"}], "tasks": [{"command": ["sleep", "0"], "slot": "task", "count": {"per_slot": 1}}], "attributes": {"system": {"duration": 0, "environment": {',
    ),
  );
  assert.deepEqual(got.attributes.system.environment, ENV);
  assert.deepEqual(Object.keys(got.attributes.system.environment), Object.keys(ENV));
  assert.equal(got.attributes.system.cwd, cwd);
  assert.deepEqual(
    Object.keys(got.attributes.system.shell.options.rlimit),
    Object.keys(vector.attributes.system.shell.options.rlimit),
  );
  // everything but environment, cwd and rlimit values is identical to real flux
  const strip = (j: typeof got) => {
    const c = structuredClone(j);
    delete c.attributes.system.environment;
    delete c.attributes.system.cwd;
    delete c.attributes.system.shell;
    return c;
  };
  assert.deepEqual(strip(got), strip(vector));
  // and with the vector's environment/cwd/rlimits substituted the bytes match
  const sys = got.attributes.system;
  const text = out.stdout
    .replace(
      JSON.stringify(sys.environment).replace(/","/g, '", "').replace(/":"/g, '": "'),
      JSON.stringify(vector.attributes.system.environment).replace(/","/g, '", "').replace(/":"/g, '": "'),
    )
    .replace(`"cwd": "${cwd}"`, `"cwd": "${vector.attributes.system.cwd}"`)
    .replace(
      /"rlimit": \{[^}]*\}/,
      `"rlimit": ${JSON.stringify(vector.attributes.system.shell.options.rlimit).replace(/,"/g, ', "').replace(/":/g, '": ')}`,
    );
  assert.equal(text, JSON.stringify(vector).replace(/,"/g, ', "').replace(/":/g, '": ') + '\n');
}

test('run --dry-run -n1 sleep 0 prints the jobspec exactly as flux does', () => {
  checkDryRun(tsflux(['run', '--dry-run', '-n1', 'sleep', '0']));
});

test('mini run --dry-run, submit --dry-run and mini submit --dry-run give the same', () => {
  const a = tsflux(['run', '--dry-run', '-n1', 'sleep', '0']).stdout;
  for (const args of [
    ['mini', 'run', '--dry-run', '-n1', 'sleep', '0'],
    ['submit', '--dry-run', '-n1', 'sleep', '0'],
    ['mini', 'submit', '--dry-run', '-n', '1', 'sleep', '0'],
    ['run', '-n1', '--dry-run', 'sleep', '0'],
    ['run', '--dry-run', '--ntasks=1', 'sleep', '0'],
  ]) {
    const out = tsflux(args);
    checkDryRun(out);
    assert.equal(out.stdout, a, args.join(' '));
  }
});

test('options after the command belong to the command', () => {
  const out = tsflux(['run', '--dry-run', 'ls', '-l', '--dry-run', '-n', '2']);
  assert.equal(out.rc, 0, out.stderr);
  const js = JSON.parse(out.stdout);
  assert.deepEqual(js.tasks[0].command, ['ls', '-l', '--dry-run', '-n', '2']);
  assert.equal(js.resources[0].count, 1);
});

test('jobspec options: -N/-n/-c/-g, -t, --env, --cwd, --job-name, -q, --setattr', () => {
  const out = tsflux([
    'run',
    '--dry-run',
    '-N2',
    '-n3',
    '-c2',
    '-g1',
    '-t',
    '5',
    '--env=-*',
    '--env=A=$HOME/x',
    '--env',
    'PATH',
    '--cwd=/work',
    '--job-name=j',
    '-q',
    'batch',
    '--setattr=user.tag=1.0',
    '--urgency=hold',
    'hostname',
  ]);
  assert.equal(out.rc, 0, out.stderr);
  assert.equal(
    out.stdout,
    '{"resources": [{"type": "node", "count": 2, "with": [{"type": "slot", "count": 2, "with": [{"type": "core", "count": 2}, {"type": "gpu", "count": 1}], "label": "task"}]}], ' +
      '"tasks": [{"command": ["hostname"], "slot": "task", "count": {"total": 3}}], ' +
      '"attributes": {"system": {"duration": 300.0, "environment": {"A": "/root/x", "PATH": "/usr/bin:/bin"}, "cwd": "/work", ' +
      `"shell": {"options": {"rlimit": ${JSON.stringify(JSON.parse(out.stdout).attributes.system.shell.options.rlimit).replace(/,"/g, ', "').replace(/":/g, '": ')}}}, ` +
      '"job": {"name": "j"}, "queue": "batch"}, "user": {"tag": 1.0}}, "version": 1}\n',
  );
});

test('submit --dry-run --cc prints the first copy with FLUX_JOB_CC; --bcc does not set it', () => {
  const cc = JSON.parse(tsflux(['submit', '--dry-run', '--cc=2-4', 'echo', '{cc}']).stdout);
  assert.equal(cc.attributes.system.environment.FLUX_JOB_CC, '2');
  assert.deepEqual(Object.keys(cc.attributes.system.environment).at(-1), 'FLUX_JOB_CC');
  assert.deepEqual(cc.tasks[0].command, ['echo', '2']);
  const bcc = JSON.parse(tsflux(['submit', '--dry-run', '--bcc=1', 'true']).stdout);
  assert.equal(bcc.attributes.system.environment.FLUX_JOB_CC, undefined);
});

test('bad options and arguments: message on stderr, exit 1', () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', '--dry-run', '--bogus', 'true'], /^tsflux: run: error: unknown option '--bogus'/],
    [['run', '--dry-run'], /^tsflux: run: error: missing required argument 'command'/],
    [['run', '--dry-run', '-n'], /^tsflux: run: error: option '-n, --ntasks <N>' argument missing/],
    [['run', '--dry-run', '-n', 'x', 'true'], /^tsflux: run: --ntasks: invalid int value 'x'\n$/],
    [['run', '--dry-run', '-n0', 'true'], /^tsflux: run: --ntasks: must be an integer >= 1 \(got 0\)\n$/],
    [
      ['mini', 'run', '--dry-run', '-N3', '-n2', 'true'],
      /^tsflux: mini run: --nodes: node count must not be greater than task count/,
    ],
    [
      ['run', '--dry-run', '-t', 'soon', 'true'],
      /^tsflux: run: --time-limit=soon: invalid Flux standard duration 'soon'/,
    ],
    [['run', '--dry-run', '-t', '-1', 'true'], /^tsflux: run: --time-limit=-1: duration must not be negative/],
    [['submit', '--dry-run', '--cc=1', '--bcc=2', 'true'], /^tsflux: submit: specify only one of --cc or --bcc/],
    [['submit', '--dry-run', '--cc=x', 'true'], /^tsflux: submit: --cc: invalid idset "x"/],
    [['run', '--dry-run', '--env=A=$NOPE', 'true'], /^tsflux: run: --env: Variable 'NOPE' not found in A=\$NOPE/],
    [['bogus'], /^tsflux: error: unknown command 'bogus'/],
    [['mini', 'bogus'], /^tsflux: mini: error: unknown command 'bogus'/],
  ];
  for (const [args, re] of cases) {
    const out = tsflux(args);
    assert.equal(out.rc, 1, args.join(' '));
    assert.equal(out.stdout, '', args.join(' '));
    assert.match(out.stderr, re, args.join(' '));
  }
});

test('without --dry-run there is no instance yet: clear error, exit 1', () => {
  const env = { ...ENV };
  delete env.FLUX_URI;
  const r = tsflux(['run', 'true'], env);
  assert.equal(r.rc, 1);
  assert.equal(r.stderr, 'tsflux: run: cannot connect: no instance (FLUX_URI not set)\n');
  const s = tsflux(['submit', 'true'], env);
  assert.equal(s.rc, 1);
  assert.equal(s.stderr, 'tsflux: submit: cannot connect: no instance (FLUX_URI not set)\n');
});

test('--help exits 0 on every verb; --version prints the package version', () => {
  for (const args of [
    ['--help'],
    ['run', '--help'],
    ['submit', '--help'],
    ['mini', '--help'],
    ['mini', 'run', '--help'],
    ['mini', 'submit', '-h'],
    ['job', '--help'],
    ['help', 'run'],
  ]) {
    const out = tsflux(args);
    assert.equal(out.rc, 0, args.join(' '));
    assert.match(out.stdout, /^Usage: tsflux/, args.join(' '));
  }
  const run = tsflux(['run', '--help']).stdout;
  for (const o of [
    '--ntasks',
    '--cores-per-task',
    '--gpus-per-task',
    '--nodes',
    '--exclusive',
    '--time-limit',
    '--env ',
    '--env-remove',
    '--cwd',
    '--job-name',
    '--output',
    '--error',
    '--input',
    '--urgency',
    '--dry-run',
  ]) {
    assert.ok(run.includes(o), o);
  }
  const sub = tsflux(['submit', '--help']).stdout;
  for (const o of ['--cc', '--bcc', '--quiet', '--wait']) assert.ok(sub.includes(o), o);
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(tsfluxBin), '..', 'package.json'), 'utf8'));
  const v = tsflux(['--version']);
  assert.equal(v.rc, 0);
  assert.equal(v.stdout, `${pkg.version}\n`);
});

test('--env, --env-remove and --env-file rules apply in command-line order', () => {
  const file = path.join(cwd, 'env-rules');
  fs.writeFileSync(file, 'Y=2\n-HOME\n');
  const out = tsflux([
    'run',
    '--dry-run',
    '-v',
    '--env-remove=*',
    '--env=HOME',
    '--env-file',
    file,
    '--env',
    'X=1',
    '--env-remove=Y',
    'true',
  ]);
  assert.equal(out.rc, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout).attributes.system.environment, { X: '1' });
  const only = tsflux(['run', '--dry-run', '--env-remove=FLUX_*', '--env-remove', 'LC_*', 'true']);
  assert.deepEqual(Object.keys(JSON.parse(only.stdout).attributes.system.environment), ['HOME', 'PATH', 'PWD']);
});
