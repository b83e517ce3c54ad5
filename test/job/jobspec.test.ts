import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { vectorsDir } from '../helpers/paths.js';
import { JobspecError, JobspecV1, ValueError, attrKeyPrepend, validateJobspec } from '../../src/job/jobspec.js';
import { PyFloat } from '../../src/job/pyjson.js';

const ENV = { HOME: '/root', PATH: '/usr/bin:/bin' };
const vectorText = fs.readFileSync(path.join(vectorsDir, 'dry-run-sleep0.json'), 'utf8');

const vector: any = JSON.parse(vectorText);

function js(command = ['sleep', '0'], opts = {}): JobspecV1 {
  return JobspecV1.fromCommand(command, { environment: ENV, ...opts });
}

test('fromCommand default layout: slot(1)>core(1), per_slot 1, duration 0', () => {
  const s = js();
  assert.equal(
    s.dumps(),
    '{"resources": [{"type": "slot", "count": 1, "with": [{"type": "core", "count": 1}], "label": "task"}], ' +
      '"tasks": [{"command": ["sleep", "0"], "slot": "task", "count": {"per_slot": 1}}], ' +
      '"attributes": {"system": {"duration": 0, "environment": {"HOME": "/root", "PATH": "/usr/bin:/bin"}}}, "version": 1}',
  );
  assert.deepEqual(s.command, ['sleep', '0']);
  assert.equal(s.numTasks, 1);
  assert.equal(s.totalCores, 1);
  assert.equal(s.totalGpus, 0);
  assert.equal(s.numNodes, undefined);
  assert.equal(s.numSlots, 1);
  assert.equal(s.duration, 0);
  assert.equal(s.exclusive, false);
});

test('fromCommand reproduces the real dry-run jobspec', () => {
  const sys = vector.attributes.system;
  const s = JobspecV1.fromCommand(['sleep', '0'], {
    environment: sys.environment,
    cwd: sys.cwd,
    rlimits: sys.shell.options.rlimit,
  });
  assert.equal(s.dumps() + '\n', vectorText);
  assert.deepEqual(s.toJSON(), vector);
});

test('fromCommand: environment undefined copies process.env', () => {
  const s = JobspecV1.fromCommand(['true']);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  assert.deepEqual(s.environment, env);
});

test('fromCommand layouts: cores, gpus, nodes, uneven tasks, exclusive', () => {
  const a = js(['a'], { numTasks: 4, coresPerTask: 2, gpusPerTask: 1 });
  assert.deepEqual(a.resources, [
    {
      type: 'slot',
      count: 4,
      with: [
        { type: 'core', count: 2 },
        { type: 'gpu', count: 1 },
      ],
      label: 'task',
    },
  ]);
  assert.deepEqual(a.tasks[0]!.count, { per_slot: 1 });
  assert.equal(a.numTasks, 4);
  assert.equal(a.totalCores, 8);
  assert.equal(a.totalGpus, 4);
  assert.deepEqual(a.resourceCounts(), { slot: 4, core: 8, gpu: 4 });

  assert.equal(js(['a'], { gpusPerTask: 0 }).resources[0]!.with!.length, 1);

  const b = js(['a'], { numTasks: 4, numNodes: 2 });
  assert.deepEqual(b.resources, [
    { type: 'node', count: 2, with: [{ type: 'slot', count: 2, with: [{ type: 'core', count: 1 }], label: 'task' }] },
  ]);
  assert.deepEqual(b.tasks[0]!.count, { per_slot: 1 });
  assert.equal(b.numTasks, 4);
  assert.equal(b.numSlots, 4);
  assert.equal(b.numNodes, 2);

  const c = js(['a'], { numTasks: 3, numNodes: 2, exclusive: true, coresPerTask: 2 });
  assert.equal(
    JSON.stringify(c.resources),
    '[{"type":"node","count":2,"exclusive":true,"with":[{"type":"slot","count":2,"with":[{"type":"core","count":2}],"label":"task"}]}]',
  );
  assert.deepEqual(c.tasks[0]!.count, { total: 3 });
  assert.equal(c.numTasks, 3);
  assert.equal(c.totalCores, 8); // 2 nodes × 2 slots × 2 cores (the uneven layout wastes a slot)
  assert.equal(c.exclusive, true);
});

