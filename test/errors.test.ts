/**
 * Every error tsflux hands to a user (client library caller, CLI, broker response) is a
 * FluxError with the errno flux-core would use, thrown here by the code path that really throws
 * it; its class, name and message stay what callers check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Errno, FluxError, errnoName, errnoOf } from '../src/protocol/errno.js';
import { IdsetError, decodeIdset } from '../src/job/idset.js';
import { JobIdError, encodeJobId, parseJobId } from '../src/job/jobid.js';
import { EventlogError, JobException, parseEventlog } from '../src/job/eventlog.js';
import { FsdError, parseFsd } from '../src/job/fsd.js';
import { StateParseError, parseState } from '../src/job/states.js';
import { JobspecError, JobspecV1, ValueError, validateJobspec } from '../src/job/jobspec.js';
import { filterRlimits } from '../src/job/rlimits.js';
import { FluidGenerator, FluidGeneratorError } from '../src/job/fluid.js';
import { HostlistError, decodeHostlist } from '../src/job/hostlist.js';
import { ConstraintError, compileConstraint } from '../src/broker/job-list/constraint.js';
import { AttrError, compileAttrs } from '../src/broker/job-list/job.js';
import { SpawnerError } from '../src/broker/launcher/transport.js';
import { Broker } from '../src/broker/broker.js';
import type { Service } from '../src/broker/service.js';
import { FormatError, OutputFormat } from '../src/cli/lib/pyformat.js';
import { CliError, NoInstanceError, jobIdArg, openFlux } from '../src/cli/lib/util.js';
import { CancelledError, ExecutorError, FluxExecutor, FutureTimeoutError } from '../src/client/executor/index.js';
import { withInstance } from './helpers/instance.js';

/** `fn` throws an instance of `cls`, a FluxError with `errno`; returns it. */
function throwsFlux<E extends FluxError>(fn: () => unknown, cls: abstract new (...a: any[]) => E, errno: number): E {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  assert.ok(caught instanceof FluxError, `${cls.name} is a FluxError`);
  assert.equal(caught.errno, errno, `${cls.name} errno`);
  assert.equal(caught.code, errnoName(errno), `${cls.name} code`);
  return caught;
}

test('the job model: idset, job id, eventlog, FSD, state, jobspec, rlimit and FLUID errors', () => {
  const E = Errno;
  assert.match(throwsFlux(() => decodeIdset('1-x'), IdsetError, E.EINVAL).message, /invalid idset "1-x"/);
  const id = throwsFlux(() => parseJobId('bogus'), JobIdError, E.EINVAL);
  assert.equal(id.message, 'bogus: malformed input');
  assert.equal(id.name, 'JobIdError');
  assert.equal(throwsFlux(() => encodeJobId(1n, 'nosuch' as 'dec'), JobIdError, E.EPROTO).message, 'Unknown to=nosuch');
  assert.equal(throwsFlux(() => parseEventlog('{"name":"x"}\n'), EventlogError, E.EINVAL).line, 1);
  throwsFlux(() => parseFsd('1x'), FsdError, E.EINVAL);
  assert.equal(throwsFlux(() => parseState('Run'), StateParseError, E.EINVAL).message, "invalid job state 'Run'");
  throwsFlux(() => validateJobspec({}), JobspecError, E.EPERM);
  throwsFlux(() => JobspecV1.parse('{'), JobspecError, E.EINVAL);
  assert.equal(
    throwsFlux(() => filterRlimits(['bogus=1'], {}), ValueError, E.EINVAL).message,
    'Invalid rlimit "bogus"',
  );
  const g = new FluidGenerator({ generator: 0, epochMs: 0, clock: () => 2 ** 40 });
  throwsFlux(() => g.next(), FluidGeneratorError, E.EOVERFLOW);
});

test('a job exception is not a FluxError: a failed job is told from a failed call by its class', () => {
  const x = new JobException({ timestamp: 1, name: 'exception', context: { type: 'cancel', severity: 0, note: '' } });
  assert.ok(!(x instanceof FluxError));
});

test('job-list and launcher errors: hostlist, constraint, attrs, spawner', () => {
  throwsFlux(() => decodeHostlist('node[1-'), HostlistError, Errno.EINVAL);
  const c = throwsFlux(() => compileConstraint({ nosuch: [] }), ConstraintError, Errno.EPROTO);
  assert.equal(c.name, 'ConstraintError');
  assert.match(throwsFlux(() => compileAttrs(['nosuch']), AttrError, Errno.EINVAL).message, /nosuch/);
  // the launcher's codes: errno names, and ESPAWNER (the launcher is gone) as EIO
  assert.equal(new SpawnerError('EEXIST', 'task 1.0 is already outstanding').errno, Errno.EEXIST);
  const gone = new SpawnerError('ESPAWNER', 'task launcher is not running');
  assert.ok(gone instanceof FluxError);
  assert.equal(gone.errno, Errno.EIO);
  assert.equal(gone.code, 'ESPAWNER');
});

