/**
 * Every jobspec attribute and shell option a job may carry is either honoured by the instance
 * or refused at submit with a text naming it (EINVAL), never stored and ignored: the refusals,
 * the attributes flux-core itself only stores, and the options implemented for this (the debug
 * submit flag, output.mode, signal, gpu-affinity), through a real instance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withInstance } from '../helpers/instance.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { FluxError } from '../../src/protocol/errno.js';
import type { Flux } from '../../src/client/handle.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function spec(cmd: string[], attrs: Record<string, unknown> = {}, o: Record<string, unknown> = {}): JobspecV1 {
  const s = JobspecV1.fromCommand(cmd, { environment: env, ...o });
  for (const [k, v] of Object.entries(attrs)) s.setattr(k, v);
  return s;
}

async function names(h: Flux, id: bigint): Promise<string[]> {
  const out: string[] = [];
  for await (const ev of job.eventWatch(h, id)) out.push(ev.name);
  return out;
}

/** The job's output: stdout text by rank, and the shell's log messages. */
async function output(h: Flux, id: bigint): Promise<{ stdout: string; log: string[] }> {
  let stdout = '';
  const log: string[] = [];
  for await (const ev of job.eventWatch(h, id, { path: 'guest.output' })) {
    const c = ev.context as Record<string, any>;
    if (ev.name === 'data' && c.stream === 'stdout' && typeof c.data === 'string') stdout += c.data;
    if (ev.name === 'log') log.push(`${c.component}: ${c.message}`);
  }
  return { stdout, log };
}

test('what the instance would not honour is refused at submit, naming it (EINVAL)', async () => {
  await withInstance(async (_i, h) => {
    const refused: [Record<string, unknown>, string][] = [
      [
        { 'system.constraints': { properties: ['amd'] } },
        'attributes.system.constraints: job constraints (RFC 31, --requires) are not supported by tsflux',
      ],
      [
        { 'system.files': { script: { data: 'x' } } },
        'attributes.system.files: files in the jobspec (RFC 37, --add-file) are not supported by tsflux',
      ],
      [
        { 'system.preemptible-after': 10 },
        'attributes.system.preemptible-after: preemption is not supported by tsflux',
      ],
      [
        { 'system.exec': { test: { run_duration: '1s' } } },
        "attributes.system.exec: job-exec's test and bulkexec settings are not supported by tsflux",
      ],
      [{ 'system.alloc-bypass': { R: {} } }, 'attributes.system.alloc-bypass: alloc-bypass is not supported by tsflux'],
      [{ 'system.shell.path': '/bin/sh' }, 'attributes.system.shell.path: not supported by tsflux'],
      [
        { 'system.shell.options.cpu-affinity': 'per-task' },
        'attributes.system.shell.options.cpu-affinity: shell option not supported by tsflux',
      ],
      [
        { 'system.shell.options.taskmap': { scheme: 'cyclic', value: '' } },
        'attributes.system.shell.options.taskmap: shell option not supported by tsflux',
      ],
      [{ 'system.shell.options.pty': 1 }, 'attributes.system.shell.options.pty: shell option not supported by tsflux'],
      [
        { 'system.shell.options.env-expand': { X: '{{tmpdir}}' } },
        'attributes.system.shell.options.env-expand: shell option not supported by tsflux',
      ],
      [
        { 'system.shell.options.output.stdout': { type: 'file', path: 'o', label: true } },
        'attributes.system.shell.options.output.stdout.label: labelled output to a file (-l with --output) is not supported by tsflux',
      ],
      [
        { 'system.shell.options.output.stdout': { type: 'kvs', buffer: { type: 'line' } } },
        'attributes.system.shell.options.output.stdout.buffer.type: "line" is not supported by tsflux (output is never buffered: none)',
      ],
      [
        { 'system.shell.options.output.stderr': { type: 'term' } },
        'attributes.system.shell.options.output.stderr.type: "term" is not supported by tsflux (file or kvs)',
      ],
      [
        { 'system.shell.options.output.limit': '2G' },
        'attributes.system.shell.options.output.limit: 2G: must be more than 0 and at most 1G',
      ],
      [
        { 'system.shell.options.output.limit': 'lots' },
        'attributes.system.shell.options.output.limit: invalid size "lots" (a number with k, M, G, ...)',
      ],
      [
        { 'system.shell.options.output.limit': 0 },
        'attributes.system.shell.options.output.limit: 0: must be more than 0 and at most 1G',
      ],
      [
        { 'system.shell.options.output.mode': 'overwrite' },
        'attributes.system.shell.options.output.mode: must be "truncate" or "append"',
      ],
      [
        { 'system.shell.options.input.stdin': { type: 'kvs' } },
        'attributes.system.shell.options.input.stdin.type: "kvs" is not supported by tsflux (file)',
      ],
      [
        { 'system.shell.options.signal': { signum: 10, timeleft: 'soon' } },
        'attributes.system.shell.options.signal: timeleft: must be seconds >= 0 or a duration (FSD)',
      ],
      [
        { 'system.shell.options.gpu-affinity': 'map:0' },
        'attributes.system.shell.options.gpu-affinity: must be "on", "off" or "per-task"',
      ],
    ];
    for (const [attrs, text] of refused) {
      await assert.rejects(
        job.submit(h, spec(['true'], attrs)),
        (e: unknown) => e instanceof FluxError && e.errno === 22 && e.message === text,
        text,
      );
    }
    const js = spec(['true']).toJSON();
    js.tasks = [{ ...js.tasks[0]!, attributes: { environment: { X: '1' } } }];
    await assert.rejects(
      job.submit(h, JSON.stringify(js)),
      (e: unknown) =>
        e instanceof FluxError &&
        e.errno === 22 &&
        e.message === 'tasks[0].attributes: per-task attributes are not supported by tsflux',
    );
    // the owner's novalidate does not get around it
    await assert.rejects(
      job.submitAsync(h, spec(['true'], { 'system.shell.options.pty': 1 }), { novalidate: true }),
      (e: unknown) => e instanceof FluxError && e.errno === 22,
    );
  });
});