test('fromCommand errors name the bad option', () => {
  const bad: Array<[object, RegExp]> = [
    [{ numTasks: 0 }, /^numTasks must be an integer >= 1 \(got 0\)$/],
    [{ numTasks: -1 }, /^numTasks must be an integer >= 1/],
    [{ numTasks: 1.5 }, /^numTasks must be an integer >= 1/],
    [{ coresPerTask: 0 }, /^coresPerTask must be an integer >= 1/],
    [{ gpusPerTask: -1 }, /^gpusPerTask must be an integer >= 0/],
    [{ numNodes: 0 }, /^numNodes must be an integer >= 1/],
    [{ numNodes: 2, numTasks: 1 }, /^numNodes must not be greater than numTasks/],
    [{ exclusive: true }, /^exclusive can only be set with numNodes$/],
    [{ duration: -1 }, /^duration must not be negative$/],
    [{ duration: NaN }, /^duration must be a normal, finite value$/],
    [{ duration: Infinity }, /^duration must be a normal, finite value$/],
    [{ duration: 'inf' }, /^duration must be a normal, finite value$/],
    [{ duration: 'soon' }, /invalid Flux standard duration 'soon'/],
  ];
  for (const [opts, re] of bad) {
    assert.throws(
      () => js(['a'], opts),
      (e: unknown) => e instanceof Error && re.test(e.message),
      JSON.stringify(opts),
    );
  }
  assert.throws(() => js([]), ValueError);
  assert.throws(() => JobspecV1.fromCommand([1 as unknown as string]), /command must be an array of strings/);
  try {
    js(['a'], { numTasks: 0 });
  } catch (e) {
    assert.ok(e instanceof ValueError && e.errno === 22);
  }
});

test('duration is stored as a float like Python', () => {
  assert.match(js(['a'], { duration: 60 }).dumps(), /"duration": 60\.0,/);
  const h = js(['a'], { duration: '1h' });
  assert.equal(h.duration, 3600);
  assert.match(h.dumps(), /"duration": 3600\.0,/);
  assert.equal(h.toJSON().attributes.system.duration, 3600);
  const s = js();
  s.duration = '1.1m';
  assert.equal(s.duration, 66);
  s.duration = 0;
  assert.match(s.dumps(), /"duration": 0\.0,/);
});

test('extra options, in Python key order', () => {
  const s = js(['a'], {
    duration: '30s',
    envExpand: { X: '{{tmpdir}}' },
    cwd: '/tmp',
    rlimits: { core: 0 },
    name: 'myjob',
    input: 'in.txt',
    output: 'out.txt',
    error: 'err.txt',
    labelIO: true,
    unbuffered: true,
    queue: 'batch',
    bank: 'b1',
  });
  assert.equal(
    JSON.stringify(s.attributes.system),
    JSON.stringify({
      duration: 30,
      environment: ENV,
      shell: {
        options: {
          'env-expand': { X: '{{tmpdir}}' },
          rlimit: { core: 0 },
          input: { stdin: { type: 'file', path: 'in.txt' }, 'batch-timeout': 0 },
          output: {
            stdout: { type: 'file', path: 'out.txt', label: true, buffer: { type: 'none' } },
            stderr: { type: 'file', path: 'err.txt', label: true, buffer: { type: 'none' } },
            'batch-timeout': 0.05,
          },
        },
      },
      cwd: '/tmp',
      job: { name: 'myjob' },
      queue: 'batch',
      bank: 'b1',
    }),
  );
  assert.match(s.dumps(), /"input": \{"stdin": \{"type": "file", "path": "in.txt"\}, "batch-timeout": 0\.0\}/);
  assert.equal(s.stdin, 'in.txt');
  assert.equal(s.stdout, 'out.txt');
  assert.equal(s.stderr, 'err.txt');
  assert.equal(s.input, 'in.txt');
  assert.equal(s.output, 'out.txt');
  assert.equal(s.error, 'err.txt');
  assert.equal(s.unbuffered, true);
  assert.equal(s.name, 'myjob');
  assert.equal(s.queue, 'batch');
  assert.equal(s.bank, 'b1');
  s.unbuffered = false;
  assert.equal(s.unbuffered, false);
  assert.equal(s.getattr('shell.options.output.batch-timeout'), undefined);
  assert.equal(s.getattr('shell.options.input.batch-timeout'), undefined);
  assert.equal(s.getattr('shell.options.output.stdout.path'), 'out.txt');
  // output none/kvs leave the jobspec alone
  assert.equal(js(['a'], { output: 'kvs', error: 'none' }).getattr('shell'), undefined);
});

