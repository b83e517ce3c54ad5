/**
 * `tsflux start --test-size=N`: a small process manager, as flux-start's test mode. It starts
 * N brokers of this machine (`tsflux start` each) in one shared runtime directory and serves
 * them PMI-1 over a socket pair handed down as PMI_FD (docs/protocol.md §F.1), so that they
 * boot exactly as under `srun --mpi=pmi2`: rank and size come from PMI, never from argv. Rank 0
 * is the broker told PMI_RANK=0 and the only one given the initial program; it and the
 * launcher share the terminal and process group.
 *
 * Exit (flux-start's rules): once one broker has exited while others still run (`any` mode),
 * or once rank 0 has (`leader` mode), an exit timer starts (--test-exit-timeout, 20 s); when
 * it fires the brokers still running get SIGTERM, and SIGKILL 20 s later if they are still
 * there (flux-start sends SIGKILL at once: a broker given SIGTERM ends its initial program and
 * jobs first). The exit code is the highest broker exit code (`any`) or rank 0's (`leader`),
 * a broker killed by a signal counting as 128+signal. A broker's PMI abort kills them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { PmiSimpleServer } from '../../broker/boot/pmi-server.js';
import { encodeIdset } from '../../job/idset.js';

export type ExitMode = 'any' | 'leader';

export interface TestInstanceOptions {
  size: number;
  /** `tsflux` itself (bin/tsflux.js). */
  tsfluxBin: string;
  /** Arguments of `tsflux start` for every broker. */
  brokerArgs: string[];
  /** More arguments for rank 0 only (the store, resources, -v). */
  leaderArgs: string[];
  /** The initial program (rank 0); empty: an interactive shell. */
  cmd: string[];
  /** The shared runtime directory; default a new one, removed at exit. */
  rundir?: string;
  /** Seconds (Infinity: never). */
  exitTimeout: number;
  exitMode: ExitMode;
}

/** After the exit timer's SIGTERM, how long a broker has before SIGKILL. */
const KILL_GRACE_MS = 20_000;

const PREFIX = 'tsflux-start';

function say(text: string): void {
  process.stderr.write(`${PREFIX}: ${text}\n`);
}

export function runTestInstance(o: TestInstanceOptions): Promise<number> {
  let rundir = o.rundir;
  let own = false;
  if (rundir !== undefined) fs.mkdirSync(rundir, { recursive: true, mode: 0o700 });
  else {
    rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-'));
    own = true;
  }
  const brokers: (ChildProcess | undefined)[] = [];
  const signalAll = (sig: NodeJS.Signals): number[] => {
    const hit: number[] = [];
    brokers.forEach((b, r) => {
      if (b === undefined) return;
      b.kill(sig);
      hit.push(r);
    });
    return hit;
  };
  const pmi = new PmiSimpleServer({
    size: o.size,
    preput: { PMI_process_mapping: `(vector,(0,1,${o.size}))` },
    trace: process.env.TSFLUX_PMI_DEBUG ? (r, dir, line) => say(`${r}: ${dir} ${line}`) : undefined,
    onAbort: (r, _code, msg) => {
      say(`${r}: PMI_Abort()${msg ? `: ${msg}` : ''}`);
      signalAll('SIGKILL');
    },
    onError: (r, msg) => say(`${r}: ${msg}`),
  });
  const interactive = o.cmd.length === 0;

  return new Promise<number>((resolve) => {
    let alive = 0;
    let rc = 0;
    let exitTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      // an interactive shell takes ^C itself; otherwise rank 0 ends the instance
      if (sig === 'SIGINT' && interactive && process.stdin.isTTY) return;
      if (brokers[0] !== undefined) brokers[0].kill('SIGTERM');
      else signalAll('SIGTERM');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const expire = (): void => {
      const hit = signalAll('SIGTERM');
      if (hit.length === 0) return;
      say(`Exit timeout: terminating rank ${encodeIdset(hit)}`);
      killTimer = setTimeout(() => {
        const killed = signalAll('SIGKILL');
        if (killed.length > 0) say(`Exit timeout: killed rank ${encodeIdset(killed)}`);
      }, KILL_GRACE_MS);
    };
    const updateTimer = (): void => {
      const armed = o.exitMode === 'any' ? alive > 0 && alive < o.size : alive > 0 && brokers[0] === undefined;
      if (armed && exitTimer === undefined && Number.isFinite(o.exitTimeout)) {
        exitTimer = setTimeout(expire, o.exitTimeout * 1000);
      }
    };
    const exited = (r: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void => {
      if (brokers[r] !== child) return;
      brokers[r] = undefined;
      alive--;
      const brc = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
      if (signal) {
        say(`${r} (pid ${child.pid}) ${signal}`);
        // a killed broker could not remove its sockets from the shared rundir
        for (const f of [`local-${r}`, `tbon-${r}`]) fs.rmSync(path.join(rundir, f), { force: true });
      } else if (code !== 0) say(`${r} (pid ${child.pid}) exited with rc=${code}`);
      if (o.exitMode === 'any') rc = Math.max(rc, brc);
      else if (r === 0) rc = brc;
      if (alive > 0) return updateTimer();
      clearTimeout(exitTimer);
      clearTimeout(killTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (own) fs.rmSync(rundir, { recursive: true, force: true });
      resolve(rc);
    };

    for (let r = 0; r < o.size; r++) {
      const args = [o.tsfluxBin, 'start', ...o.brokerArgs];
      if (r === 0) args.push(...o.leaderArgs);
      args.push('--rundir', rundir);
      if (r === 0 && o.cmd.length > 0) args.push('--', ...o.cmd);
      const child = spawn(process.execPath, args, {
        stdio: [r === 0 ? 'inherit' : 'ignore', 'inherit', 'inherit', 'pipe'],
        env: { ...process.env, PMI_FD: '3', PMI_RANK: String(r), PMI_SIZE: String(o.size) },
      });
      brokers[r] = child;
      alive++;
      pmi.addClient(r, child.stdio[3] as net.Socket);
      child.on('error', (e) => {
        say(`${r}: ${e.message}`);
        exited(r, child, 127, null);
      });
      child.on('exit', (code, signal) => exited(r, child, code, signal));
    }
  });
}
