/**
 * An instance in a process of its own (`tsflux start --rundir DIR ... cat`), for tests that kill
 * the broker (kill -9) and start another one on the same store. The initial program is `cat`
 * reading the test's pipe: ending that pipe ends the instance cleanly, and a killed broker
 * leaves no initial program behind once the test ends the pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { baseEnv } from './cli.js';
import { repoRoot, tsfluxBin } from './paths.js';
import { until } from './wait.js';

export interface BrokerProcess {
  child: ChildProcess;
  uri: string;
  /** What the broker wrote on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or 128+signal). */
  exited: Promise<number>;
  /** End the initial program (its stdin): the instance exits. */
  end(): void;
}

/** Start `tsflux start <args> --rundir rundir cat`; resolves once the socket answers. */
export async function startBroker(rundir: string, args: string[]): Promise<BrokerProcess> {
  fs.rmSync(rundir, { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    [tsfluxBin, 'start', '--cores=2', '--gpus=0', ...args, '--rundir', rundir, 'cat'],
    {
      cwd: repoRoot,
      env: baseEnv(),
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15))),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const sock = path.join(rundir, 'local-0');
  await until(() => gone || fs.existsSync(sock), `the broker's socket ${sock}`);
  if (gone) throw new Error(`tsflux start ${args.join(' ')} exited: ${err}`);
  return {
    child,
    uri: `local://${sock}`,
    stderr: () => err,
    exited,
    end: () => child.stdin!.end(),
  };
}

/** kill -9 the broker and end its initial program (which a killed broker leaves behind). */
export async function killBroker(b: BrokerProcess): Promise<void> {
  b.child.kill('SIGKILL');
  await b.exited;
  b.end();
}