test('setattr / getattr prefix rules', () => {
  assert.equal(attrKeyPrepend('duration'), 'attributes.system.duration');
  assert.equal(attrKeyPrepend('system.x'), 'attributes.system.x');
  assert.equal(attrKeyPrepend('user.x'), 'attributes.user.x');
  assert.equal(attrKeyPrepend('attributes.foo'), 'attributes.foo');
  const s = js();
  s.setattr('foo.bar', 1);
  s.setattr('user.project', 'p');
  s.setattr('system.constraints', { properties: ['x'] });
  s.setattrShellOption('cpu-affinity', 'per-task');
  assert.equal(s.getattr('foo.bar'), 1);
  assert.equal(s.getattr('attributes.system.foo.bar'), 1);
  assert.equal(s.getattr('user.project'), 'p');
  assert.equal(s.getattr('shell.options.cpu-affinity'), 'per-task');
  assert.equal(s.getattr('nope.nope'), undefined);
  assert.throws(
    () => s.setattr('foo.bar.baz', 1),
    /failed to set attributes\.system\.foo\.bar\.baz: attributes\.system\.foo\.bar is not an object/,
  );
  s.cwd = '/x';
  s.queue = 'q';
  s.environment = { A: '1' };
  assert.equal(s.cwd, '/x');
  assert.equal(s.queue, 'q');
  assert.deepEqual(s.environment, { A: '1' });
  assert.throws(() => (s.cwd = 5 as unknown as string), /cwd must be a string/);
  assert.throws(() => (s.environment = [] as unknown as Record<string, string>), /environment must be an object/);
  assert.throws(() => (s.queue = 1 as unknown as string), /queue must be a string/);
  s.setattr('x', new PyFloat(2));
  assert.match(s.dumps(), /"x": 2\.0/);
  assert.equal(s.getattr('x'), 2);
});

// ---- parse / validation ----

function valid(): Record<string, unknown> {
  return JSON.parse(vectorText) as Record<string, unknown>;
}
function parseErr(input: unknown): JobspecError {
  try {
    JobspecV1.parse(input as object);
  } catch (e) {
    assert.ok(e instanceof JobspecError, String(e));
    return e;
  }
  assert.fail('parse did not throw');
}
function mutate(fn: (j: any) => void): Record<string, unknown> {
  const j = valid();
  fn(j);
  return j;
}

test('parse accepts the real dry-run jobspec and round-trips it', () => {
  const s = JobspecV1.parse(vectorText);
  assert.equal(s.dumps() + '\n', vectorText);
  assert.equal(s.numTasks, 1);
  assert.equal(s.totalCores, 1);
  assert.deepEqual(JobspecV1.parse(s.toJSON()).toJSON(), s.toJSON());
  assert.deepEqual(
    JobspecV1.parse(js(['a'], { numTasks: 3, numNodes: 2, exclusive: true, duration: 5 }).dumps()).numTasks,
    3,
  );
});

test('parse: flux-core ingest texts and EPERM', () => {
  const e1 = parseErr('{}');
  assert.equal(e1.message, 'Missing key (version)');
  assert.equal(e1.errno, 1);
  assert.equal(e1.code, 'EPERM');
  const e2 = parseErr(mutate((j) => (j.version = 2)));
  assert.equal(e2.message, 'version must be 1');
  assert.equal(e2.errno, 1);
  const bad = parseErr('this is not json');
  assert.equal(bad.errno, 22);
  assert.match(bad.message, /^jobspec: invalid JSON: /);
});

