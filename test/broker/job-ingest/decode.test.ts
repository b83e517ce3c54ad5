import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JDecoder } from '../../../src/broker/job-ingest/decode.js';
import { wrapNone } from '../../../src/job/sign-none.js';
import { JobspecV1 } from '../../../src/job/jobspec.js';

const spec = JobspecV1.fromCommand(['true'], { environment: { SECRET: 'x' } }).dumps();

test('JDecoder: a repeated J is decoded once and shared, frozen, without its environment', () => {
  const d = new JDecoder();
  const J = wrapNone(spec, 1000);
  const a = d.decode(J, 1000, true);
  const b = d.decode(J, 1000, true);
  assert.equal(a, b);
  assert.equal(a.jobspecText, spec);
  assert.equal(a.redacted.attributes.system.environment, undefined);
  assert.deepEqual(a.request, { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 });
  assert.ok(Object.isFrozen(a.redacted.tasks[0].command));
  assert.throws(() => {
    a.redacted.tasks[0].command.push('x');
  }, TypeError);
});

test('JDecoder: a cached J sent by another user is still refused (EPERM)', () => {
  const d = new JDecoder();
  const J = wrapNone(spec, 1000);
  d.decode(J, 1000, true);
  assert.throws(() => d.decode(J, 1001, true), { errno: 1, message: 'signer=1000 != requestor=1001' });
});

test('JDecoder: bad jobspecs fail every time; unvalidated results are not cached', () => {
  const d = new JDecoder();
  const bad = wrapNone('{"version": 2}', 5);
  for (let i = 0; i < 2; i++)
    assert.throws(() => d.decode(bad, 5, true), { errno: 1, message: 'Missing key (resources)' });
  const notJson = wrapNone('{', 5);
  assert.throws(() => d.decode(notJson, 5, true), { errno: 22, message: /^jobspec: invalid JSON/ });
  const J = wrapNone(spec, 5);
  const u1 = d.decode(J, 5, false);
  const u2 = d.decode(J, 5, false);
  assert.notEqual(u1, u2);
  assert.equal(Object.isFrozen(u1.redacted), false);
  // a validated decode after that is cached
  assert.equal(d.decode(J, 5, true), d.decode(J, 5, true));
});

test('JDecoder: at most 16 J are remembered (oldest dropped), results stay right', () => {
  const d = new JDecoder();
  const Js = Array.from({ length: 40 }, (_, i) => wrapNone(JobspecV1.fromCommand(['echo', String(i)]).dumps(), 7));
  for (const J of Js) d.decode(J, 7, true);
  for (let i = 0; i < 40; i++)
    assert.deepEqual(d.decode(Js[i]!, 7, true).redacted.tasks[0].command, ['echo', String(i)]);
  const last = d.decode(Js[39]!, 7, true);
  assert.equal(d.decode(Js[39]!, 7, true), last);
});

test('JDecoder: an unvalidated jobspec whose resources cannot be read is refused (EINVAL), not guessed at', () => {
  const d = new JDecoder();
  const js = JSON.parse(spec);
  js.resources = [{ type: 'socket', count: 1, with: [{ type: 'core', count: 1 }] }];
  assert.throws(() => d.decode(wrapNone(JSON.stringify(js), 5), 5, false), {
    errno: 22,
    message: /^jobspec: resources:/,
  });
  js.resources = 'none';
  assert.throws(() => d.decode(wrapNone(JSON.stringify(js), 5), 5, false), {
    errno: 22,
    message: /^jobspec: resources:/,
  });
});