test('the broker answers a thrown error with its errno (a Node system error with its code, not -errno)', async () => {
  const broker = new Broker({ hostname: 'vm' });
  const logs: string[] = [];
  broker.logger = (level, text) => logs.push(`${level}: ${text}`);
  const svc: Service = {
    name: 'thrower',
    methods: {
      range: { roles: 'internal', handler: (r) => r.respond({ ids: decodeIdset(String(r.payload?.ranks)) }) },
      read: {
        roles: 'internal',
        handler: (r) => r.respond({ text: fs.readFileSync(String(r.payload?.path), 'utf8') }),
      },
      spawn: {
        roles: 'internal',
        handler: () => {
          throw new SpawnerError('ESPAWNER', 'task launcher is not running');
        },
      },
    },
  };
  broker.register(svc);
  await broker.start();
  await assert.rejects(
    broker.rpc('thrower.range', { ranks: '0-x' }),
    (e: FluxError) => e.errno === Errno.EINVAL && /invalid idset "0-x"/.test(e.message),
  );
  await assert.rejects(broker.rpc('thrower.read', { path: '/nonexistent/tsflux' }), (e: FluxError) => e.errno === 2);
  await assert.rejects(broker.rpc('thrower.spawn'), (e: FluxError) => e.errno === Errno.EIO);
  assert.equal(logs.length, 3, 'each thrown error is logged');
  assert.equal(errnoOf(new Error('plain'), Errno.EIO), Errno.EIO);
  await broker.stop();
});

test('the CLI: CliError, FormatError, NoInstanceError', async () => {
  let e = throwsFlux(() => jobIdArg('bogus'), CliError, Errno.EINVAL);
  assert.equal(e.message, 'tsflux-job: bogus: malformed input');
  assert.equal(e.exitCode, 1);
  assert.ok(e.cause instanceof JobIdError);
  e = new CliError('tsflux-job: No such job', 1, { cause: new FluxError(Errno.ENOENT, 'No such job') });
  assert.equal(e.errno, Errno.ENOENT, 'wrapping an instance error keeps its errno');
  assert.equal(new CliError('tsflux-job: usage', 2).errno, Errno.EINVAL);
  assert.equal(new CliError('').message, '', 'an empty CliError prints nothing (exit code only)');
  throwsFlux(() => new OutputFormat('{id', {}, () => ''), FormatError, Errno.EINVAL);

  const saved = process.env['FLUX_URI'];
  try {
    delete process.env['FLUX_URI'];
    await assert.rejects(openFlux(), (err: unknown) => err instanceof NoInstanceError && err.errno === Errno.ENOENT);
    process.env['FLUX_URI'] = 'local:///nonexistent/tsflux/local-0';
    await assert.rejects(
      openFlux(),
      (err: unknown) =>
        err instanceof NoInstanceError &&
        err.cause instanceof FluxError &&
        err.errno === err.cause.errno &&
        err.errno === Errno.ENOENT,
    );
  } finally {
    if (saved === undefined) delete process.env['FLUX_URI'];
    else process.env['FLUX_URI'] = saved;
  }
});

test('the executor: CancelledError, FutureTimeoutError, ExecutorError', async () => {
  await withInstance(async (inst) => {
    const executor = new FluxExecutor({ uri: inst.uri });
    const spec = JobspecV1.fromCommand(['true'], { environment: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    const held = executor.submit(spec, { urgency: 0 });
    await held.jobid();
    // a held job has no result: a wait of 0 ms ends by its timeout, whatever the load
    await assert.rejects(
      held.result(0),
      (err: unknown) => err instanceof FutureTimeoutError && err.errno === Errno.ETIMEDOUT && err.code === 'ETIMEDOUT',
    );
    held.cancel();
    await assert.rejects(
      held.result(),
      (err: unknown) => err instanceof CancelledError && err.errno === Errno.ECANCELED,
    );

    const rejected = executor.submit(spec, { urgency: 40 });
    await assert.rejects(
      rejected.jobid(),
      (err: unknown) => err instanceof ExecutorError && err.cause instanceof FluxError && err.errno === Errno.EINVAL,
    );
    await executor.shutdown();
    assert.throws(
      () => executor.submit(spec),
      (err: unknown) => err instanceof ExecutorError && err.errno === Errno.ESHUTDOWN,
    );
  });
});
