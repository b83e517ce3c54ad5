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
  findNativeLauncher,
  type ExitedEvent,
  type FailedEvent,
  type LaunchSpec,
} from '../../../src/broker/launcher/spawner.js';
import { HANG_TIMEOUT, alive, dead, lineOf, until } from '../../helpers/wait.js';

const SPAWNER_JS = fileURLToPath(new URL('../../../src/broker/launcher/spawner.js', import.meta.url));

interface Outcome {
  pid?: number;
  stdout: string;
  stderr: string;
  exited?: ExitedEvent;
  failed?: FailedEvent;
}

/** One set of listeners per Spawner; each launch gets a promise of its outcome. */
class Collector {
  private readonly pending = new Map<
    string,
    { o: Outcome; resolve: (o: Outcome) => void; onStart?: (pid: number) => void }
  >();
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

let n = 0;
const key = (): string => `${process.pid}.${n++}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-spawner-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The native launcher binary (built by scripts/build-launcher.mjs), or null. */
const NATIVE = findNativeLauncher();
type Launcher = 'node' | 'native';
const LAUNCHERS: Launcher[] = ['node', 'native'];
const skipFor = (launcher: Launcher): string | false =>
  launcher === 'native' && !NATIVE
    ? 'native launcher not built (no C compiler?): run node scripts/build-launcher.mjs'
    : false;

/** One launcher for a describe block: started before its tests, shut down after them. */
function spawnerFor(launcher: Launcher, set: (sp: Spawner, c: Collector) => void): void {
  let sp: Spawner | undefined;
  before(async () => {
    sp = await Spawner.start({ launcher, killGraceSec: 0.5 });
    set(sp, new Collector(sp));
  });
  after(async () => {
    await sp?.shutdown();
  });
}

/** A launcher of the test's own (one it kills or signals), its collector and the errors it emits. */
async function ownSpawner(
  launcher: Launcher,
): Promise<{ sp: Spawner; c: Collector; errors: Error[]; firstError: Promise<Error> }> {
  const sp = await Spawner.start({ launcher });
  const errors: Error[] = [];
  let first!: (e: Error) => void;
  const firstError = new Promise<Error>((r) => (first = r));
  sp.on('error', (e) => {
    errors.push(e);
    first(e);
  });
  return { sp, c: new Collector(sp), errors, firstError };
}

for (const launcher of LAUNCHERS) {
  describe(`Spawner with the real helper [${launcher}]`, { skip: skipFor(launcher), timeout: HANG_TIMEOUT }, () => {
    let sp: Spawner;
    let c: Collector;
    spawnerFor(launcher, (s, col) => ((sp = s), (c = col)));

    test('helper is up and small', async () => {
      assert.equal(sp.launcher, launcher);
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

    test('env is the whole environment (nothing inherited), and the native marker', async () => {
      const o = await c.run({ key: key(), argv: ['/usr/bin/env'], env: { ONLY: '1' }, stdout: 'capture' });
      // the native launcher marks each task, to find what it leaves behind (README: escaped processes)
      if (launcher === 'native') assert.match(o.stdout, /^ONLY=1\nTSFLUX_TASK=\d+\.\d+\n$/);
      else assert.equal(o.stdout, 'ONLY=1\n');
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

    test('time limit 1 s on sleep 1000 → timedOut, SIGALRM, not before the limit', async () => {
      // A lower bound only, on the monotonic clock the launchers' timers use: the task starts
      // after t0, so its limit cannot expire sooner than 1 s after t0 however loaded the machine
      // (load only makes it later). The 50 ms allow for millisecond rounding in the timers.
      const t0 = performance.now();
      const o = await c.run({ key: key(), argv: ['sleep', '1000'], timeLimitSec: 1 });
      const dt = performance.now() - t0;
      assert.deepEqual([o.exited?.waitStatus, o.exited?.timedOut], [14, true]);
      assert.ok(dt >= 950, `the limit fired early: after ${dt} ms`);
    });

    test('a time limit beyond 24.8 days (past one node timer) does not fire early', async () => {
      const o = await c.run({ key: key(), argv: ['sleep', '0.3'], timeLimitSec: 30 * 86400 });
      assert.deepEqual([o.exited?.waitStatus, o.exited?.timedOut], [0, false]);
    });

    test('time limit: a task ignoring SIGALRM gets SIGKILL after the grace period', async () => {
      // The shell ignores SIGALRM only once it has run `trap`. A limit that expires before that
      // (a loaded machine) kills it with SIGALRM, which is right too: then try a longer limit,
      // until the task was ready for it. Either way the outcome is checked.
      for (let limit = 0.3; ; limit *= 2) {
        const o = await c.run({
          key: key(),
          argv: ['sh', '-c', 'trap "" ALRM; sleep 1000'],
          timeLimitSec: limit,
          killGraceSec: 0.3,
        });
        assert.equal(o.exited?.timedOut, true);
        if (o.exited?.waitStatus === 9) break;
        assert.equal(o.exited?.waitStatus, 14, 'SIGALRM before the trap, or SIGKILL after the grace');
      }
    });

    test('kill SIGTERM on a running sleep 1000 → signal 15', async () => {
      const k = key();
      const { done } = await c.start({ key: k, argv: ['sleep', '1000'] });
      assert.equal(sp.kill(k, 15), true);
      const o = await done;
      assert.deepEqual([o.exited?.waitStatus, o.exited?.timedOut], [15, false]);
      assert.equal(sp.kill(k, 15), false, 'key no longer outstanding');
    });

    test('kill reaches the whole process group; leftovers die with the task', async () => {
      const k = key();
      const pidFile = path.join(tmp, `bg.${k}`);
      const { done } = await c.start({ key: k, argv: ['sh', '-c', `sleep 1000 & echo $! > ${pidFile}; wait`] });
      const bg = Number(await lineOf(pidFile));
      assert.ok(bg > 0 && alive(bg));
      sp.kill(k, 'SIGTERM');
      assert.equal((await done).exited?.waitStatus, 15);
      await dead(bg); // the background sleep dies with its group
      // A task that leaves a background process behind: the process dies when the task exits.
      const o2 = await c.run({ key: key(), argv: ['sh', '-c', 'sleep 1000 & echo $!'], stdout: 'capture' });
      assert.equal(o2.exited?.waitStatus, 0);
      const left = Number(o2.stdout.trim());
      assert.ok(left > 0);
      await dead(left);
    });

    test('rlimit that differs (nofile 512) takes effect', async () => {
      const o = await c.run({
        key: key(),
        argv: ['sh', '-c', 'ulimit -n'],
        rlimits: { nofile: 512 },
        stdout: 'capture',
      });
      assert.equal(o.stdout.trim(), '512');
      const h = await c.run({
        key: key(),
        argv: ['sh', '-c', 'ulimit -Hn'],
        rlimits: { nofile: 512 },
        stdout: 'capture',
      });
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
      const { done } = await c.start({ key: k, argv: ['sleep', '1000'] });
      assert.throws(
        () => sp.launch({ key: k, argv: ['true'] }),
        (e: unknown) => e instanceof SpawnerError && e.code === 'EEXIST',
      );
      sp.kill(k, 'SIGKILL');
      assert.equal((await done).exited?.waitStatus, 9);
    });

    test('mkdir: made (mode 0700, missing parents too) before the task starts; one that exists is fine', async () => {
      const dir = path.join(tmp, `mk-${key()}`, 'a', 'b');
      const check = {
        argv: ['/bin/sh', '-c', 'test -d "$D" && stat -c %a "$D"'],
        env: { D: dir, PATH: '/usr/bin:/bin' },
        stdout: 'capture' as const,
      };
      const first = await c.run({ key: key(), ...check, mkdir: dir });
      assert.equal(first.stdout, '700\n');
      const again = await c.run({ key: key(), ...check, mkdir: dir });
      assert.equal(again.exited?.waitStatus, 0);
      // one that cannot be made (under a file) is reported on stderr; the task still runs
      const file = path.join(tmp, `file-${key()}`);
      fs.writeFileSync(file, '');
      const bad = await c.run({ key: key(), argv: ['true'], mkdir: path.join(file, 'x') });
      assert.equal(bad.exited?.waitStatus, 0);
    });

    test('rmdir: after the commands before it, an empty directory or a whole tree; a missing one is fine', async () => {
      const full = path.join(tmp, `rm-${key()}`);
      const empty = path.join(tmp, `rm-${key()}`);
      const env = { D: full, PATH: '/usr/bin:/bin' };
      const filled = await c.run({
        key: key(),
        argv: ['/bin/sh', '-c', 'mkdir -p "$D/x/y" && echo hi > "$D/x/y/f" && : > "$D/g"'],
        env,
        mkdir: full,
      });
      assert.equal(filled.exited?.waitStatus, 0);
      assert.equal(fs.readFileSync(path.join(full, 'x/y/f'), 'utf8'), 'hi\n');
      assert.equal((await c.run({ key: key(), argv: ['true'], mkdir: empty })).exited?.waitStatus, 0);
      sp.rmdir(full);
      sp.rmdir(empty);
      sp.rmdir(path.join(tmp, 'never-made'));
      // commands are handled in order: a task launched after the rmdirs sees them done
      const after = await c.run({
        key: key(),
        argv: ['/bin/sh', '-c', 'test ! -e "$D" && test ! -e "$E"'],
        env: { ...env, E: empty },
      });
      assert.equal(after.exited?.waitStatus, 0);
      assert.equal(fs.existsSync(full) || fs.existsSync(empty), false);
    });

    test("stdin 'pipe': bytes in order, then eof; 4 MB through a slow reader; one task each", async () => {
      const a = key();
      const b = key();
      const ca = c.run({ key: a, argv: ['cat'], stdin: 'pipe', stdout: 'capture' });
      const cb = c.run({ key: b, argv: ['cat'], stdin: 'pipe', stdout: 'capture' });
      assert.equal(sp.writeStdin(a, Buffer.from('hello ')), true);
      sp.writeStdin(b, Buffer.from('to b'), true);
      sp.writeStdin(a, Buffer.from('wörld\n'));
      sp.writeStdin(a, undefined, true);
      assert.deepEqual([(await ca).stdout, (await cb).stdout], ['hello wörld\n', 'to b']);
      assert.equal(sp.writeStdin(a, Buffer.from('late')), false, 'the task is done');
      // more than any pipe holds, to a reader that takes its time: nothing lost, nothing blocks
      const big = Buffer.alloc(4 << 20, 'x');
      const k = key();
      const slow = c.run({ key: k, argv: ['sh', '-c', 'sleep 0.3; wc -c'], stdin: 'pipe', stdout: 'capture' });
      sp.writeStdin(k, big.subarray(0, 1 << 20));
      sp.writeStdin(k, big.subarray(1 << 20), true);
      const quick = await c.run({ key: key(), argv: ['true'] });
      assert.equal(quick.exited?.waitStatus, 0, 'the launcher goes on while the big write waits');
      assert.equal((await slow).stdout.trim(), String(4 << 20));
    });

    test("stdin 'pipe': a task that never reads, or closes its stdin, loses the rest and nothing else", async () => {
      const k = key();
      const run = c.run({
        key: k,
        argv: ['sh', '-c', 'exec 0<&-; sleep 0.2; echo done'],
        stdin: 'pipe',
        stdout: 'capture',
      });
      sp.writeStdin(k, Buffer.alloc(1 << 20, 'y'), true);
      assert.equal((await run).stdout, 'done\n');
      const k2 = key();
      const never = c.run({ key: k2, argv: ['sleep', '0.2'], stdin: 'pipe' });
      sp.writeStdin(k2, Buffer.alloc(1 << 20, 'z'));
      assert.equal((await never).exited?.waitStatus, 0);
      // without eof a reader waits: kill ends it
      const { pid, done } = await c.start({ key: key(), argv: ['cat'], stdin: 'pipe' });
      assert.ok(alive(pid));
      process.kill(pid, 'SIGTERM');
      assert.equal((await done).exited?.waitStatus, 15);
    });

    test('2000 `true` launches all report exited 0', async () => {
      const outcomes = await Promise.all(Array.from({ length: 2000 }, () => c.run({ key: key(), argv: ['true'] })));
      assert.equal(outcomes.length, 2000);
      assert.equal(outcomes.filter((o) => o.exited?.waitStatus === 0).length, 2000);
      assert.equal(sp.outstandingCount, 0);
    });
  });

  describe(`Spawner lifecycle [${launcher}]`, { skip: skipFor(launcher), timeout: HANG_TIMEOUT }, () => {
    test('shutdown kills running tasks (no orphans)', async () => {
      const sp = await Spawner.start({ launcher });
      const c = new Collector(sp);
      const started = await Promise.all([1, 2, 3].map(() => c.start({ key: key(), argv: ['sleep', '1000'] })));
      const helper = sp.pid!;
      await sp.shutdown();
      const outcomes = await Promise.all(started.map((s) => s.done));
      assert.deepEqual(
        outcomes.map((o) => o.exited?.waitStatus),
        [9, 9, 9],
      );
      for (const s of started) await dead(s.pid); // no orphans
      await dead(helper);
      assert.equal(sp.pid, undefined);
      // launching with no helper: failed, not a hang
      const o = await c.run({ key: key(), argv: ['true'] });
      assert.equal(o.failed?.code, 'ESPAWNER');
    });

    test('helper dies: error event, outstanding tasks settled and killed, restart works', async () => {
      const { sp, c, errors } = await ownSpawner(launcher);
      const { pid, done } = await c.start({ key: key(), argv: ['sleep', '1000'] });
      process.kill(sp.pid!, 'SIGKILL');
      const o = await done;
      assert.equal(o.exited?.lost, true);
      assert.equal(o.exited?.waitStatus, 9);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as SpawnerError).code, 'ESPAWNER');
      await dead(pid); // the task of the dead helper is killed
      await sp.restart();
      const t = await c.run({ key: key(), argv: ['true'] });
      assert.equal(t.exited?.waitStatus, 0);
      await sp.shutdown();
    });

    test('parent dies: helper kills its tasks and exits', async () => {
      const script = `
        const { Spawner } = await import(${JSON.stringify(SPAWNER_JS)});
        const sp = await Spawner.start({ launcher: ${JSON.stringify(launcher)} });
        sp.on('started', (e) => console.log(JSON.stringify({ helper: sp.pid, task: e.pid })));
        sp.launch({ key: 'x', argv: ['sleep', '1000'] });
        setInterval(() => {}, 1000);
      `;
      const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
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
      await dead(task); // neither the task nor the helper outlives the broker
      await dead(helper);
    });

    test('EMFILE in the helper is a failed event, not a crash', async () => {
      // Run the helper under a tiny fd limit: node <- prlimit --nofile=N:N (native: a wrapper).
      const wrapper = path.join(tmp, 'launcher-nofile-64');
      fs.writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/prlimit --nofile=64:64 ${NATIVE} "$@"\n`, { mode: 0o755 });
      const sp = await Spawner.start(
        launcher === 'node'
          ? { launcher, nodePath: '/usr/bin/prlimit', execArgv: ['--nofile=64:64', process.execPath] }
          : { launcher, nativePath: wrapper },
      );
      const c = new Collector(sp);
      // Tasks that keep their descriptors until told to end (cat, until eof on its stdin): the
      // launches pile up against the limit however slowly the machine runs them.
      const runs = Array.from({ length: 40 }, () => {
        const k = key();
        let started!: () => void;
        const running = new Promise<void>((r) => (started = r));
        const done = c.run({ key: k, argv: ['cat'], stdin: 'pipe', stdout: 'capture', stderr: 'capture' }, () =>
          started(),
        );
        return { k, done, settled: Promise.race([running, done]) };
      });
      await Promise.all(runs.map((r) => r.settled));
      for (const r of runs) sp.writeStdin(r.k, undefined, true);
      const outcomes = await Promise.all(runs.map((r) => r.done));
      const failed = outcomes.filter((o) => o.failed);
      assert.ok(failed.length > 0, 'expected some launches to hit the fd limit');
      for (const o of failed) assert.ok(['EMFILE', 'ENFILE'].includes(o.failed!.code), o.failed!.message);
      assert.ok(outcomes.some((o) => o.exited?.waitStatus === 0));
      const after = await c.run({ key: key(), argv: ['true'] });
      assert.equal(after.exited?.waitStatus, 0, 'helper still works');
      await sp.shutdown();
    });
  });

  describe(`Spawner edge cases [${launcher}]`, { skip: skipFor(launcher), timeout: HANG_TIMEOUT }, () => {
    // What the node helper does is the reference: every test here runs against both launchers.
    let sp: Spawner;
    let c: Collector;
    spawnerFor(launcher, (s, col) => ((sp = s), (c = col)));

    test('a task that closes its stdout and stderr early', async () => {
      const o = await c.run({
        key: key(),
        argv: ['sh', '-c', 'echo before; exec >&- 2>&- <&-; sleep 0.2; exit 3'],
        stdout: 'capture',
        stderr: 'capture',
      });
      assert.deepEqual([o.exited?.waitStatus, o.stdout, o.stderr], [3 << 8, 'before\n', '']);
    });

    test('1000 capturing tasks at once: each output reaches its own key', async () => {
      const runs = Array.from({ length: 1000 }, () =>
        c.run({ key: key(), argv: ['sh', '-c', 'echo $$'], stdout: 'capture' }),
      );
      const outcomes = await Promise.all(runs);
      for (const o of outcomes) {
        assert.equal(o.exited?.waitStatus, 0);
        assert.equal(o.stdout, `${o.pid}\n`);
      }
      assert.equal(sp.outstandingCount, 0);
    });

    test('huge argv and env', async () => {
      const args = Array.from({ length: 100_000 }, (_, i) => `a${i}`);
      const a = await c.run({
        key: key(),
        argv: ['sh', '-c', 'echo $# "$1" "${100000}"', 'sh', ...args],
        stdout: 'capture',
      });
      assert.equal(a.stdout, '100000 a0 a99999\n');
      const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
      for (let i = 0; i < 2000; i++) env[`V${i}`] = String(i).padEnd(500, 'x');
      const e = await c.run({ key: key(), argv: ['sh', '-c', 'printf "%s" "$V1999"'], env, stdout: 'capture' });
      assert.equal(e.stdout, '1999'.padEnd(500, 'x'));
      // Past the kernel's limits: E2BIG, a start failure like any other.
      const one = await c.run({ key: key(), argv: ['sh', '-c', 'true', 'x'.repeat(200_000)] });
      assert.deepEqual(
        [one.failed?.code, one.failed?.errno, one.failed?.message],
        ['E2BIG', 7, 'sh: Argument list too long'],
      );
      const all = await c.run({ key: key(), argv: ['true', ...Array.from({ length: 40 }, () => 'y'.repeat(100_000))] });
      assert.equal(all.failed?.code, 'E2BIG');
      assert.equal((await c.run({ key: key(), argv: ['true'] })).exited?.waitStatus, 0, 'still working');
    });

    test('10 MB of output from one task, and multi-byte characters across every boundary', async () => {
      const big = await c.run({
        key: key(),
        argv: ['sh', '-c', "head -c 10000000 /dev/zero | tr '\\0' a"],
        stdout: 'capture',
      });
      assert.equal(big.exited?.waitStatus, 0);
      assert.equal(big.stdout.length, 10_000_000);
      assert.ok(/^a*$/.test(big.stdout));
      const mb = await c.run({ key: key(), argv: ['sh', '-c', "yes 'é€😀x' | head -n 300000 >&2"], stderr: 'capture' });
      assert.equal(mb.exited?.waitStatus, 0);
      assert.ok(mb.stderr === 'é€😀x\n'.repeat(300_000), 'stderr arrives whole and undamaged');
      // A truncated character at the end is flushed (as U+FFFD) before `exited`.
      const cut = await c.run({ key: key(), argv: ['sh', '-c', "printf 'ok\\342\\202'"], stdout: 'capture' });
      assert.equal(cut.stdout, 'ok\ufffd');
    });

    test('holdOutput: the output waits (the task blocks writing it), then arrives whole, before exited', async () => {
      const k = key();
      let bytes = 0;
      const count = (e: { key: string; data: Buffer }): void => {
        if (e.key === k) bytes += e.data.length;
      };
      sp.on('output', count);
      try {
        const { pid, done } = await c.start({
          key: k,
          argv: ['sh', '-c', 'read go; exec head -c 20000000 /dev/zero'],
          stdin: 'pipe',
          stdout: 'capture',
        });
        sp.holdOutput(true);
        sp.writeStdin(k, Buffer.from('go\n'));
        let exited = false;
        void done.then(() => (exited = true));
        // head fills the pipe (native: the launcher stops reading it once 4 MiB of events wait)
        await until(() => {
          assert.ok(!exited, 'the task ended while its output was held');
          return /pipe_write|sock/.test(fs.readFileSync(`/proc/${pid}/wchan`, 'utf8'));
        }, 'the task blocked writing');
        assert.ok(bytes < 20_000_000);
        // native: nothing at all is read meanwhile; the node helper may pass on what it read before it heard
        if (launcher === 'native') assert.equal(bytes, 0);
        sp.holdOutput(false);
        const o = await done;
        assert.equal(o.exited?.waitStatus, 0);
        assert.equal(o.stdout.length, 20_000_000);
        assert.equal(bytes, 20_000_000);
      } finally {
        sp.off('output', count);
        sp.holdOutput(false);
      }
    });

    test('a grandchild that leaves the group and holds the pipe open: exited after the close grace (native: and killed)', async () => {
      const f = path.join(tmp, `gc.${n}`);
      const script = `setsid sh -c 'echo $$ > ${f}; exec sleep 3600' & while [ ! -s ${f} ]; do sleep 0.01; done; cat ${f}`;
      const o = await c.run({ key: key(), argv: ['sh', '-c', script], stdout: 'capture' });
      assert.equal(o.exited?.waitStatus, 0);
      const gc = Number(o.stdout.trim());
      assert.ok(gc > 0);
      if (launcher === 'native') {
        await dead(gc); // the native launcher, a subreaper, kills what a task left behind (README)
      } else {
        const survived = alive(gc);
        process.kill(gc, 'SIGKILL');
        assert.ok(survived, 'the setsid grandchild is outside the group: the node helper does not kill it');
      }
      // One that stays in the group dies with the task, and its pipe with it.
      const o2 = await c.run({
        key: key(),
        argv: ['sh', '-c', 'sleep 1000 & echo $!'],
        stdout: 'capture',
        stderr: 'capture',
      });
      assert.equal(o2.exited?.waitStatus, 0);
      await dead(Number(o2.stdout.trim()));
    });

    test('tasks: own session and group, empty signal mask, default dispositions, stdin /dev/null', async () => {
      // The task itself reads its own /proc entries, with nothing in between: `cat` changes
      // neither its signal mask nor its dispositions, and exec keeps both (a blocked signal stays
      // blocked, an ignored one ignored), so what it prints is what the launcher gave it.
      const o = await c.run({ key: key(), argv: ['cat', '/proc/self/stat', '/proc/self/status'], stdout: 'capture' });
      assert.equal(o.exited?.waitStatus, 0);
      const [stat, ...status] = o.stdout.split('\n');
      // pid (comm) state ppid pgrp session ...
      const [pgrp, session] = stat!
        .slice(stat!.lastIndexOf(')') + 2)
        .split(' ')
        .slice(2, 4);
      assert.deepEqual([stat!.split(' ')[0], pgrp, session], [String(o.pid), String(o.pid), String(o.pid)]);
      const line = (name: string): string | undefined => status.find((l) => l.startsWith(`${name}:`));
      assert.equal(line('SigBlk'), 'SigBlk:\t0000000000000000');
      assert.equal(line('SigIgn'), 'SigIgn:\t0000000000000000');
      const stdin = await c.run({ key: key(), argv: ['readlink', '/proc/self/fd/0'], stdout: 'capture' });
      assert.equal(stdin.stdout, '/dev/null\n');
    });

    test('no descriptor of the launcher leaks into a task', async () => {
      const o = await c.run({ key: key(), argv: ['sh', '-c', 'ls /proc/$$/fd'], stdout: 'capture' });
      const extra = o.stdout
        .trim()
        .split('\n')
        .map(Number)
        .filter((fd) => fd > 2);
      if (launcher === 'native') assert.deepEqual(extra, [], 'the native launcher marks everything close-on-exec');
      // The node helper passes on what it inherited without close-on-exec (from whatever started
      // this test); nothing of its own.
      const ours = new Set(fs.readdirSync('/proc/self/fd').map(Number));
      for (const fd of extra) assert.ok(ours.has(fd), `fd ${fd} leaked into the task`);
    });

    test('execvp rules: the task env PATH, the default PATH, a script without #!', async () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'bin-'));
      fs.writeFileSync(path.join(dir, 'mycmd'), 'echo "mycmd $1"\n', { mode: 0o755 }); // no #!: run by /bin/sh
      const viaPath = await c.run({
        key: key(),
        argv: ['mycmd', 'x'],
        env: { PATH: `/nonexistent:${dir}` },
        stdout: 'capture',
      });
      assert.equal(viaPath.stdout, 'mycmd x\n');
      const noPath = await c.run({ key: key(), argv: ['true'], env: { A: '1' } });
      assert.equal(noPath.exited?.waitStatus, 0, 'no PATH in the env: /bin:/usr/bin');
      const notInPath = await c.run({ key: key(), argv: ['mycmd'], env: { PATH: '/usr/bin:/bin' } });
      assert.equal(notInPath.failed?.message, 'mycmd: No such file or directory');
      const direct = await c.run({ key: key(), argv: [path.join(dir, 'mycmd'), 'y'], stdout: 'capture' });
      assert.equal(direct.stdout, 'mycmd y\n');
    });

    test('relative cwd and output file; bad launch requests', async () => {
      const rel = path.relative(process.cwd(), tmp);
      const o = await c.run({ key: key(), argv: ['sh', '-c', 'echo rel'], cwd: rel, stdout: { file: 'rel.out' } });
      assert.equal(o.exited?.waitStatus, 0);
      assert.equal(fs.readFileSync(path.join(tmp, 'rel.out'), 'utf8'), 'rel\n');
      const isDir = await c.run({ key: key(), argv: ['true'], cwd: tmp, stdout: { file: '.' } });
      assert.deepEqual([isDir.failed?.code, isDir.failed?.message], ['EISDIR', `${tmp}: Is a directory`]);
      const empty = await c.run({ key: key(), argv: [] });
      assert.equal(empty.failed?.code, 'EINVAL');
      const emptyCmd = await c.run({ key: key(), argv: [''] });
      assert.deepEqual(
        [emptyCmd.failed?.code, emptyCmd.failed?.errno, emptyCmd.failed?.message],
        ['EINVAL', 22, 'the command is an empty string: Invalid argument'],
      );
      const nul = await c.run({ key: key(), argv: ['sh', '-c', 'true\0false'] });
      assert.deepEqual(
        [nul.failed?.code, nul.failed?.message],
        ['EINVAL', 'sh: an argument or environment string contains a NUL byte: Invalid argument'],
      );
      const nulEnv = await c.run({ key: key(), argv: ['true'], env: { A: 'x\0y' } });
      assert.deepEqual(
        [nulEnv.failed?.code, nulEnv.failed?.message],
        ['EINVAL', 'true: an argument or environment string contains a NUL byte: Invalid argument'],
      );
    });

    test('stats counts running tasks; kill with signal 0 and after exit', async () => {
      const running = await Promise.all([1, 2, 3].map(() => c.start({ key: key(), argv: ['sleep', '1000'] })));
      const s = await sp.stats();
      assert.equal(s.tasks, 3);
      assert.ok(s.cpuUs > 0 && s.rss > 0);
      for (const r of running) process.kill(-r.pid, 0); // each task leads its own group
      const k = key();
      const { done } = await c.start({ key: k, argv: ['sleep', '1000'] });
      assert.equal(sp.kill(k, 0), true);
      sp.kill(k, 'SIGKILL');
      assert.equal((await done).exited?.waitStatus, 9);
      for (const r of running) process.kill(-r.pid, 'SIGKILL');
      await Promise.all(running.map((r) => r.done));
    });
  });

  describe(`Spawner launcher signals [${launcher}]`, { skip: skipFor(launcher), timeout: HANG_TIMEOUT }, () => {
    test('SIGINT and SIGHUP are ignored; SIGTERM is a shutdown', async () => {
      const { sp, c, errors, firstError } = await ownSpawner(launcher);
      const { pid, done } = await c.start({ key: key(), argv: ['sleep', '1000'] });
      process.kill(sp.pid!, 'SIGINT');
      process.kill(sp.pid!, 'SIGHUP');
      assert.equal((await c.run({ key: key(), argv: ['true'] })).exited?.waitStatus, 0);
      assert.ok(alive(pid));
      process.kill(sp.pid!, 'SIGTERM');
      const o = await done;
      assert.deepEqual([o.exited?.waitStatus, o.exited?.lost], [9, undefined], 'reported by the launcher itself');
      await dead(pid);
      await firstError; // an exit nobody asked for is an error
      assert.equal(sp.pid, undefined);
      assert.equal(errors.length, 1);
    });
  });
}

