/**
 * The broker state machine's service (src/broker/state-machine.ts) on a real in-process broker:
 * get, monitor (streaming, with final), wait, and rank 0's "quorum delayed" warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { STATES, StateMachine } from '../../../src/broker/state-machine.js';
import type { FluxError } from '../../../src/protocol/errno.js';
import { until } from '../../helpers/wait.js';

const n = (s: (typeof STATES)[number]): number => STATES.indexOf(s);

async function setup(waiting: string[] = [], quorumWarn = 60) {
  const broker = new Broker({ hostname: 'vm' });
  const logs: string[] = [];
  broker.logger = (level, text) => logs.push(`${level}: ${text}`);
  const sm = new StateMachine({ quorumWarn, waitingFor: () => waiting });
  broker.register(sm);
  await broker.start();
  return { broker, sm, logs };
}

test('get names the state; monitor streams each state up to final, then ENODATA; wait answers in run', async () => {
  const { broker, sm } = await setup();
  sm.enter('join');
  assert.equal((await broker.rpc('state-machine.get')).state, 'join');
  const seen: number[] = [];
  const monitor = broker.rpc(
    'state-machine.monitor',
    { final: n('run') },
    {
      streaming: true,
      onResponse: (p) => seen.push(p.state),
    },
  );
  const all: number[] = [];
  const everything = broker.rpc('state-machine.monitor', {}, { streaming: true, onResponse: (p) => all.push(p.state) });
  let waited = false;
  const wait = broker.rpc('state-machine.wait').then(() => (waited = true));
  sm.enter('init');
  sm.enter('quorum');
  assert.equal(waited, false);
  sm.enter('run');
  assert.equal(await monitor, undefined); // ended by ENODATA, the normal end of a stream
  assert.deepEqual(seen, [n('join'), n('init'), n('quorum'), n('run')]);
  await wait;
  const got = await broker.rpc('state-machine.get');
  assert.equal(got.state, 'run');
  assert.equal(typeof got.duration, 'number');
  // states only move forward
  sm.enter('init');
  assert.equal(sm.current, 'run');
  for (const s of ['cleanup', 'shutdown', 'finalize', 'goodbye', 'exit'] as const) sm.enter(s);
  assert.equal(await everything, undefined);
  assert.deepEqual(
    all,
    STATES.slice(1).map((_, i) => i + 1),
  );
  // past run, wait fails; a monitor whose final is behind the state ends at once
  await assert.rejects(broker.rpc('state-machine.wait'), (e: FluxError) => {
    assert.equal(e.errno, 2);
    assert.match(e.message, /broker has surpassed RUN state/);
    return true;
  });
  const late: number[] = [];
  const ended = broker.rpc(
    'state-machine.monitor',
    { final: n('run') },
    { streaming: true, onResponse: (p) => late.push(p.state) },
  );
  assert.equal(await ended, undefined);
  assert.deepEqual(late, []);
  // a one-shot monitor gets the state alone
  assert.deepEqual(await broker.rpc('state-machine.monitor', {}), { state: n('exit') });
  await assert.rejects(broker.rpc('state-machine.monitor', { final: 'run' }), (e: FluxError) => e.errno === 71);
});

test('rank 0 warns while it waits for brokers in quorum, naming them, and says when quorum is reached', async () => {
  const { sm, logs } = await setup(['vm (rank 2)'], 0.05);
  sm.enter('join');
  sm.enter('init');
  sm.enter('quorum');
  await until(() => logs.includes('err: quorum delayed: waiting for vm (rank 2)'), 'the warning');
  sm.enter('run');
  assert.ok(logs.includes('err: quorum reached'));
});
