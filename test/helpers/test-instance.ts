/**
 * `tsflux start --test-size=N` as a real process, for the multi-broker tests. Its initial
 * program prints `ready <pid>` (once every broker is up: rank 0 runs it only then) and becomes
 * `cat` reading the test's pipe: ending that pipe ends the instance cleanly.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Flux } from '../../src/client/handle.js';
import { baseEnv } from './cli.js';
import { repoRoot, tsfluxBin } from './paths.js';

export interface TestInstance {
  child: ChildProcess;
  rundir: string;
  /** The local URI of a rank's broker. */
  uri(rank: number): string;
  /** The initial program's pid (`cat`). */
  initialPid: number;
  stderr(): string;
  /** Resolves with the launcher's exit code. */
  exited: Promise<number>;
  /** End the initial program: the instance shuts down. */
  end(): void;
}

export async function startTestInstance(size: number, args: string[] = []): Promise<TestInstance> {
  const rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-multi-'));
  const child = spawn(
    process.execPath,
    [
      tsfluxBin,
      'start',
      `--test-size=${size}`,
      `--test-rundir=${rundir}`,
      '--cores=2',
      '--gpus=0',
      ...args,
      'sh',
      '-c',
      'echo ready $$; exec cat',
    ],
    { cwd: repoRoot, env: baseEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      fs.rmSync(rundir, { recursive: true, force: true });
      resolve(code ?? 128 + (os.constants.signals[signal!] ?? 0));
    }),
  );
  const ready = await new Promise<number | undefined>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^ready (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => resolve(undefined));
  });
  if (ready === undefined) throw new Error(`tsflux start --test-size=${size} ${args.join(' ')} exited: ${err}`);
  return {
    child,
    rundir,
    uri: (r) => `local://${path.join(rundir, `local-${r}`)}`,
    initialPid: ready,
    stderr: () => err,
    exited,
    end: () => child.stdin!.end(),
  };
}

/**
 * Inside a describe: one instance of `size` brokers that all its tests share, started before the
 * first and ended after the last, which must then exit 0. The tests use it as a TestInstance.
 */
export function sharedTestInstance(size: number, args: string[] = []): TestInstance {
  let t: TestInstance | undefined;
  before(async () => {
    t = await startTestInstance(size, args);
  });
  after(async () => {
    if (t === undefined) return;
    t.end();
    assert.equal(await t.exited, 0, t.stderr());
  });
  return new Proxy({} as TestInstance, {
    get(_, key) {
      if (t === undefined) throw new Error(`the shared instance of ${size} brokers has not started`);
      return Reflect.get(t, key) as unknown;
    },
  });
}

/** The pid of a rank's broker, from its broker.pid attribute. */
export async function brokerPid(t: TestInstance, rank: number): Promise<number> {
  const h = await Flux.open(t.uri(rank));
  try {
    return Number(await h.attrGet('broker.pid'));
  } finally {
    h.close();
  }
}