describe('Spawner launcher choice', () => {
  const saved = process.env.TSFLUX_LAUNCHER;
  after(() => {
    if (saved === undefined) delete process.env.TSFLUX_LAUNCHER;
    else process.env.TSFLUX_LAUNCHER = saved;
  });
  const startAndStop = async (opts: Parameters<typeof Spawner.start>[0]): Promise<string | undefined> => {
    const sp = await Spawner.start(opts);
    const kind = sp.launcher;
    const c = new Collector(sp);
    assert.equal((await c.run({ key: key(), argv: ['true'] })).exited?.waitStatus, 0);
    assert.equal((await sp.stats()).pid, sp.pid);
    await sp.shutdown();
    return kind;
  };

  test('auto: native when the binary is there, else node', { skip: skipFor('native') }, async () => {
    delete process.env.TSFLUX_LAUNCHER;
    assert.equal(await startAndStop({}), 'native');
    assert.equal(await startAndStop({ launcher: 'auto', nativePath: path.join(tmp, 'no-such-launcher') }), 'node');
  });

  test('auto: a native binary that does not start falls back to node', async () => {
    delete process.env.TSFLUX_LAUNCHER;
    const broken = path.join(tmp, 'broken-launcher');
    fs.writeFileSync(broken, '#!/bin/sh\necho broken >&2; exit 3\n', { mode: 0o755 });
    assert.equal(await startAndStop({ nativePath: broken }), 'node');
  });

  test("'native' without a binary is an error", async () => {
    await assert.rejects(
      Spawner.start({ launcher: 'native', nativePath: path.join(tmp, 'no-such-launcher') }),
      (e: unknown) => e instanceof SpawnerError && e.code === 'ENOENT',
    );
  });

  test('TSFLUX_LAUNCHER decides unless the option does', { skip: skipFor('native') }, async () => {
    process.env.TSFLUX_LAUNCHER = 'node';
    assert.equal(await startAndStop({}), 'node');
    assert.equal(await startAndStop({ launcher: 'native' }), 'native');
    process.env.TSFLUX_LAUNCHER = 'native';
    assert.equal(await startAndStop({ launcher: 'auto' }), 'native');
    assert.equal(await startAndStop({ launcher: 'node' }), 'node');
  });
});