test('what flux-core only stores is accepted and stored: bank, project, job metadata, user, other keys', async () => {
  await withInstance(async (_i, h) => {
    const id = await job.submit(
      h,
      spec(['true'], {
        'system.bank': 'b1',
        'system.project': 'p1',
        'system.job.tag': 'x',
        'user.anything': { a: 1 },
        'system.site-note': 'kept',
        'system.constraints': {},
        'system.shell.options.output.batch-timeout': 0.05,
        'system.shell.options.input.batch-timeout': 0,
        'system.shell.options.output.stdout': { type: 'kvs', buffer: { type: 'none' }, label: false },
      }),
      { waitable: true },
    );
    assert.equal((await job.wait(h, id)).success, true);
    const rec = await job.listId(h, id, ['bank', 'project']);
    assert.deepEqual([rec.bank, rec.project], ['b1', 'p1']);
    const stored = JSON.parse((await job.lookup(h, id, ['jobspec']))['jobspec']!);
    assert.equal(stored.attributes.system['site-note'], 'kept');
    assert.deepEqual(stored.attributes.user, { anything: { a: 1 } });
  });
});

test('the debug submit flag posts debug.alloc-request and debug.free-request, as flux-core', async () => {
  await withInstance(async (_i, h) => {
    const id = await job.submit(h, spec(['true']), { debug: true, waitable: true });
    await job.wait(h, id);
    assert.deepEqual(await names(h, id), [
      'submit',
      'validate',
      'depend',
      'priority',
      'debug.alloc-request',
      'alloc',
      'start',
      'finish',
      'release',
      'debug.free-request',
      'free',
      'clean',
    ]);
    const plain = await job.submit(h, spec(['true']), { waitable: true });
    await job.wait(h, plain);
    assert.ok(!(await names(h, plain)).some((n) => n.startsWith('debug.')));
  });
});

test('output.mode=append appends to the output file; the default truncates it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-mode-'));
  try {
    await withInstance(async (_i, h) => {
      const file = path.join(dir, 'out');
      const write = async (word: string, attrs: Record<string, unknown> = {}) => {
        const id = await job.submit(h, spec(['echo', word], attrs, { output: file }), { waitable: true });
        assert.equal((await job.wait(h, id)).success, true);
      };
      await write('one');
      await write('two', { 'system.shell.options.output.mode': 'append' });
      assert.equal(fs.readFileSync(file, 'utf8'), 'one\ntwo\n');
      await write('three');
      assert.equal(fs.readFileSync(file, 'utf8'), 'three\n');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('signal: sent timeleft before the time limit, and said in the job output; without a limit, not sent', async () => {
  await withInstance(async (_i, h) => {
    // timeleft = the whole time limit: the signal is due as soon as the tasks run
    const id = await job.submit(
      h,
      spec(['sleep', '300'], { 'system.shell.options.signal': { signum: 10, timeleft: 600 } }, { duration: 600 }),
      { waitable: true },
    );
    const r = await job.wait(h, id);
    assert.deepEqual(r, { jobid: id, success: false, errstr: 'task(s) User defined signal 1' });
    assert.deepEqual((await output(h, id)).log, ['signal: job will expire in 600.0s, sending SIGUSR1 to job']);
    const none = await job.submit(h, spec(['true'], { 'system.shell.options.signal': { signum: 10, timeleft: 60 } }), {
      waitable: true,
    });
    assert.equal((await job.wait(h, none)).success, true);
    assert.deepEqual((await output(h, none)).log, ['signal: job has no expiration, SIGUSR1 will not be sent']);
  });
});

test('gpu-affinity: CUDA_VISIBLE_DEVICES names the job’s GPUs (-1 with none), per task or not at all', async () => {
  await withInstance(
    async (_i, h) => {
      const show = ['sh', '-c', 'echo "$FLUX_TASK_RANK:${CUDA_VISIBLE_DEVICES-unset}:${CUDA_DEVICE_ORDER-unset}"'];
      const run = async (o: Record<string, unknown>, attrs: Record<string, unknown> = {}) => {
        const id = await job.submit(h, spec(show, attrs, o), { waitable: true });
        assert.equal((await job.wait(h, id)).success, true);
        return (await output(h, id)).stdout.split('\n').filter(Boolean).sort();
      };
      assert.deepEqual(await run({ gpusPerTask: 2 }), ['0:0,1:PCI_BUS_ID']);
      assert.deepEqual(await run({}), ['0:-1:unset']);
      assert.deepEqual(
        await run({ numTasks: 2, gpusPerTask: 1 }, { 'system.shell.options.gpu-affinity': 'per-task' }),
        ['0:0:PCI_BUS_ID', '1:1:PCI_BUS_ID'],
      );
      assert.deepEqual(await run({ gpusPerTask: 1 }, { 'system.shell.options.gpu-affinity': 'off' }), [
        '0:unset:unset',
      ]);
    },
    { cores: '2', gpus: '2' },
  );
});
