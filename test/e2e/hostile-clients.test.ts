/**
 * One connection must not stall or bloat the broker: a message of endless empty frames is
 * refused as soon as it has too many, what all half-received messages hold together is capped
 * (the connection holding the most is closed), and a client that does not read is disconnected
 * once its outgoing queue is full. Every time the broker keeps serving the others.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { withInstance } from '../helpers/instance.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import { uriToPath, type Flux } from '../../src/client/handle.js';
import { encodeMessage, request } from '../../src/protocol/codec.js';
import type { Instance } from '../../src/broker/instance.js';

const MiB = 1024 * 1024;

/** A raw connection past the handshake; `closed` resolves when the broker closes it. */
async function connect(inst: Instance): Promise<{ sock: net.Socket; closed: Promise<void> }> {
  const sock = net.connect(uriToPath(inst.uri));
  sock.on('error', () => sock.destroy());
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  return { sock, closed };
}

/** A stream header (docs/protocol.md §A.2) announcing `len` bytes of frames. */
function header(len: number): Buffer {
  const b = Buffer.from([0x12, 0x00, 0xee, 0xff, 0, 0, 0, 0]);
  b.writeUInt32BE(len, 4);
  return b;
}

async function ping(h: Flux): Promise<void> {
  await h.rpc('broker.ping', {});
}

describe('hostile clients', { timeout: HANG_TIMEOUT }, () => {
  test('a message of endless empty frames is refused at the first frames, the others served', async () => {
    await withInstance(async (inst, h) => {
      const { sock, closed } = await connect(inst);
      sock.write(header(64 * MiB - 1));
      // 1 MiB of zero-length frames (of 64 MiB announced): the broker must not wait for the rest
      sock.write(Buffer.alloc(MiB));
      await closed;
      await ping(h);
      assert.equal(inst.server.pendingBytes, 0);
    });
  });

  test('incomplete messages of all connections are capped: the one holding the most is closed', async () => {
    await withInstance(
      async (inst, h) => {
        const conns = await Promise.all([connect(inst), connect(inst), connect(inst)]);
        let closed = 0;
        for (const c of conns) void c.closed.then(() => closed++);
        // each starts a 3 MiB message and sends 2 MiB of it (valid frames: one 2 MiB+ frame)
        for (const c of conns) {
          const body = Buffer.alloc(2 * MiB);
          body[0] = 0xff;
          body.writeUInt32BE(3 * MiB - 5 - 21, 1);
          c.sock.write(Buffer.concat([header(3 * MiB), body]));
        }
        // 6 MiB would be held: one at least is closed, the rest stay within 4 MiB
        await until(() => closed >= 1, 'a connection closed');
        assert.ok(inst.server.pendingBytes <= 4 * MiB, `${inst.server.pendingBytes} bytes held`);
        await ping(h);
        for (const c of conns) c.sock.destroy();
        await until(() => inst.server.pendingBytes === 0, 'the budget given back');
      },
      { maxPendingBytes: 4 * MiB },
    );
  });

  test('a client that does not read is disconnected when its queue is full, the others served', async () => {
    await withInstance(
      async (inst, h) => {
        const before = inst.server.connectionCount;
        const { sock } = await connect(inst);
        sock.pause(); // never reads its responses
        await until(() => inst.server.connectionCount === before + 1, 'the connection accepted');
        const pad = 'x'.repeat(1000);
        const msg = encodeMessage(request('broker.ping', { pad }, { matchtag: 1 }));
        // 8 MiB of pings, answered with as much: more than the 1 MiB queue and the socket buffers
        for (let i = 0; i < 8000; i++) sock.write(msg);
        await until(() => inst.server.connectionCount === before, 'the reader-less client dropped');
        await ping(h);
        sock.destroy();
      },
      { maxQueuedBytes: MiB },
    );
  });
});
