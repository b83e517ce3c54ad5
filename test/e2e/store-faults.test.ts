/**
 * The durable store on a real full disk and a real read-only file system: a small tmpfs, and a
 * read-only bind mount, each in a mount namespace of its own (unshare -m as root, -rm in a user
 * namespace otherwise).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { baseEnv } from '../helpers/cli.js';
import { repoRoot, tsfluxBin } from '../helpers/paths.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import { withInstance } from '../helpers/instance.js';
import { Flux } from '../../src/client/handle.js';
import * as job from '../../src/client/job/index.js';
import { FluxError } from '../../src/protocol/errno.js';
import { tempDir } from '../helpers/temp.js';

const ENOSPC = 28;

/** unshare's flags for a private mount namespace here, or why there is none. */
const unshareFlags = ((): string[] | string => {
  const flags = process.getuid?.() === 0 ? ['-m'] : ['-rm'];
  const r = spawnSync('unshare', [...flags, 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], { stdio: 'ignore' });
  return r.status === 0
    ? flags
    : `cannot make a mount namespace here (unshare ${flags.join(' ')}: ${r.status ?? r.error})`;
})();
const skip = typeof unshareFlags === 'string' ? unshareFlags : false;

function tmp(): string {
  return tempDir('tsflux-faults-');
}

/** A script in its own mount namespace; resolves with its exit code and output. */
function inNamespace(script: string, env: Record<string, string>) {
  const child = spawn('unshare', [...(unshareFlags as string[]), 'sh', '-c', script], {
    cwd: repoRoot,
    env: { ...baseEnv(), TSFLUX: tsfluxBin, NODE: process.execPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<{ rc: number | null; out: string }>((resolve) =>
    child.on('close', (rc) => resolve({ rc, out })),
  );
  return { child, done, output: () => out };
}

describe('the store on a full or read-only file system', { skip, timeout: HANG_TIMEOUT }, () => {
  test('a full disk refuses new jobs with ENOSPC, loses no acknowledged one, and recovers when space returns', async () => {
    const dir = tmp();
    const D = path.join(dir, 'small'); // a 1,280 KiB tmpfs inside the namespace (80 pages of a new store)
    const OUT = path.join(dir, 'out');
    const R = path.join(dir, 'run');
    fs.mkdirSync(D);
    fs.mkdirSync(OUT);
    // The broker's initial program ends when the broker dies (tail --pid); the store is then
    // copied out of the tmpfs. The filler file is removed when the test creates OUT/free; its
    // watcher also ends with this script (so a broker that fails at start fails the test rather
    // than leaving a loop that holds the test's pipes open).
    const script = `
      set -e
      mount -t tmpfs -o size=1280k tmpfs "$D"
      head -c 384k /dev/zero > "$D/filler"
      ( while [ ! -e "$OUT/free" ] && kill -0 $$ 2>/dev/null; do sleep 0.05; done; rm -f "$D/filler" ) >/dev/null 2>&1 &
      "$NODE" "$TSFLUX" start --cores=1 --gpus=0 --store "$D/s.db" --rundir "$R" sh -c 'exec tail --pid=$PPID -f /dev/null' || true
      cp "$D"/s.db* "$OUT"/
      echo copied`;
    const ns = inNamespace(script, { D, OUT, R });
    const sock = path.join(R, 'local-0');
    await until(() => fs.existsSync(sock) || ns.child.exitCode !== null, 'the broker on the small disk');
    assert.ok(fs.existsSync(sock), ns.output());
    const h = await Flux.open(`local://${sock}`);
    const acked: bigint[] = [];
    let full: FluxError | undefined;
    for (let i = 0; full === undefined; i++) {
      // distinct jobspecs of 8 KiB each: no two share a stored jobspec
      const spec = job.JobspecV1.fromCommand(['true']);
      spec.setattr('system.filler', `${i}:${'x'.repeat(8192)}`);
      try {
        acked.push(await job.submit(h, spec, { urgency: 0 }));
      } catch (e) {
        full = e as FluxError;
      }
    }
    assert.equal(full.errno, ENOSPC, full.message);
    assert.match(full.message, /full/);
    assert.ok(acked.length > 0);
    // the broker carries on: it answers, and lists every acknowledged job
    await h.rpc('broker.ping', {});
    const listed = (await job.list(h, { maxEntries: 0, attrs: ['id'] })).map((j) => BigInt(j.id));
    assert.deepEqual(listed.sort(), [...acked].sort());

    // space comes back: commits succeed again (the store retries every second)
    fs.writeFileSync(path.join(OUT, 'free'), '');
    let after: bigint | undefined;
    await until(async () => {
      try {
        after = await job.submit(h, job.JobspecV1.fromCommand(['true']), { urgency: 0 });
        return true;
      } catch (e) {
        assert.equal((e as FluxError).errno, ENOSPC);
        return false;
      }
    }, 'a submit to succeed once space is back');
    acked.push(after!);
    const pid = Number(await h.attrGet('broker.pid'));
    h.close();
    process.kill(pid, 'SIGKILL');
    const r = await ns.done;
    assert.equal(r.rc, 0, r.out);

    // the store, copied out, has every acknowledged job exactly once
    await withInstance(
      async (_inst, h2) => {
        const back = (await job.list(h2, { maxEntries: 0, attrs: ['id'] })).map((j) => BigInt(j.id));
        assert.deepEqual(back.sort(), acked.sort());
      },
      { storePath: path.join(OUT, 's.db') },
    );
  });

  test('a store on a read-only file system is refused at start, and left as it was', async () => {
    const dir = tmp();
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro);
    await withInstance(
      async (_inst, h) => void (await job.submit(h, job.JobspecV1.fromCommand(['true']), { urgency: 0 })),
      {
        storePath: path.join(ro, 's.db'),
      },
    );
    const before = fs.readFileSync(path.join(ro, 's.db'));
    const script = `
      mount --bind "$RO" "$RO" && mount -o remount,ro,bind "$RO"
      "$NODE" "$TSFLUX" start --store "$RO/s.db" true
      echo "rc=$?"`;
    const r = await inNamespace(script, { RO: ro }).done;
    assert.match(r.out, /rc=1/);
    assert.match(
      r.out,
      new RegExp(`store ${ro}/s\\.db: cannot open: the file is not writable \\(Read-only file system\\)`),
      r.out,
    );
    assert.deepEqual(fs.readFileSync(path.join(ro, 's.db')), before);
  });
});
