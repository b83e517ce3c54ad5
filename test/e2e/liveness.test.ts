/**
 * Liveness across the tree overlay (docs/protocol.md §F.5): a broker that stops answering is
 * flagged torpid by its parent and unflagged when it speaks again; a broker that hears no
 * heartbeat from rank 0 for `[heartbeat] timeout` leaves the instance (parent-fail, exit 1).
 * The brokers are stopped with SIGSTOP, so they are silent for as long as the test needs,
 * whatever the machine's load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Flux } from '../../src/client/handle.js';
import type { FluxError } from '../../src/protocol/errno.js';
import { tsflux } from '../helpers/cli.js';
import { brokerPid, startTestInstance } from '../helpers/test-instance.js';
import { HANG_TIMEOUT, dead, until } from '../helpers/wait.js';

const count = (text: string, re: RegExp): number => (text.match(new RegExp(re.source, 'g')) ?? []).length;

test(
  'a broker that goes silent is flagged torpid by its parent (log and overlay.torpid event), and unflagged when it speaks again',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['-o,-Stbon.torpid_min=0.1s,-Stbon.torpid_max=0.5s']);
    const h = await Flux.open(t.uri(0));
    try {
      assert.equal(await h.attrGet('tbon.torpid_min'), '0.1s');
      assert.equal(await h.attrGet('tbon.torpid_max'), '0.5s');
      const events: { rank: number; torpid: boolean }[] = [];
      await h.eventSubscribe('overlay.torpid', (_topic, payload) => events.push(payload));
      const unresponsive = /tsflux-broker-0: err: overlay: broker on \S+ \(rank 2\) has been unresponsive for [0-9.]+s/;
      const responsive = /tsflux-broker-0: err: overlay: broker on \S+ \(rank 2\) is responsive now/;
      const before = [count(t.stderr(), unresponsive), count(t.stderr(), responsive)];
      const pid = await brokerPid(t, 2);
      process.kill(pid, 'SIGSTOP');
      try {
        await until(() => count(t.stderr(), unresponsive) > before[0]!, 'rank 2 flagged torpid');
        await until(() => events.some((e) => e.rank === 2 && e.torpid), 'the overlay.torpid event');
        // the scheduler places nothing new there while it is silent
        await until(
          async () => (await h.rpc('resource.status', {}, { nodeid: 0 })).torpid === '2',
          'torpid in resource.status',
        );
        const down = (await h.rpc('resource.sched-status', {}, { nodeid: 0 })).down;
        assert.deepEqual(
          down.execution.R_lite.map((x: { rank: string }) => x.rank),
          ['2'],
        );
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await until(() => count(t.stderr(), responsive) > before[1]!, 'rank 2 responsive again');
      await until(() => events.some((e, i) => e.rank === 2 && !e.torpid && i > 0), 'the event that clears it');
      await until(async () => (await h.rpc('resource.status', {}, { nodeid: 0 })).torpid === '', 'torpid cleared');
      const back = (await h.rpc('resource.sched-status', {}, { nodeid: 0 })).down;
      assert.deepEqual(back.execution.R_lite, []);
      // the instance carries on with rank 2 in it
      assert.equal((await h.rpc('broker.ping', {}, { nodeid: 2 })).rank, 2);
      // the limits can be changed while running, and bad values are refused naming them
      await h.rpc('attr.set', { name: 'tbon.torpid_max', value: '1m' });
      assert.equal(await h.attrGet('tbon.torpid_max'), '1m');
      await assert.rejects(h.rpc('attr.set', { name: 'tbon.torpid_min', value: '0' }), (e: FluxError) => {
        assert.equal(e.errno, 22);
        assert.match(e.message, /tbon\.torpid_min=0: must be a positive finite duration/);
        return true;
      });
      await assert.rejects(h.rpc('attr.set', { name: 'tbon.torpid_max', value: 'soon' }), (e: FluxError) => {
        assert.equal(e.errno, 22);
        assert.match(e.message, /tbon\.torpid_max=soon: invalid Flux standard duration 'soon'/);
        return true;
      });
      await assert.rejects(h.rpc('attr.rm', { name: 'tbon.torpid_max' }), (e: FluxError) => e.errno === 1);
      assert.equal(await h.attrGet('tbon.torpid_max'), '1m');
    } finally {
      h.close();
      t.end();
    }
    assert.equal(await t.exited, 0);
  },
);

test(
  'followers that hear no heartbeat from rank 0 for [heartbeat] timeout disconnect and exit 1',
  { timeout: HANG_TIMEOUT },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-hb-'));
    const conf = path.join(dir, 'hb.toml');
    fs.writeFileSync(conf, '[heartbeat]\nperiod = "1s"\ntimeout = "5s"\nwarn_thresh = 2\n');
    const t = await startTestInstance(3, [`--config-path=${conf}`, '--test-exit-timeout=inf']);
    try {
      const h = await Flux.open(t.uri(1));
      const stats = await h.rpc('heartbeat.stats-get', {}, { nodeid: 1 });
      assert.deepEqual([stats.period, stats.timeout, stats.warn_thresh], [1, 5, 2]);
      assert.equal(typeof stats.count, 'number');
      h.close();
      const pids = await Promise.all([0, 1, 2].map((r) => brokerPid(t, r)));
      process.kill(pids[0]!, 'SIGSTOP');
      try {
        await dead(pids[1]!);
        await dead(pids[2]!);
      } finally {
        process.kill(pids[0]!, 'SIGCONT');
      }
      for (const r of [1, 2]) {
        // the launcher reports the exit once it has reaped the broker, after it is gone from
        // /proc; the broker's own lines went to the same pipe before it died
        const exited = new RegExp(`tsflux-start: ${r} \\(pid \\d+\\) exited with rc=1`);
        await until(() => exited.test(t.stderr()), `the launcher to report rank ${r}'s exit`);
        assert.match(t.stderr(), new RegExp(`tsflux-broker-${r}: warning: heartbeat: heartbeat overdue`));
        assert.match(
          t.stderr(),
          new RegExp(`tsflux-broker-${r}: err: overlay: disconnecting: no heartbeat for [0-9.]+s`),
        );
        assert.match(
          t.stderr(),
          new RegExp(`tsflux-broker-${r}: err: overlay: lost rank 0 \\(the parent\\).*parent-fail`),
        );
      }
    } finally {
      t.end();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await t.exited, 1);
  },
);

test('bad [heartbeat] and [tbon] tables and torpid attributes are refused at start, naming them', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-hb-'));
  try {
    const cases: [string, RegExp][] = [
      ['[heartbeat]\nperiod = "0s"\n', /heartbeat\.period must be a positive FSD value/],
      ['[heartbeat]\nperiod = "2s"\ntimeout = "3s"\n', /heartbeat\.timeout must be >= 2\*heartbeat\.period/],
      ['[heartbeat]\npulse = "2s"\n', /\[heartbeat\] config table: unknown key pulse/],
      ['[tbon]\ntcp_user_timeout = "2m"\n', /\[tbon\] tcp_user_timeout: tsflux does not implement this key/],
      ['[tbon]\ntorpid_max = "forever"\n', /tbon\.torpid_max: invalid Flux standard duration 'forever'/],
    ];
    for (const [i, [text, re]] of cases.entries()) {
      const f = path.join(dir, `${i}.toml`);
      fs.writeFileSync(f, text);
      const r = await tsflux(['start', `--config-path=${f}`, 'true'], undefined);
      assert.equal(r.rc, 1, text);
      assert.match(r.stderr, re, text);
    }
    const a = await tsflux(['start', '-o,-Stbon.torpid_min=0', 'true'], undefined);
    assert.equal(a.rc, 1);
    assert.match(a.stderr, /tbon\.torpid_min=0: must be a positive finite duration/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'every broker of a running instance is in state run; a monitor from rank 2 follows rank 0',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(3, ['-o,-Sbroker.quorum-warn=none']);
    try {
      for (let r = 0; r < 3; r++) {
        const h = await Flux.open(t.uri(r));
        try {
          const s = await h.rpc('state-machine.get', {}, { nodeid: r });
          assert.equal(s.state, 'run', `rank ${r}`);
          assert.equal(await h.attrGet('broker.quorum-warn'), 'none');
        } finally {
          h.close();
        }
      }
      const h = await Flux.open(t.uri(2));
      const states: number[] = [];
      for await (const p of h.rpcStream('state-machine.monitor', { final: 4 }, { nodeid: 0 })) states.push(p.state);
      assert.deepEqual(states, [4]);
      await h.rpc('state-machine.wait', {}, { nodeid: 0 });
      h.close();
    } finally {
      t.end();
    }
    assert.equal(await t.exited, 0);
    const bad = await tsflux(['start', '-o,-Sbroker.quorum-warn=later', 'true'], undefined);
    assert.equal(bad.rc, 1);
    assert.match(bad.stderr, /broker\.quorum-warn=later: invalid Flux standard duration 'later'/);
  },
);

test(
  'tsflux overlay status draws the tree with each broker status; a broker killed shows as lost and its parent degraded',
  { timeout: HANG_TIMEOUT },
  async () => {
    const t = await startTestInstance(4, ['-o,-Stbon.fanout=2', '--test-exit-timeout=inf']);
    try {
      const host = (await tsflux(['getattr', 'hostname'], t.uri(0))).stdout.trim();
      const s = await tsflux(['overlay', 'status'], t.uri(2));
      assert.deepEqual(
        [s.rc, s.stdout, s.stderr],
        [0, `0 ${host}: full\n├─ 1 ${host}: full\n│  └─ 3 ${host}: full\n└─ 2 ${host}: full\n`, ''],
      );
      const v = await tsflux(['overlay', 'status', '-v', '--rank=1'], t.uri(0));
      assert.match(
        v.stdout,
        new RegExp(`^1 ${host}: full for [0-9.]+[smhd]\\n└─ 3 ${host}: full for [0-9.]+[smhd]\\n$`),
      );
      process.kill(await brokerPid(t, 3), 'SIGKILL');
      await until(
        async () => (await tsflux(['overlay', 'status'], t.uri(0))).stdout.includes(`3 ${host}: lost`),
        'rank 3 lost',
      );
      const after = await tsflux(['overlay', 'status'], t.uri(0));
      assert.equal(
        after.stdout,
        `0 ${host}: degraded\n├─ 1 ${host}: degraded\n│  └─ 3 ${host}: lost\n└─ 2 ${host}: full\n`,
      );
      const bad = await tsflux(['overlay', 'status', '--rank=x'], t.uri(0));
      assert.deepEqual([bad.rc, bad.stderr], [1, 'tsflux-overlay: --rank=x: not a rank\n']);
      const far = await tsflux(['overlay', 'status', '--rank=9'], t.uri(0));
      assert.equal(far.rc, 1);
      assert.match(far.stderr, /^tsflux-overlay: rank 9: .*No route to host/);
    } finally {
      t.end();
    }
    assert.equal(await t.exited, 137);
  },
);
