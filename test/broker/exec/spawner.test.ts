import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Spawner,
  SpawnerError,
  type ExitedEvent,
  type FailedEvent,
  type LaunchSpec,
} from '../../../src/broker/exec/spawner.js';

const SPAWNER_JS = fileURLToPath(new URL('../../../src/broker/exec/spawner.js', import.meta.url));

interface Outcome {
  pid?: number;
  stdout: string;
  stderr: string;
  exited?: ExitedEvent;
  failed?: FailedEvent;
}

/** One set of listeners per Spawner; each launch gets a promise of its outcome. */
class Collector {
  private readonly pending = new Map<string, { o: Outcome; resolve: (o: Outcome) => void; onStart?: (pid: number) => void }>();
  constructor(readonly sp: Spawner) {
    sp.on('started', (e) => {
      const p = this.pending.get(e.key);
      if (!p) return;
      p.o.pid = e.pid;
      p.onStart?.(e.pid);
    });
    sp.on('output', (e) => {
      const p = this.pending.get(e.key);
      if (p) p.o[e.stream] += e.data;
    });
    sp.on('exited', (e) => this.settle(e.key, (o) => (o.exited = e)));
    sp.on('failed', (e) => this.settle(e.key, (o) => (o.failed = e)));
  }
  private settle(key: string, f: (o: Outcome) => void): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    f(p.o);
    p.resolve(p.o);
  }
  /** Launch; resolves with the outcome. `onStart` sees the pid. */
  run(spec: LaunchSpec, onStart?: (pid: number) => void): Promise<Outcome> {
    return new Promise((resolve) => {
      this.pending.set(spec.key, { o: { stdout: '', stderr: '' }, resolve, onStart });
      this.sp.launch(spec);
    });
  }
  /** Launch; resolves with the pid once started, plus the outcome promise. */
  async start(spec: LaunchSpec): Promise<{ pid: number; done: Promise<Outcome> }> {
    let started!: (pid: number) => void;
    const pid = new Promise<number>((r) => (started = r));
    const done = this.run(spec, started);
    return { pid: await Promise.race([pid, done.then((o) => assert.fail(`not started: ${JSON.stringify(o)}`))]), done };
  }
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
async function waitGone(pid: number, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

let n = 0;
const key = (): string => `${process.pid}.${n++}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-spawner-test-'));

describe('Spawner with the real helper', () => {
  let sp: Spawner;
  let c: Collector;
  before(async () => {
    sp = await Spawner.start({ killGraceSec: 0.5 });
    c = new Collector(sp);
  });
  after(async () => {
    await sp.shutdown();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('helper is up and small', async () => {
    assert.equal(typeof sp.pid, 'number');
    const s = await sp.stats();
    assert.equal(s.pid, sp.pid);
    assert.ok(s.rss > 0 && s.rss < 200 * 1024 * 1024, `rss ${s.rss}`);
  });

  test('true → status 0, false → 256', async () => {
    const [t, f] = await Promise.all([c.run({ key: key(), argv: ['true'] }), c.run({ key: key(), argv: ['false'] })]);
    assert.deepEqual([t.exited?.waitStatus, t.exited?.timedOut], [0, false]);
    assert.ok((t.pid ?? 0) > 0);
    assert.equal(f.exited?.waitStatus, 256);
  });

  test("sh -c 'kill -9 $$' → signal 9", async () => {
    const o = await c.run({ key: key(), argv: ['sh', '-c', 'kill -9 $$'] });
    assert.equal(o.exited?.waitStatus, 9);
  });

  test('nonexistent command → failed ENOENT, Flux text', async () => {
    const o = await c.run({ key: key(), argv: ['nosuchcmd'] });
    assert.equal(o.exited, undefined);
    assert.deepEqual(
      { errno: o.failed?.errno, code: o.failed?.code, message: o.failed?.message },
      { errno: 2, code: 'ENOENT', message: 'nosuchcmd: No such file or directory' },
    );
  });

  test('non-executable file → failed EACCES', async () => {
    const f = path.join(tmp, 'notexec.sh');
    fs.writeFileSync(f, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const o = await c.run({ key: key(), argv: [f] });
    assert.equal(o.failed?.code, 'EACCES');
    assert.equal(o.failed?.errno, 13);
    assert.equal(o.failed?.message, `${f}: Permission denied`);
  });

  test('bad cwd → failure naming the cwd', async () => {
    const missing = await c.run({ key: key(), argv: ['true'], cwd: '/nonexistent/dir' });
    assert.equal(missing.failed?.code, 'ENOENT');
    assert.equal(missing.failed?.message, 'cwd /nonexistent/dir: No such file or directory');
    const file = path.join(tmp, 'plainfile');
    fs.writeFileSync(file, '');
    const notdir = await c.run({ key: key(), argv: ['true'], cwd: file });
    assert.equal(notdir.failed?.code, 'ENOTDIR');
    assert.equal(notdir.failed?.message, `cwd ${file}: Not a directory`);
  });

  test('env and cwd are passed; output captured', async () => {
    const o = await c.run({
      key: key(),
      argv: ['sh', '-c', 'echo "$FOO|$FLUX_JOB_ID"; pwd; echo oops >&2; exit 3'],
      cwd: tmp,
      env: { FOO: 'bar baz', FLUX_JOB_ID: '1234', PATH: '/usr/bin:/bin' },
      stdout: 'capture',
      stderr: 'capture',
    });
    assert.equal(o.stdout, `bar baz|1234\n${fs.realpathSync(tmp)}\n`);
    assert.equal(o.stderr, 'oops\n');
    assert.equal(o.exited?.waitStatus, 3 << 8);
  });

  test('env is the whole environment (nothing inherited)', async () => {
    const o = await c.run({ key: key(), argv: ['/usr/bin/env'], env: { ONLY: '1' }, stdout: 'capture' });
    assert.equal(o.stdout, 'ONLY=1\n');
  });

  test('large captured output arrives whole, before exited', async () => {
    const o = await c.run({
      key: key(),
      argv: ['sh', '-c', "head -c 1000000 /dev/zero | tr '\\0' a; printf 'é€'"],
      stdout: 'capture',
    });
    assert.equal(o.exited?.waitStatus, 0);
    assert.equal(o.stdout.length, 1_000_002);
    assert.ok(o.stdout.endsWith('aé€'));
  });

  test('stdout and stderr to a file; stdin from a file', async () => {
    const out = path.join(tmp, 'out.txt');
    const inp = path.join(tmp, 'in.txt');
    fs.writeFileSync(inp, 'from stdin\n');
    const o = await c.run({
      key: key(),
      argv: ['sh', '-c', 'cat; echo to-err >&2'],
      stdin: { file: inp },
      stdout: { file: out },
      stderr: { file: out },
    });
    assert.equal(o.exited?.waitStatus, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), 'from stdin\nto-err\n');
    const o2 = await c.run({ key: key(), argv: ['echo', 'again'], stdout: { file: out, append: true } });
    assert.equal(o2.exited?.waitStatus, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), 'from stdin\nto-err\nagain\n');
  });

  test('output file that cannot be opened → failed naming the file', async () => {
    const o = await c.run({ key: key(), argv: ['true'], stdout: { file: '/nonexistent/dir/out' } });
    assert.equal(o.failed?.code, 'ENOENT');
    assert.equal(o.failed?.message, '/nonexistent/dir/out: No such file or directory');
  });

  test('time limit 1 s on sleep 100 → timedOut, SIGALRM', async () => {
    const t0 = Date.now();
    const o = await c.run({ key: key(), argv: ['sleep', '100'], timeLimitSec: 1 });
    const dt = Date.now() - t0;
    assert.deepEqual([o.exited?.waitStatus, o.exited?.timedOut], [14, true]);
    assert.ok(dt >= 950 && dt < 3000, `took ${dt} ms`);
  });

  test('time limit: a task ignoring SIGALRM gets SIGKILL after the grace period', async () => {
    const o = await c.run({ key: key(), argv: ['sh', '-c', 'trap "" ALRM; sleep 100'], timeLimitSec: 0.3, killGraceSec: 0.3 });
    assert.deepEqual([o.exited?.waitStatus, o.exited?.timedOut], [9, true]);
  });

  test('kill SIGTERM on a running sleep 100 → signal 15', async () => {
    const k = key();
    const { done } = await c.start({ key: k, argv: ['sleep', '100'] });
    assert.equal(sp.kill(k, 15), true);
    const o = await done;
    assert.deepEqual([o.exited?.waitStatus, o.exited?.timedOut], [15, false]);
    assert.equal(sp.kill(k, 15), false, 'key no longer outstanding');
  });

  test('kill reaches the whole process group; leftovers die with the task', async () => {
    const k = key();
    const pidFile = path.join(tmp, `bg.${k}`);
    const { done } = await c.start({ key: k, argv: ['sh', '-c', `sleep 100 & echo $! > ${pidFile}; wait`] });
    let bg = 0;
    for (let i = 0; i < 250 && !bg; i++) {
      await new Promise((r) => setTimeout(r, 20));
      bg = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0;
    }
    assert.ok(bg > 0 && alive(bg));
    sp.kill(k, 'SIGTERM');
    assert.equal((await done).exited?.waitStatus, 15);
    assert.ok(await waitGone(bg), `background sleep ${bg} still alive`);
    // A task that leaves a background process behind: the process dies when the task exits.
    const o2 = await c.run({ key: key(), argv: ['sh', '-c', 'sleep 100 & echo $!'], stdout: 'capture' });
    assert.equal(o2.exited?.waitStatus, 0);
    const left = Number(o2.stdout.trim());
    assert.ok(left > 0);
    assert.ok(await waitGone(left), `leftover sleep ${left} still alive`);
  });

  test('rlimit that differs (nofile 512) takes effect', async () => {
    const o = await c.run({ key: key(), argv: ['sh', '-c', 'ulimit -n'], rlimits: { nofile: 512 }, stdout: 'capture' });
    assert.equal(o.stdout.trim(), '512');
    const h = await c.run({ key: key(), argv: ['sh', '-c', 'ulimit -Hn'], rlimits: { nofile: 512 }, stdout: 'capture' });
    assert.notEqual(h.stdout.trim(), '512', 'only the soft limit is set');
  });

  test('rlimits: several, unlimited, and equal-to-current are fine', async () => {
    const o = await c.run({
      key: key(),
      argv: ['sh', '-c', 'echo $(ulimit -c) $(ulimit -t) $(ulimit -s)'],
      rlimits: { core: 0, cpu: -1, stack: 4 * 1024 * 1024 },
      stdout: 'capture',
    });
    assert.equal(o.stdout.trim(), '0 unlimited 4096');
  });

  test('rlimits: start failures keep the Flux text through prlimit', async () => {
    const o = await c.run({ key: key(), argv: ['nosuchcmd'], rlimits: { nofile: 512 } });
    assert.equal(o.failed?.message, 'nosuchcmd: No such file or directory');
    const cw = await c.run({ key: key(), argv: ['true'], rlimits: { nofile: 512 }, cwd: '/nonexistent' });
    assert.equal(cw.failed?.message, 'cwd /nonexistent: No such file or directory');
    const bad = await c.run({ key: key(), argv: ['true'], rlimits: { bogus: 1 } });
    assert.equal(bad.failed?.code, 'EINVAL');
    assert.match(bad.failed?.message ?? '', /invalid rlimit bogus=1/);
  });

  test('rlimit above the hard limit: raised with CAP_SYS_RESOURCE, else a start failure (or clamped)', async () => {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    const canRaise = (BigInt('0x' + capEff) & (1n << 24n)) !== 0n;
    const hard = Number(fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\S+\s+(\d+)/)?.[1]);
    const nrOpen = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    const want = hard + 100;
    const spec = { argv: ['sh', '-c', 'ulimit -n'], rlimits: { nofile: want }, stdout: 'capture' as const };
    const o = await c.run({ key: key(), ...spec });
    if (canRaise && want <= nrOpen) {
      assert.equal(o.stdout.trim(), String(want));
    } else {
      assert.equal(o.failed?.code, 'EPERM');
      assert.equal(o.failed?.message, `rlimit nofile=${want} exceeds the hard limit ${hard}`);
      const cl = await c.run({ key: key(), ...spec, rlimitAboveHard: 'clamp' });
      assert.equal(cl.stdout.trim(), String(hard));
    }
    // Above fs.nr_open nobody can raise nofile: failure, or the hard limit when clamped.
    const huge = await c.run({ key: key(), ...spec, rlimits: { nofile: nrOpen + 1 } });
    assert.equal(huge.failed?.code, 'EPERM');
    const cl = await c.run({ key: key(), ...spec, rlimits: { nofile: nrOpen + 1 }, rlimitAboveHard: 'clamp' });
    assert.equal(cl.stdout.trim(), String(hard));
  });

  test('duplicate outstanding key throws EEXIST', async () => {
    const k = key();
    const { done } = await c.start({ key: k, argv: ['sleep', '100'] });
    assert.throws(() => sp.launch({ key: k, argv: ['true'] }), (e: unknown) => e instanceof SpawnerError && e.code === 'EEXIST');
    sp.kill(k, 'SIGKILL');
    assert.equal((await done).exited?.waitStatus, 9);
  });

  test('2000 `true` launches all report exited 0', async () => {
    const outcomes = await Promise.all(Array.from({ length: 2000 }, () => c.run({ key: key(), argv: ['true'] })));
    assert.equal(outcomes.length, 2000);
    assert.equal(outcomes.filter((o) => o.exited?.waitStatus === 0).length, 2000);
    assert.equal(sp.outstandingCount, 0);
  });
});

describe('Spawner lifecycle', () => {
  test('shutdown kills running tasks (no orphans)', async () => {
    const sp = await Spawner.start();
    const c = new Collector(sp);
    const started = await Promise.all([1, 2, 3].map(() => c.start({ key: key(), argv: ['sleep', '100'] })));
    const helper = sp.pid!;
    await sp.shutdown();
    const outcomes = await Promise.all(started.map((s) => s.done));
    assert.deepEqual(
      outcomes.map((o) => o.exited?.waitStatus),
      [9, 9, 9],
    );
    for (const s of started) assert.ok(await waitGone(s.pid), `task ${s.pid} survived`);
    assert.ok(await waitGone(helper));
    assert.equal(sp.pid, undefined);
    // launching with no helper: failed, not a hang
    const o = await c.run({ key: key(), argv: ['true'] });
    assert.equal(o.failed?.code, 'ESPAWNER');
  });

  test('helper dies: error event, outstanding tasks settled and killed, restart works', async () => {
    const sp = await Spawner.start();
    const c = new Collector(sp);
    const errors: Error[] = [];
    sp.on('error', (e) => errors.push(e));
    const { pid, done } = await c.start({ key: key(), argv: ['sleep', '100'] });
    process.kill(sp.pid!, 'SIGKILL');
    const o = await done;
    assert.equal(o.exited?.lost, true);
    assert.equal(o.exited?.waitStatus, 9);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as SpawnerError).code, 'ESPAWNER');
    assert.ok(await waitGone(pid), 'task of the dead helper was killed');
    await sp.restart();
    const t = await c.run({ key: key(), argv: ['true'] });
    assert.equal(t.exited?.waitStatus, 0);
    await sp.shutdown();
  });

  test('parent dies: helper kills its tasks and exits', async () => {
    const script = `
      const { Spawner } = await import(${JSON.stringify(SPAWNER_JS)});
      const sp = await Spawner.start();
      sp.on('started', (e) => console.log(JSON.stringify({ helper: sp.pid, task: e.pid })));
      sp.launch({ key: 'x', argv: ['sleep', '100'] });
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      parent.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(buf);
      });
      parent.on('exit', () => reject(new Error('parent exited early')));
    });
    const { helper, task } = JSON.parse(line) as { helper: number; task: number };
    assert.ok(alive(helper) && alive(task));
    parent.kill('SIGKILL');
    assert.ok(await waitGone(task), 'task survived its broker');
    assert.ok(await waitGone(helper), 'helper survived its broker');
  });

  test('EMFILE in the helper is a failed event, not a crash', async () => {
    // Run the helper under a tiny fd limit: node <- prlimit --nofile=N:N.
    const sp = await Spawner.start({ nodePath: '/usr/bin/prlimit', execArgv: ['--nofile=64:64', process.execPath] });
    const c = new Collector(sp);
    const runs = Array.from({ length: 40 }, () =>
      c.run({ key: key(), argv: ['sleep', '0.5'], stdout: 'capture', stderr: 'capture' }),
    );
    const outcomes = await Promise.all(runs);
    const failed = outcomes.filter((o) => o.failed);
    assert.ok(failed.length > 0, 'expected some launches to hit the fd limit');
    for (const o of failed) assert.ok(['EMFILE', 'ENFILE'].includes(o.failed!.code), o.failed!.message);
    assert.ok(outcomes.some((o) => o.exited?.waitStatus === 0));
    const after = await c.run({ key: key(), argv: ['true'] });
    assert.equal(after.exited?.waitStatus, 0, 'helper still works');
    await sp.shutdown();
  });
});