test('parse errors name the field and say why', () => {
  const cases: Array<[unknown, string]> = [
    [[], 'jobspec must be a JSON object (got array)'],
    ['null', 'jobspec must be a JSON object (got null)'],
    ['"x"', 'jobspec must be a JSON object (got string)'],
    [mutate((j) => delete j.tasks), 'Missing key (tasks)'],
    [mutate((j) => delete j.attributes), 'Missing key (attributes)'],
    [mutate((j) => (j.extra = 1)), 'Extraneous key (extra)'],
    [mutate((j) => (j.version = '1')), 'version must be 1'],
    [mutate((j) => (j.resources = {})), 'resources: must be an array (got object)'],
    [mutate((j) => (j.resources = [])), 'resources: must contain one top-level resource (node or slot)'],
    [mutate((j) => j.resources.push(j.resources[0])), 'resources: only one top-level resource allowed'],
    [mutate((j) => (j.resources[0].count = 0)), 'resources[0].count: must be an integer >= 1 (got 0)'],
    [mutate((j) => (j.resources[0].count = -1)), 'resources[0].count: must be an integer >= 1 (got -1)'],
    [mutate((j) => (j.resources[0].count = 1.5)), 'resources[0].count: must be an integer >= 1 (got 1.5)'],
    [mutate((j) => (j.resources[0].count = { min: 1 })), 'resources[0].count: must be an integer >= 1 (got {"min":1})'],
    [mutate((j) => delete j.resources[0].count), 'resources[0].count: missing (an integer >= 1 is required)'],
    [mutate((j) => (j.resources[0].with[0].count = 0)), 'resources[0].with[0].count: must be an integer >= 1 (got 0)'],
    [mutate((j) => (j.resources[0].type = 'socket')), 'resources[0].type: must be "node" or "slot" (got "socket")'],
    [mutate((j) => delete j.resources[0].type), 'resources[0].type: missing'],
    [mutate((j) => delete j.resources[0].label), 'resources[0].label: a slot must have a non-empty string label'],
    [
      mutate((j) => (j.resources[0].foo = 1)),
      'resources[0].foo: unknown key (allowed: type, count, with, label, unit, exclusive)',
    ],
    [mutate((j) => (j.resources[0].with = [])), 'resources[0].with: must not be empty'],
    [mutate((j) => delete j.resources[0].with), 'resources[0].with: a slot must contain a core resource'],
    [
      mutate((j) => (j.resources[0].with[0].type = 'memory')),
      'resources[0].with[0].type: must be "core" or "gpu" inside a slot (got "memory")',
    ],
    [
      mutate((j) => (j.resources[0].with = [{ type: 'gpu', count: 1 }])),
      'resources[0].with: a slot must contain a core resource',
    ],
    [
      mutate((j) => (j.resources[0].with[0].with = [{ type: 'core', count: 1 }])),
      'resources[0].with[0].with: a core cannot contain other resources',
    ],
    [mutate((j) => (j.resources[0].exclusive = 'yes')), 'resources[0].exclusive: must be a boolean'],
    [
      mutate((j) => (j.resources = [{ type: 'node', count: 1, with: [{ type: 'core', count: 1 }] }])),
      'resources[0].with[0].type: must be "slot" (got "core")',
    ],
    [mutate((j) => (j.resources = [{ type: 'node', count: 1 }])), 'resources[0].with: a node must contain a slot'],
    [mutate((j) => delete j.tasks), 'Missing key (tasks)'],
    [mutate((j) => (j.tasks = [])), 'tasks: must be an array of one task'],
    [mutate((j) => (j.tasks = {})), 'tasks: must be an array of one task'],
    [mutate((j) => j.tasks.push(j.tasks[0])), 'tasks: must be an array of one task'],
    [mutate((j) => (j.tasks[0].command = 'sleep 0')), 'tasks[0].command: must be an array of strings'],
    [mutate((j) => (j.tasks[0].command = ['sleep', 0])), 'tasks[0].command: must be an array of strings'],
    [mutate((j) => (j.tasks[0].command = [])), 'tasks[0].command: must not be empty'],
    [mutate((j) => delete j.tasks[0].command), 'tasks[0].command: missing'],
    [mutate((j) => (j.tasks[0].slot = 7)), 'tasks[0].slot: must be a string'],
    [mutate((j) => (j.tasks[0].count = { per_slot: 0 })), 'tasks[0].count.per_slot: must be an integer >= 1 (got 0)'],
    [
      mutate((j) => (j.tasks[0].count = { total: 2, per_slot: 1 })),
      'tasks[0].count: must have exactly one key, per_slot or total (got {"total":2,"per_slot":1})',
    ],
    [
      mutate((j) => (j.tasks[0].count = { per_resource: 1 })),
      'tasks[0].count: must have exactly one key, per_slot or total (got {"per_resource":1})',
    ],
    [mutate((j) => (j.tasks[0].extra = 1)), 'tasks[0].extra: unknown key (allowed: command, slot, count, attributes)'],
    [mutate((j) => (j.attributes = [])), 'attributes: must be an object (got array)'],
    [mutate((j) => (j.attributes.other = {})), 'attributes.other: unknown key (allowed: system, user)'],
    [mutate((j) => delete j.attributes.system), 'attributes.system: missing (attributes.system.duration is required)'],
    [
      mutate((j) => delete j.attributes.system.duration),
      'attributes.system.duration: missing (a number >= 0 is required)',
    ],
    [mutate((j) => (j.attributes.system.duration = -1)), 'attributes.system.duration: must be a number >= 0 (got -1)'],
    [
      mutate((j) => (j.attributes.system.duration = '1h')),
      'attributes.system.duration: must be a number >= 0 (got "1h")',
    ],
    [mutate((j) => (j.attributes.system.environment = [])), 'attributes.system.environment: must be an object'],
    [mutate((j) => (j.attributes.system.environment.HOME = 1)), 'attributes.system.environment.HOME: must be a string'],
    [mutate((j) => (j.attributes.system.cwd = 1)), 'attributes.system.cwd: must be a string'],
    [mutate((j) => (j.attributes.system.shell = 1)), 'attributes.system.shell: must be an object'],
    [
      mutate((j) => (j.attributes.system.dependencies = [{ scheme: 'afterok' }])),
      'attributes.system.dependencies[0].value: must be a string',
    ],
    [mutate((j) => (j.attributes.user = 'x')), 'attributes.user: must be an object'],
  ];
  for (const [input, msg] of cases) {
    const e = parseErr(input);
    assert.equal(e.message, msg);
    assert.equal(e.errno, 1);
  }
  assert.equal(parseErr(mutate((j) => (j.resources[0].count = 0))).field, 'resources[0].count');
});

