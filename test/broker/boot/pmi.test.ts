/**
 * The PMI-1 simple wire client against the in-process server of `tsflux start --test-size`,
 * and against a peer answering as Slurm's pmi2 plugin does, over real unix sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PmiError, PmiSimpleClient } from '../../../src/broker/boot/pmi-client.js';
import { PmiSimpleServer } from '../../../src/broker/boot/pmi-server.js';
import { LineReader } from '../../../src/broker/boot/pmi-wire.js';

/** `n` connected socket pairs: [client end, server end]. */
async function pairs(n: number): Promise<{ ends: [net.Socket, net.Socket][]; close: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-pmi-'));
  const sock = path.join(dir, 's');
  const waiting: ((s: net.Socket) => void)[] = [];
  const srv = net.createServer((s) => waiting.shift()!(s));
  await new Promise<void>((r) => srv.listen(sock, r));
  const ends: [net.Socket, net.Socket][] = [];
  for (let i = 0; i < n; i++) {
    const accepted = new Promise<net.Socket>((r) => waiting.push(r));
    const c = net.connect(sock);
    await new Promise<void>((r) => c.once('connect', () => r()));
    ends.push([c, await accepted]);
  }
  return {
    ends,
    close: () => {
      for (const [a, b] of ends) {
        a.destroy();
        b.destroy();
      }
      srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('three clients: init, maxes, kvsname, put, barrier, get every card, finalize', async () => {
  const { ends, close } = await pairs(3);
  const server = new PmiSimpleServer({ size: 3, preput: { PMI_process_mapping: '(vector,(0,1,3))' } });
  ends.forEach(([, s], r) => server.addClient(r, s));
  try {
    const run = async (rank: number): Promise<string[]> => {
      const c = new PmiSimpleClient(ends[rank]![0]);
      await c.init();
      assert.deepEqual(await c.getMaxes(), { kvsnameMax: 64, keylenMax: 64, vallenMax: 1024 });
      const kvs = await c.getKvsname();
      assert.equal(kvs, '-');
      assert.equal(await c.get(kvs, 'PMI_process_mapping'), '(vector,(0,1,3))');
      await c.put(kvs, String(rank), `{"host":"h${rank}", "card": "with spaces = and more"}`);
      await c.barrier();
      const got = [];
      for (let r = 0; r < 3; r++) got.push(await c.get(kvs, String(r)));
      await assert.rejects(c.get(kvs, 'nosuch'), (e: PmiError) => e instanceof PmiError && e.rc === 4);
      await c.finalize();
      return got;
    };
    const all = await Promise.all([run(0), run(1), run(2)]);
    const want = [0, 1, 2].map((r) => `{"host":"h${r}", "card": "with spaces = and more"}`);
    for (const got of all) assert.deepEqual(got, want);
  } finally {
    close();
  }
});

test('a barrier completes only when every client has entered it', async () => {
  const { ends, close } = await pairs(3);
  const entered: number[] = [];
  let outs = 0;
  let twoIn!: () => void;
  const twoEntered = new Promise<void>((r) => (twoIn = r));
  const server = new PmiSimpleServer({
    size: 3,
    trace: (rank, dir, line) => {
      if (dir === '<' && line === 'cmd=barrier_in') {
        entered.push(rank);
        if (entered.length === 2) twoIn();
      }
      if (dir === '>' && line.startsWith('cmd=barrier_out')) outs++;
    },
  });
  ends.forEach(([, s], r) => server.addClient(r, s));
  try {
    const clients = ends.map(([c]) => new PmiSimpleClient(c));
    const done = [false, false];
    const first = [0, 1].map((r) => clients[r]!.barrier().then(() => (done[r] = true)));
    await twoEntered;
    assert.equal(outs, 0, 'no barrier_out while one client is outside');
    assert.deepEqual(done, [false, false]);
    await clients[2]!.barrier();
    await Promise.all(first);
    assert.equal(outs, 3);
    // and the barrier is ready for another round
    await Promise.all(clients.map((c) => c.barrier()));
    assert.equal(outs, 6);
  } finally {
    close();
  }
});

test('limits: a value of 1024 bytes or a key that is not a word is refused before it is sent', async () => {
  const { ends, close } = await pairs(1);
  const server = new PmiSimpleServer({ size: 1 });
  server.addClient(0, ends[0]![1]);
  try {
    const c = new PmiSimpleClient(ends[0]![0]);
    await c.init();
    await c.getMaxes();
    await assert.rejects(c.put('-', 'k', 'x'.repeat(1024)), /shorter than 1024 bytes/);
    await assert.rejects(c.put('-', 'a key', 'v'), /not a word/);
    await c.put('-', 'k', 'x'.repeat(1023));
    assert.equal((await c.get('-', 'k')).length, 1023);
  } finally {
    close();
  }
});

test('server: abort is reported; PMI version 2 is refused; a garbage line closes that channel', async () => {
  const { ends, close } = await pairs(3);
  const aborts: [number, number, string][] = [];
  const errors: [number, string][] = [];
  const server = new PmiSimpleServer({
    size: 3,
    onAbort: (r, code, msg) => aborts.push([r, code, msg]),
    onError: (r, msg) => errors.push([r, msg]),
  });
  ends.forEach(([, s], r) => server.addClient(r, s));
  try {
    const reply = (sock: net.Socket): Promise<string> =>
      new Promise((resolve) => {
        const lr = new LineReader();
        sock.on('data', (d: Buffer) => {
          const l = lr.push(d);
          if (l.length > 0) resolve(l[0]!);
        });
      });
    const r0 = reply(ends[0]![0]);
    ends[0]![0].write('cmd=init pmi_version=2 pmi_subversion=0\n');
    assert.equal(await r0, 'cmd=response_to_init rc=-1');

    const closed = new Promise<void>((r) => ends[1]![0].on('close', () => r()));
    ends[1]![0].resume();
    ends[1]![0].write('this is not pmi\n');
    await closed;
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![0], 1);

    const c = new PmiSimpleClient(ends[2]![0]);
    await c.init();
    c.abort(3, 'the overlay could not start');
    // the abort has no answer: a request after it shows the server read it
    await c.getMaxes();
    assert.deepEqual(aborts, [[2, 3, 'the overlay could not start']]);
  } finally {
    close();
  }
});

test("the client takes Slurm's answers: its token order, kvsname <jobid>.<step>, rc=1 for a missing key", async () => {
  const { ends, close } = await pairs(1);
  const [client, peer] = ends[0]!;
  // Slurm's pmi2 plugin answers the PMI-1 lines itself (src/plugins/mpi/pmi2/pmi1.c and
  // client.c): rc first in most answers, last in response_to_init
  const script: [string, string][] = [
    ['cmd=init pmi_version=1 pmi_subversion=1', 'cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0'],
    ['cmd=get_maxes', 'cmd=maxes rc=0 kvsname_max=256 keylen_max=256 vallen_max=1024'],
    ['cmd=get_my_kvsname', 'cmd=my_kvsname rc=0 kvsname=12.0'],
    ['cmd=get kvsname=12.0 key=PMI_process_mapping', 'cmd=get_result rc=0 value=(vector,(0,3,1))'],
    ['cmd=put kvsname=12.0 key=1 value={"host":"n2","uri":[]}', 'cmd=put_result rc=0'],
    ['cmd=barrier_in', 'cmd=barrier_out rc=0'],
    ['cmd=get kvsname=12.0 key=nosuch', 'cmd=get_result rc=1'],
    ['cmd=get kvsname=12.0 key=0', 'cmd=get_result rc=0 value={"host":"n1","uri":["ipc:///tmp/x/tbon-0"]}'],
    ['cmd=finalize', 'cmd=finalize_ack rc=0'],
  ];
  const heard: string[] = [];
  const lr = new LineReader();
  peer.on('data', (d: Buffer) => {
    for (const line of lr.push(d)) {
      heard.push(line);
      const step = script[heard.length - 1];
      if (step && step[0] === line) peer.write(step[1] + '\n');
      else peer.write('cmd=unexpected rc=-1\n');
    }
  });
  try {
    const c = new PmiSimpleClient(client);
    // lock-step: Slurm reads one request per read(), so the client never has two in flight
    await c.init();
    assert.deepEqual(await c.getMaxes(), { kvsnameMax: 256, keylenMax: 256, vallenMax: 1024 });
    const kvs = await c.getKvsname();
    assert.equal(kvs, '12.0');
    assert.equal(await c.get(kvs, 'PMI_process_mapping'), '(vector,(0,3,1))');
    await c.put(kvs, '1', '{"host":"n2","uri":[]}');
    await c.barrier();
    await assert.rejects(c.get(kvs, 'nosuch'), (e: PmiError) => e instanceof PmiError && e.rc === 1);
    assert.equal(await c.get(kvs, '0'), '{"host":"n1","uri":["ipc:///tmp/x/tbon-0"]}');
    await c.finalize();
    assert.deepEqual(
      heard,
      script.map(([l]) => l),
    );
  } finally {
    close();
  }
});

test('a server that answers with the wrong command, or goes away, fails the request', async () => {
  const { ends, close } = await pairs(2);
  try {
    ends[0]![1].on('data', () => ends[0]![1].write('cmd=maxes rc=0\n'));
    await assert.rejects(new PmiSimpleClient(ends[0]![0]).init(), /expected cmd=response_to_init/);
    ends[1]![1].on('data', () => ends[1]![1].destroy());
    await assert.rejects(new PmiSimpleClient(ends[1]![0]).init(), /closed the connection/);
  } finally {
    close();
  }
});
