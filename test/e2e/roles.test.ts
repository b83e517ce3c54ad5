/**
 * Method roles (RFC 12) enforced by the broker's dispatch, through a real instance and socket.
 * A guest is the instance owner's connection acting with a guest's credentials, as flux-core's
 * local connector lets the owner do (`FLUX_HANDLE_ROLEMASK=0x2`, `Flux.open(uri, cred)`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { withInstance } from '../helpers/instance.js';
import { Flux, uriToPath } from '../../src/client/handle.js';
import * as job from '../../src/client/job/index.js';
import { JobspecV1 } from '../../src/job/jobspec.js';
import { FluxError } from '../../src/protocol/errno.js';
import { StreamDecoder } from '../../src/protocol/stream.js';
import { encodeMessage, request } from '../../src/protocol/codec.js';
import { MsgFlag, Role, type Message } from '../../src/protocol/types.js';

const EPERM = 1;
const ENOSYS = 38;
const OWNER_ONLY = 'Request requires owner credentials';
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const spec = (cmd: string[]) => JobspecV1.fromCommand(cmd, { environment: env });
const uid = process.getuid!();

function errno(n: number, text?: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof FluxError, `expected FluxError, got ${e}`);
    assert.equal(e.errno, n, `errno ${e.errno} (${e.message})`);
    if (typeof text === 'string') assert.equal(e.message, text);
    else if (text) assert.match(e.message, text);
    return true;
  };
}

test('a guest is refused owner-only methods with EPERM before the handler runs', async () => {
  await withInstance(async (inst, h) => {
    const guest = await Flux.open(inst.uri, { userid: uid + 1, rolemask: Role.USER });
    try {
      await assert.rejects(guest.rpc('attr.set', { name: 'x.test', value: 'guest' }), errno(EPERM, OWNER_ONLY));
      await assert.rejects(h.rpc('attr.get', { name: 'x.test' }), errno(2)); // never set
      await assert.rejects(guest.rpc('job-manager.drain'), errno(EPERM, OWNER_ONLY));
      await assert.rejects(guest.rpc('job-manager.wait', { id: 1 }), errno(EPERM, OWNER_ONLY));
      const journal = guest.rpcStream('job-manager.events-journal', { full: true });
      await assert.rejects(journal.next(), errno(EPERM, OWNER_ONLY));
      // what any user may do
      assert.equal(await guest.attrGet('size'), '1');
      const ping = await guest.rpc('broker.ping', {});
      assert.equal(ping.userid, uid + 1);
      assert.equal(ping.rolemask, Role.USER);
      assert.deepEqual(await guest.rpc('job-manager.queue-list'), { queues: [] });
      // the owner's own connection is unchanged
      assert.equal((await h.rpc('broker.ping', {})).rolemask, Role.OWNER | Role.LOCAL);
      await h.rpc('attr.set', { name: 'x.test', value: 'owner' });
      assert.equal(await h.attrGet('x.test'), 'owner');
    } finally {
      guest.close();
    }
  });
});

test('an in-process request with a guest rolemask is checked the same way', async () => {
  await withInstance(async (inst) => {
    await assert.rejects(
      inst.broker.rpc('attr.set', { name: 'x.test', value: 'v' }, { userid: uid + 1, rolemask: Role.USER }),
      errno(EPERM, OWNER_ONLY),
    );
    assert.equal(inst.broker.getattr('x.test'), undefined);
    assert.deepEqual(await inst.broker.rpc('attr.get', { name: 'size' }, { rolemask: Role.USER }), {
      value: '1',
      flags: 1,
    });
  });
});

test('no client may call an internal topic, not even the owner; in-process calls still work', async () => {
  await withInstance(async (inst, h) => {
    const internal = /^\S+ is internal to the broker: clients may not call it$/;
    const request = { nnodes: 0, nslots: 1, coresPerSlot: 1, gpusPerSlot: 0, exclusive: false, duration: 0 };
    await assert.rejects(
      h.rpc('job-manager.submit', {
        jobs: [{ id: 1, userid: uid, urgency: 16, flags: 0, t_submit: 1, jobspec: {}, request }],
      }),
      errno(EPERM, 'job-manager.submit is internal to the broker: clients may not call it'),
    );
    assert.equal((await h.rpc('job-manager.stats-get')).active_jobs, 0);
    await assert.rejects(
      h.rpc('sched.alloc', { id: 1, priority: 16, userid: uid, t_submit: 1, request }),
      errno(EPERM, internal),
    );
    await assert.rejects(h.rpc('sched.feasible', { request }), errno(EPERM, internal));
    await assert.rejects(h.rpc('job-exec.start', { id: 1, userid: uid }), errno(EPERM, internal));
    await assert.rejects(h.rpc('job-exec.kill', { id: 1, signum: 9 }), errno(EPERM, internal));
    // the same topics between services in this process
    assert.deepEqual(await inst.broker.rpc('sched.feasible', { request }), {});
    // and a job goes through all of them (ingest → manager.submit → sched.alloc → exec.start)
    const id = await job.submit(h, spec(['true']), { waitable: true });
    assert.deepEqual(await job.wait(h, id), { jobid: id, success: true, errstr: '' });
  });
});

test('a refused request without a response wanted gets none', async () => {
  await withInstance(async (inst) => {
    const s = net.connect(uriToPath(inst.uri));
    // the handshake byte comes alone: nothing else is sent before a request arrives
    await new Promise((resolve) => s.once('data', resolve));
    const dec = new StreamDecoder();
    const got: Message[] = [];
    const first = new Promise<void>((resolve) =>
      s.on('data', (c) => {
        got.push(...dec.push(c));
        if (got.length > 0) resolve();
      }),
    );
    s.write(encodeMessage(request('sched.cancel', { id: 1 }, { flags: MsgFlag.NORESPONSE })));
    s.write(encodeMessage(request('attr.set', { name: 'a', value: 'b' }, { flags: MsgFlag.NORESPONSE, rolemask: 2 })));
    s.write(encodeMessage(request('attr.get', { name: 'size' }, { matchtag: 7 })));
    await first;
    // requests are handled in order: a response to either refused one would come first
    assert.equal(got[0]!.aux2, 7);
    assert.equal(got[0]!.aux1, 0);
    s.destroy();
  });
});

test("guests act on their own jobs only: raise, kill, urgency (flux-core's texts)", async () => {
  await withInstance(async (inst, h) => {
    const held = await job.submit(h, spec(['true']), { urgency: 0 });
    const other = await Flux.open(inst.uri, { userid: uid + 1, rolemask: Role.USER });
    // same uid as the owner but only the guest role: the jobs are its own
    const self = await Flux.open(inst.uri, { rolemask: Role.USER });
    try {
      await assert.rejects(
        job.raise(other, held, 'test'),
        errno(EPERM, 'guests can only raise exceptions on their own jobs'),
      );
      await assert.rejects(job.kill(other, held), errno(EPERM, 'guests can only kill their own jobs'));
      await assert.rejects(job.urgency(other, held, 1), errno(EPERM, 'guests can only reprioritize their own jobs'));
      await assert.rejects(job.urgency(self, held, 17), errno(EPERM, 'guests can only adjust urgency <= default'));
      assert.equal(await job.urgency(self, held, 0), 0); // its own job, not above the default
      await job.cancel(self, held);
      assert.deepEqual(await job.result(h, held).then((r) => r.result), 'CANCELED');
    } finally {
      other.close();
      self.close();
    }
  });
});

test('a method name that is not in the table is ENOSYS, whatever the name', async () => {
  await withInstance(async (_inst, h) => {
    for (const t of ['job-manager.toString', 'job-manager.constructor', 'attr.hasOwnProperty', 'sched.__proto__']) {
      await assert.rejects(h.rpc(t, {}), errno(ENOSYS, `No service matching ${t} is registered`));
    }
  });
});

test('FLUX_HANDLE_ROLEMASK and FLUX_HANDLE_USERID set a handle’s credentials; bad values are refused', async () => {
  await withInstance(async (inst) => {
    const saved = { ...process.env };
    try {
      process.env.FLUX_HANDLE_ROLEMASK = '0x2';
      process.env.FLUX_HANDLE_USERID = String(uid + 5);
      const g = await Flux.open(inst.uri);
      const p = await g.rpc('broker.ping', {});
      assert.deepEqual([p.userid, p.rolemask], [uid + 5, 2]);
      await assert.rejects(g.rpc('attr.rm', { name: 'rank' }), errno(EPERM, OWNER_ONLY));
      g.close();
      process.env.FLUX_HANDLE_ROLEMASK = 'guest';
      assert.throws(() => new Flux(inst.uri), errno(22, 'FLUX_HANDLE_ROLEMASK=guest: not a 32-bit unsigned number'));
    } finally {
      for (const k of ['FLUX_HANDLE_ROLEMASK', 'FLUX_HANDLE_USERID']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