test("parse: a task slot naming another label than the resources' slot is valid, as in flux-core", () => {
  // flux-core's job-ingest validator (Python Jobspec._validate_task) only requires a string.
  const s = JobspecV1.parse(mutate((j) => (j.tasks[0].slot = 'foo')));
  assert.equal(s.tasks[0]!.slot, 'foo');
  assert.equal((s.resources[0] as { label?: string }).label, 'task');
  assert.equal(s.numTasks, 1);
});

test("parse: a count of 1 GiB (1073741824) cores is valid syntax (feasibility is the scheduler's job)", () => {
  const s = JobspecV1.parse(mutate((j) => (j.resources[0].with[0].count = 1073741824)));
  assert.equal(s.totalCores, 1073741824);
  assert.equal(s.coresPerSlot, 1073741824);
  // also node>slot>(core,gpu) with user attributes and an empty-note dependency
  const t = JobspecV1.parse({
    resources: [
      {
        type: 'node',
        count: 2,
        exclusive: true,
        with: [
          {
            type: 'slot',
            count: 1,
            label: 'x',
            with: [
              { type: 'core', count: 4 },
              { type: 'gpu', count: 2 },
            ],
          },
        ],
      },
    ],
    tasks: [{ command: ['hostname'], slot: 'x', count: { total: 2 } }],
    attributes: { system: { duration: 0.5, dependencies: [{ scheme: 'afterok', value: '1' }] }, user: { a: 1 } },
    version: 1,
  });
  assert.equal(t.numNodes, 2);
  assert.equal(t.totalCores, 8);
  assert.equal(t.totalGpus, 4);
  assert.equal(t.numTasks, 2);
  assert.equal(t.exclusive, true);
});

test('parse: a 16 MiB jobspec parses', () => {
  const big = valid();

  (big as any).attributes.system.environment.BIG = 'x'.repeat(16 * 1024 * 1024);
  const text = JSON.stringify(big);
  assert.ok(text.length > 16 * 1024 * 1024);
  const s = JobspecV1.parse(text);
  assert.equal(s.environment!['BIG']!.length, 16 * 1024 * 1024);
});

test('validateJobspec returns the typed object', () => {
  const o = validateJobspec(valid());
  assert.equal(o.version, 1);
  assert.equal(o.tasks[0]!.command[0], 'sleep');
});
