/**
 * An instance of several brokers on this machine (`tsflux start --test-size=N`): real
 * processes bootstrapped through PMI, joined by TLS-PSK links over unix sockets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Flux } from '../../src/client/handle.js';
import { FluxError } from '../../src/protocol/errno.js';
import { event, request, response } from '../../src/protocol/codec.js';
import { MsgType } from '../../src/protocol/types.js';
import { connectLink } from '../../src/broker/overlay/tls.js';
import { tsflux } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { brokerPid, sharedTestInstance, startTestInstance } from '../helpers/test-instance.js';
import { HANG_TIMEOUT, dead, until } from '../helpers/wait.js';

const EHOSTUNREACH = 113;

describe('one instance of 3 brokers', { timeout: HANG_TIMEOUT }, () => {
  const t = sharedTestInstance(3);

  test('every rank serves its own attributes', async () => {
    const uuids: string[] = [];
    for (let r = 0; r < 3; r++) {
      const h = await Flux.open(t.uri(r));
      try {
        assert.deepEqual(await h.rpc('attr.get', { name: 'rank' }), { value: String(r), flags: 1 });
        assert.equal(await h.attrGet('size'), '3');
        assert.equal(await h.attrGet('local-uri'), t.uri(r));
        assert.equal(await h.attrGet('rundir'), t.rundir);
        assert.equal(await h.attrGet('broker.boot-method'), 'simple');
        assert.equal(await h.attrGet('broker.mapping'), '[[0,1,3,1]]');
        assert.equal(await h.attrGet('broker.critical-ranks'), '0');
        assert.equal(await h.attrGet('tbon.topo'), 'kary:32');
        assert.equal(await h.attrGet('tbon.maxlevel'), '1');
        assert.equal(await h.attrGet('tbon.level'), r === 0 ? '0' : '1');
        assert.equal(await h.attrGet('tbon.descendants'), r === 0 ? '2' : '0');
        const host = await h.attrGet('hostname');
        assert.equal(await h.attrGet('hostlist'), [host, host, host].join(','));
        const endpoint = `ipc://${path.join(t.rundir, 'tbon-0')}`;
        if (r === 0) {
          assert.equal(await h.attrGet('tbon.endpoint'), endpoint);
          await assert.rejects(h.attrGet('tbon.parent-endpoint'), (e: FluxError) => e.errno === 2);
        } else {
          assert.equal(await h.attrGet('tbon.parent-endpoint'), endpoint);
          await assert.rejects(h.attrGet('tbon.endpoint'), (e: FluxError) => e.errno === 2);
        }
        uuids.push(await h.attrGet('broker.uuid'));
      } finally {
        h.close();
      }
    }
    assert.equal(new Set(uuids).size, 3, 'each broker has its own uuid');
  });

  test('tsflux getattr size says 3 on every rank; tsflux ping N answers from rank N with its route', async () => {
    const uuid: string[] = [];
    for (let r = 0; r < 3; r++) {
      const g = await tsflux(['getattr', 'size'], t.uri(r));
      assert.deepEqual([g.rc, g.stdout, g.stderr], [0, '3\n', '']);
      uuid.push((await tsflux(['getattr', 'broker.uuid'], t.uri(r))).stdout.trim().slice(0, 8));
    }
    // from rank 0: the client, rank 0, then the target
    for (let r = 0; r < 3; r++) {
      const p = await tsflux(['ping', '--count=1', String(r)], t.uri(0));
      assert.equal(p.rc, 0, p.stderr);
      const lines = p.stdout.split('\n');
      assert.equal(lines[0], `tsflux-ping ${r}!broker`);
      const m = new RegExp(`^${r}!broker\\.ping pad=0 seq=0 time=[0-9.]+ ms \\(([0-9a-f!]+)\\)$`).exec(lines[1]!);
      assert.ok(m, lines[1]);
      const hops = m[1]!.split('!');
      assert.deepEqual(hops.slice(1), r === 0 ? [uuid[0]] : [uuid[0], uuid[r]]);
    }
    // from rank 2 to rank 1: up to rank 0 and down again
    const p = await tsflux(['ping', '--count=1', '1'], t.uri(2));
    assert.equal(p.rc, 0, p.stderr);
    assert.deepEqual(/\(([0-9a-f!]+)\)$/m.exec(p.stdout)![1]!.split('!').slice(1), [uuid[2], uuid[0], uuid[1]]);
    // a rank outside the instance
    const far = await tsflux(['ping', '--count=1', '7'], t.uri(1));
    assert.equal(far.rc, 1);
    assert.match(far.stderr, /7!broker\.ping: No route to host/);
  });

  test("a client on rank 2 runs a job with rank 0's services, and sees its events", async () => {
    const r = await tsflux(['run', 'echo', 'from rank two'], t.uri(2));
    assert.deepEqual([r.rc, r.stdout], [0, 'from rank two\n'], r.stderr);
    const q = await tsflux(['queue', 'status'], t.uri(1));
    assert.equal(q.rc, 0, q.stderr);
    const unknown = await tsflux(['ping', '--count=1', 'nosuch'], t.uri(2));
    assert.match(unknown.stderr, /No service matching nosuch\.ping is registered/);
  });

  test('an event published on rank 1 reaches every rank with the sequence number rank 0 gave it', async () => {
    const subs = await Promise.all([0, 1, 2].map((r) => RawClient.connect(t.uri(r))));
    try {
      for (const [i, c] of subs.entries()) {
        c.send(request('event.subscribe', { topic: 'test.multi' }, { matchtag: 1 }));
        const ok = await c.next((m) => m.type === MsgType.RESPONSE && m.aux2 === 1);
        assert.equal(ok.aux1, 0, `subscribe on rank ${i}`);
      }
      subs[1]!.send(event('test.multi.hello', { from: 1 }, 0));
      const got = await Promise.all(subs.map((c) => c.next((m) => m.type === MsgType.EVENT)));
      const seqs = got.map((m) => m.aux1);
      assert.ok(seqs[0]! > 0);
      assert.deepEqual(seqs, [seqs[0], seqs[0], seqs[0]]);
      for (const m of got) {
        assert.equal(m.topic, 'test.multi.hello');
        assert.equal(m.payload!.toString(), '{"from":1}');
      }
    } finally {
      for (const c of subs) c.close();
    }
  });

  test('a connection to the overlay socket with a wrong key, as a non-child, or with garbage is refused and logged', async () => {
    const sock = path.join(t.rundir, 'tbon-0');
    await assert.rejects(connectLink(sock, '1', Buffer.alloc(32, 1)));
    await assert.rejects(connectLink(sock, '5', Buffer.alloc(32, 1)));
    const raw = net.connect(sock);
    raw.on('error', () => raw.destroy());
    raw.end('\x12\x00\xee\xff garbage, not TLS');
    await until(
      () => (t.stderr().match(/tsflux-broker-0: err: overlay: refused a connection/g) ?? []).length >= 3,
      'three refusals in the log',
    );
    assert.match(t.stderr(), /refused a connection claiming to be rank 1 without its key/);
    assert.match(t.stderr(), /refused a connection claiming to be '5', which is not a child of rank 0/);
    assert.match(t.stderr(), /refused a connection that did not complete a TLS-PSK handshake/);
    // the instance carries on
    for (let r = 0; r < 3; r++) {
      const p = await tsflux(['ping', '--count=1', String(r)], t.uri(2 - r));
      assert.equal(p.rc, 0, p.stderr);
    }
  });
});

test(
  "tsflux start --test-size=3 CMD: CMD runs on rank 0 and its exit code is the instance's",
  { timeout: HANG_TIMEOUT },
  async () => {
    const g = await tsflux(['start', '--test-size=3', 'tsflux', 'getattr', 'size'], undefined);
    assert.deepEqual([g.rc, g.stdout, g.stderr], [0, '3\n', '']);
    const seven = await tsflux(['start', '-s', '3', 'sh', '-c', 'tsflux getattr rank; exit 7'], undefined);
    assert.deepEqual([seven.rc, seven.stdout], [7, '0\n']);
    assert.match(seven.stderr, /^tsflux-start: 0 \(pid \d+\) exited with rc=7\n$/);
  },
);

test('-Stbon.fanout=1 makes a chain: rank 2 is reached through rank 1', { timeout: HANG_TIMEOUT }, async () => {
  const t = await startTestInstance(3, ['-o,-Stbon.fanout=1']);
  try {
    const h = await Flux.open(t.uri(0));
    assert.equal(await h.attrGet('tbon.topo'), 'kary:1');
    assert.equal(await h.attrGet('tbon.fanout'), '1');
    assert.equal(await h.attrGet('tbon.maxlevel'), '2');
    assert.equal(await h.attrGet('broker.critical-ranks'), '0-1');
    const r = await h.rpc('broker.ping', {}, { nodeid: 2 });
    assert.equal(r.rank, 2);
    assert.equal(r.route.split('!').length, 4, r.route);
    h.close();
    const h2 = await Flux.open(t.uri(2));
    assert.equal(await h2.attrGet('tbon.level'), '2');
    assert.equal(await h2.attrGet('tbon.parent-endpoint'), `ipc://${path.join(t.rundir, 'tbon-1')}`);
    h2.close();
  } finally {
    t.end();
  }
  assert.equal(await t.exited, 0);
});

test(
  '-Stbon.prefertcp=1: the links are TCP on the address the host name resolves to; a wrong key, a non-child and garbage on the port are refused and logged',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['-o,-Stbon.prefertcp=1']);
    try {
      const h = await Flux.open(t.uri(0));
      const endpoint = await h.attrGet('tbon.endpoint');
      assert.equal(await h.attrGet('tbon.prefertcp'), '1');
      assert.equal(await h.attrGet('tbon.interface-hint'), 'hostname');
      const address = (await dns.lookup(os.hostname(), { family: 4 })).address;
      const m = /^tcp:\/\/([0-9.]+):(\d+)$/.exec(endpoint);
      assert.ok(m, endpoint);
      assert.equal(m[1], address);
      h.close();
      const h2 = await Flux.open(t.uri(2));
      assert.equal(await h2.attrGet('tbon.parent-endpoint'), endpoint);
      h2.close();
      const to = { kind: 'tcp' as const, host: m[1]!, port: Number(m[2]) };
      await assert.rejects(connectLink(to, '1', Buffer.alloc(32, 1)));
      await assert.rejects(connectLink(to, '5', Buffer.alloc(32, 1)));
      const raw = net.connect(to.port, to.host);
      raw.on('error', () => raw.destroy());
      raw.end('\x12\x00\xee\xff garbage, not TLS');
      await until(
        () => (t.stderr().match(/tsflux-broker-0: err: overlay: refused a connection/g) ?? []).length >= 3,
        'three refusals in the log',
      );
      assert.match(t.stderr(), /refused a connection claiming to be rank 1 without its key/);
      assert.match(t.stderr(), /refused a connection claiming to be '5', which is not a child of rank 0/);
      assert.match(t.stderr(), /refused a connection that did not complete a TLS-PSK handshake/);
      for (let r = 0; r < 3; r++) {
        const p = await tsflux(['ping', '--count=1', String(r)], t.uri(2 - r));
        assert.equal(p.rc, 0, p.stderr);
      }
    } finally {
      t.end();
    }
    assert.equal(await t.exited, 0);
  },
);

test(
  'a link that drops fails the requests in flight through it with EHOSTUNREACH; the others carry on',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['--test-exit-timeout=inf']);
    const provider = await RawClient.connect(t.uri(2));
    try {
      // a client on rank 2 serves `hold`, and never answers
      provider.send(request('service.add', { service: 'hold' }, { matchtag: 1 }));
      assert.equal((await provider.next((m) => m.type === MsgType.RESPONSE && m.aux2 === 1)).aux1, 0);
      const h = await Flux.open(t.uri(0));
      const held = h.rpc('hold.forever', { n: 1 }, { nodeid: 2 });
      const req = await provider.next((m) => m.type === MsgType.REQUEST);
      assert.equal(req.topic, 'hold.forever');
      // it answers another one, through rank 0's link to it
      const other = h.rpc('hold.once', {}, { nodeid: 2 });
      const req2 = await provider.next((m) => m.type === MsgType.REQUEST);
      provider.send(response(req2, { answered: true }));
      assert.deepEqual(await other, { answered: true });
      process.kill(await brokerPid(t, 2), 'SIGKILL');
      await assert.rejects(held, (e: FluxError) => {
        assert.equal(e.errno, EHOSTUNREACH);
        assert.match(e.message, /hold\.forever: .*\(rank 2\) is unreachable/);
        return true;
      });
      await until(() => /tsflux-broker-0: err: overlay: .* \(rank 2\) failed/.test(t.stderr()), 'the loss in the log');
      await assert.rejects(h.rpc('broker.ping', {}, { nodeid: 2 }), (e: FluxError) => e.errno === EHOSTUNREACH);
      assert.equal((await h.rpc('broker.ping', {}, { nodeid: 1 })).rank, 1);
      const r = await tsflux(['run', 'true'], t.uri(1));
      assert.equal(r.rc, 0, r.stderr);
      h.close();
    } finally {
      provider.close();
      t.end();
    }
    // rank 2 died of SIGKILL: the highest broker exit code
    assert.equal(await t.exited, 137);
    assert.match(t.stderr(), /tsflux-start: 2 \(pid \d+\) SIGKILL/);
  },
);

test(
  'kill -9 of rank 1 with --test-exit-timeout=0: the others are ended, nothing is left running',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['--test-exit-timeout=0']);
    const pids = await Promise.all([0, 1, 2].map((r) => brokerPid(t, r)));
    process.kill(pids[1]!, 'SIGKILL');
    const rc = await t.exited;
    // the survivors get SIGTERM and end cleanly with 128+15
    assert.equal(rc, 143, t.stderr());
    assert.match(t.stderr(), /tsflux-start: 1 \(pid \d+\) SIGKILL/);
    assert.match(t.stderr(), /tsflux-start: Exit timeout: terminating rank 0(,2|-2)/);
    for (const pid of [...pids, t.initialPid]) await dead(pid);
    t.end();
  },
);

test('kill -9 of rank 0: the others lose their parent and exit 1', { timeout: HANG_TIMEOUT }, async () => {
  const t = await startTestInstance(3);
  const pids = await Promise.all([0, 1, 2].map((r) => brokerPid(t, r)));
  process.kill(pids[0]!, 'SIGKILL');
  await dead(pids[1]!);
  await dead(pids[2]!);
  // rank 0's initial program hears of its broker's death (SIGHUP, its parent-death signal)
  await dead(t.initialPid);
  t.end();
  await dead(t.initialPid);
  assert.equal(await t.exited, 137);
  assert.match(t.stderr(), /tsflux-broker-1: err: overlay: lost rank 0 \(the parent\).*parent-fail/);
  assert.match(t.stderr(), /tsflux-start: 1 \(pid \d+\) exited with rc=1/);
  assert.match(t.stderr(), /tsflux-start: 2 \(pid \d+\) exited with rc=1/);
});

test('start: test options need --test-size; bad sizes, modes and durations are refused', async () => {
  const cases: [string[], RegExp][] = [
    [['start', '--test-exit-timeout=1s', 'true'], /--test-exit-timeout only works with --test-size/],
    [['start', '--test-exit-mode=leader', 'true'], /--test-exit-mode only works with --test-size/],
    [['start', '--test-rundir=/tmp/x', 'true'], /--test-rundir only works with --test-size/],
    [['start', '--test-size=0', 'true'], /--test-size=0: must be an integer > 0/],
    [['start', '-s', 'two', 'true'], /--test-size=two: must be an integer > 0/],
    [['start', '-s2', '--test-exit-mode=all', 'true'], /unknown --test-exit-mode: all/],
    [['start', '-s2', '--test-exit-timeout=-1', 'true'], /--test-exit-timeout: .*negative/],
    [['start', '-s2', '--test-rundir=/tmp/a', '--rundir=/tmp/b', 'true'], /name different directories/],
    [['start', '-Srank=3', 'true'], /-S rank: the broker sets this/],
    [['start', '-Stbon.topo=binomial', 'true'], /tbon.topo=binomial: tsflux knows only kary:K/],
    [['start', '-Sbroker.boot-method=pmix', 'true'], /broker.boot-method=pmix: unknown bootstrap method/],
    [['start', '-Stbon.prefertcp=yes', 'true'], /tbon.prefertcp=yes: must be 0 or 1/],
    [['start', '-Stbon.connect_timeout=soon', 'true'], /tbon.connect_timeout: .*soon/],
    [
      ['start', '-Stbon.interface-hint=nosuch0', 'true'],
      /tbon.interface-hint=nosuch0: not 'hostname', 'default-route', an interface name of this host or a CIDR/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await tsflux(args, undefined);
    assert.equal(r.rc, 1, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('a broker its environment says is one of 3, with no PMI to find the others, refuses to start', async () => {
  const envs: Record<string, string>[] = [{ PMI_SIZE: '3' }, { SLURM_PROCID: '0', SLURM_STEP_NUM_TASKS: '3' }];
  for (const env of envs) {
    const r = await tsflux(['start', 'echo', 'should not run'], undefined, env);
    assert.equal(r.rc, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /says this broker is one of 3, but no bootstrap method can reach the others/);
  }
});
