/**
 * Flux's run/submit options that tsflux does not implement are refused with an error naming
 * them (before anything is submitted), and what they put in a jobspec that the instance would
 * not honour is refused at submit; what is honoured works from the command line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tsflux, type Result } from '../helpers/cli.js';
import { Instance } from '../../src/broker/instance.js';

process.env.LC_ALL = 'C.UTF-8';
delete process.env.FLUX_F58_FORCE_ASCII;

let inst: Instance;
before(async () => {
  inst = await Instance.start({ cores: '2', gpus: '0', killTimeout: 1 });
});
after(async () => {
  await inst.stop();
});
const run = (args: string[]): Promise<Result> => tsflux(args, inst.uri);

test('flux options tsflux does not implement: an error naming each, exit code 1', async () => {
  const perResource = 'per-resource options are not supported by tsflux (use -n, -c, -g)';
  const cases: [string[], string][] = [
    [['run', '--cores=2', 'true'], `tsflux: run: --cores: ${perResource}\n`],
    [['submit', '--tasks-per-node=1', 'true'], `tsflux: submit: --tasks-per-node: ${perResource}\n`],
    [['submit', '--tasks-per-core=1', 'true'], `tsflux: submit: --tasks-per-core: ${perResource}\n`],
    [['mini', 'run', '--gpus-per-node=1', 'true'], `tsflux: mini run: --gpus-per-node: ${perResource}\n`],
    [
      ['submit', '--requires=amd', 'true'],
      'tsflux: submit: --requires: job constraints (RFC 31) are not supported by tsflux\n',
    ],
    [
      ['run', '--begin-time=+1h', 'true'],
      'tsflux: run: --begin-time: the begin-time dependency is not supported by tsflux\n',
    ],
    [
      ['submit', '--dry-run', '--add-file=x', 'true'],
      'tsflux: submit: --add-file: files in the jobspec (RFC 37) are not supported by tsflux\n',
    ],
    [['submit', '--log=out', 'true'], 'tsflux: submit: --log: not supported by tsflux\n'],
    [['submit', '--log-stderr=err', 'true'], 'tsflux: submit: --log-stderr: not supported by tsflux\n'],
    [['submit', '-v', '--wait', 'true'], 'tsflux: submit: -v, --verbose: not supported by tsflux submit\n'],
    [['run', '-vv', 'true'], 'tsflux: run: -vv: more than one -v is not supported by tsflux run\n'],
    [['submit', '--input=0', 'cat'], 'tsflux: submit: per-task input not supported for submit\n'],
  ];
  for (const [args, stderr] of cases) {
    assert.deepEqual(await run(args), { rc: 1, stdout: '', stderr }, args.join(' '));
  }
});

test('what options put in the jobspec and the instance would not honour: refused at submit', async () => {
  const opt = 'attributes.system.shell.options';
  const cases: [string[], string][] = [
    [['run', '--taskmap=cyclic', 'true'], `tsflux-run: ERROR: ${opt}.taskmap: shell option not supported by tsflux\n`],
    [
      ['submit', '-o', 'cpu-affinity=off', 'true'],
      `[Errno 22] ${opt}.cpu-affinity: shell option not supported by tsflux\n`,
    ],
    [
      ['submit', '-l', '--output=/dev/null', 'true'],
      `[Errno 22] ${opt}.output.stdout.label: labelled output to a file (-l with --output) is not supported by tsflux\n`,
    ],
    [
      ['submit', '--setattr=system.files.x=1', 'true'],
      '[Errno 22] attributes.system.files: files in the jobspec (RFC 37, --add-file) are not supported by tsflux\n',
    ],
  ];
  for (const [args, stderr] of cases) {
    assert.deepEqual(await run(args), { rc: 1, stdout: '', stderr }, args.join(' '));
  }
  // --dry-run still prints flux's jobspec
  const dry = await run(['submit', '--dry-run', '--taskmap=cyclic', 'true']);
  assert.deepEqual(JSON.parse(dry.stdout).attributes.system.shell.options.taskmap, { scheme: 'cyclic', value: '' });
});

test('honoured from the command line: -u, --flags=debug, --signal, -B', async () => {
  assert.deepEqual(await run(['run', '-u', '--flags=debug', '-B', 'bank1', 'echo', 'x']), {
    rc: 0,
    stdout: 'x\n',
    stderr: '',
  });
  const r = await run(['run', '--signal=USR1@10', 'true']);
  assert.equal(r.rc, 0);
  assert.match(r.stderr, /flux-shell\[0\]: signal: job has no expiration, SIGUSR1 will not be sent\n$/);
  const s = await run(['run', '-t', '1m', '--signal=USR1@60', 'sleep', '300']);
  assert.equal(s.rc, 138, s.stderr);
  assert.match(s.stderr, /flux-shell\[0\]: signal: job will expire in 60\.0s, sending SIGUSR1 to job\n/);
});
