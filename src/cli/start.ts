/**
 * `tsflux start [options] [CMD ...]`: start a broker of an instance and, on rank 0, run CMD (an
 * interactive shell when none is given) inside it with FLUX_URI set, then exit with CMD's
 * status. On exit or SIGTERM/SIGINT the running jobs are killed, the brokers below shut down,
 * and the socket and rundir removed. The broker's rank and size come from its bootstrap
 * (boot/boot.ts): alone, or one of several under a PMI (`srun --mpi=pmi2`); a broker other
 * than rank 0 runs no CMD and serves until rank 0 ends the instance.
 *
 * With `--test-size=N` (`-s N`) it starts N such brokers on this machine instead
 * (lib/test-instance.ts).
 */
import { Command, Option } from 'commander';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Instance } from '../broker/instance.js';
import { bootstrap } from '../broker/boot/boot.js';
import { parseFsd } from '../job/fsd.js';
import type { PurgeLimits } from '../broker/job-manager/purge.js';
import { runTestInstance, type ExitMode } from './lib/test-instance.js';
import { removeStaleRundirs } from './lib/stale-rundirs.js';
import { findNativeLauncher } from '../broker/launcher/spawner.js';

/** The project's root (bin/ and node_modules/.bin go on the instance's PATH). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function parseSetattr(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new Error(`-S ${v}: expected ATTR=VALUE`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
}

/** `-o,-S,log-filename=out`: broker options, comma separated (as flux start -o). */
function parseBrokerOpts(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').filter((s) => s !== '')];
}

export function startCommand(): Command {
  return new Command('start')
    .description('start a tsflux instance on this node and run CMD (default: a shell) inside it')
    .argument('[cmd...]', 'command to run inside the instance')
    .option(
      '-o, --broker-opts <opts>',
      'broker options, comma separated (e.g. -o,-S,log-filename=out)',
      parseBrokerOpts,
    )
    .option('-S, --setattr <attr=value>', 'set a broker attribute (repeatable)', parseSetattr)
    .addOption(
      new Option('--cores <n|idset>', "cores to manage (count or idset); default: this process's CPU affinity").env(
        'TSFLUX_CORES',
      ),
    )
    .addOption(
      new Option(
        '--gpus <n|idset>',
        'GPUs to manage (count or idset); default: CUDA_VISIBLE_DEVICES or /dev/nvidia*',
      ).env('TSFLUX_GPUS'),
    )
    .option(
      '-c, --config-path <path>',
      'Flux configuration: a TOML file or a directory of *.toml files (default: $FLUX_CONF_DIR)',
    )
    .option(
      '--store <file>',
      'keep the jobs in this SQLite file, to survive a restart (as -Sstatedir=DIR: DIR/tsflux-store.db); default: a scratch store removed at exit',
    )
    .option(
      '--purge-age <FSD>',
      'purge inactive jobs this long after they end, from memory and the store (job-manager.inactive-age-limit)',
    )
    .option('--purge-count <N>', 'keep at most N inactive jobs, purging the oldest (job-manager.inactive-num-limit)')
    .option('--rundir <dir>', 'runtime directory (default: a new private directory in $TMPDIR)')
    .option('-v, --verbose', 'print the instance URI on stderr')
    .option('-s, --test-size <N>', 'start a test instance of N brokers on this machine, bootstrapped through PMI')
    .option('--test-exit-timeout <FSD>', 'after a broker exits, end the others after this long (default 20s)')
    .option('--test-exit-mode <any|leader>', 'start the exit timer when any broker exits, or rank 0 (default any)')
    .option('--test-rundir <dir>', "the brokers' shared runtime directory, kept at exit (as --rundir)")
    .passThroughOptions()
    .action(async (cmd: string[], opts) => {
      process.exitCode = await runStart(cmd, opts);
    });
}

interface StartOpts {
  brokerOpts?: string[];
  setattr?: Record<string, string>;
  cores?: string;
  gpus?: string;
  configPath?: string;
  rundir?: string;
  store?: string;
  purgeAge?: string;
  purgeCount?: string;
  verbose?: boolean;
  testSize?: string;
  testExitTimeout?: string;
  testExitMode?: string;
  testRundir?: string;
}

const TEST_OPTIONS = [
  ['testExitTimeout', '--test-exit-timeout'],
  ['testExitMode', '--test-exit-mode'],
  ['testRundir', '--test-rundir'],
] as const;

/** --purge-age / --purge-count as the job manager's limits (errors name the option). */
function purgeOptions(opts: StartOpts): Partial<PurgeLimits> {
  const out: Partial<PurgeLimits> = {};
  if (opts.purgeAge !== undefined) {
    try {
      out.age = parseFsd(opts.purgeAge);
    } catch {
      throw new Error(`--purge-age: invalid duration '${opts.purgeAge}' (an FSD such as 30s, 5m, 2h, 7d)`);
    }
  }
  if (opts.purgeCount !== undefined) {
    const n = Number(opts.purgeCount);
    if (!/^\d+$/.test(opts.purgeCount) || !Number.isSafeInteger(n)) {
      throw new Error(`--purge-count: '${opts.purgeCount}' is not a count (an integer >= 0)`);
    }
    out.num = n;
  }
  return out;
}

/** The broker attributes and configuration path of -S, -o and -c (flux-broker's options). */
function brokerSettings(opts: StartOpts): { attrs: Record<string, string>; configPath: string | undefined } {
  const attrs: Record<string, string> = { ...(opts.setattr ?? {}) };
  let configPath = opts.configPath;
  const bo = opts.brokerOpts ?? [];
  for (let i = 0; i < bo.length; i++) {
    const a = bo[i]!;
    if (a === '-S' || a === '--setattr') Object.assign(attrs, parseSetattr(bo[++i] ?? ''));
    else if (a.startsWith('-S')) Object.assign(attrs, parseSetattr(a.slice(2)));
    else if (a.startsWith('--setattr=')) Object.assign(attrs, parseSetattr(a.slice(10)));
    else if (a === '-c' || a === '--config-path') {
      configPath = bo[++i];
      if (configPath === undefined) throw new Error(`broker option ${a} needs a PATH`);
    } else if (a.startsWith('--config-path=')) configPath = a.slice(14);
    else throw new Error(`unknown broker option ${a}`);
  }
  return { attrs, configPath };
}

export async function runStart(cmd: string[], opts: StartOpts): Promise<number> {
  const { attrs, configPath: given } = brokerSettings(opts);
  if (opts.store === '') throw new Error('--store needs a FILE');
  if (opts.testSize !== undefined) return startTestInstance(cmd, opts, attrs, given);
  for (const [key, flag] of TEST_OPTIONS) {
    if (opts[key] !== undefined) throw new Error(`${flag} only works with --test-size`);
  }
  // As flux-broker: the command line, else FLUX_CONF_DIR.
  const configPath = given ?? (process.env.FLUX_CONF_DIR || undefined);
  process.on('unhandledRejection', (e) =>
    process.stderr.write(`tsflux-broker: unhandled: ${(e as Error)?.stack ?? e}\n`),
  );
  let connectTimeout: number | undefined;
  if (attrs['tbon.connect_timeout'] !== undefined) {
    try {
      connectTimeout = parseFsd(attrs['tbon.connect_timeout']) || Infinity; // 0: no limit
    } catch (e) {
      throw new Error(`tbon.connect_timeout: ${(e as Error).message}`, { cause: e });
    }
  }
  const boot = await bootstrap(process.env, {
    method: attrs['broker.boot-method'],
    connectTimeout,
    trace: process.env.TSFLUX_PMI_DEBUG
      ? (dir, line) => process.stderr.write(`tsflux-broker: PMI ${dir} ${line}\n`)
      : undefined,
  });
  // nothing this broker starts is part of the process manager's job (flux-core unsets them too)
  for (const k of ['PMI_FD', 'PMI_RANK', 'PMI_SIZE', 'PMI_SPAWNED']) delete process.env[k];
  for (const dir of await removeStaleRundirs()) {
    if (opts.verbose)
      process.stderr.write(`tsflux start: removed ${dir}, the runtime directory of an instance that is gone\n`);
  }
  const inst = await Instance.start({
    attrs,
    cores: opts.cores,
    gpus: opts.gpus,
    rundir: opts.rundir,
    configPath,
    storePath: opts.store,
    purge: purgeOptions(opts),
    boot,
  });
  if (opts.verbose) process.stderr.write(`tsflux: instance at ${inst.uri}\n`);
  if (inst.rank !== 0) return runFollower(inst);
  // the initial program is not a task of the process manager's job: it gets none of its
  // variables (flux-core removes PMI_*, PMIX_* and SLURM_* too), so that a tsflux it starts is
  // not taken for one more broker of this instance
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PMI_|PMIX_|SLURM_|SLURMD_)/.test(k)) env[k] = v;
  Object.assign(env, {
    FLUX_URI: inst.uri,
    PATH: [
      path.join(projectRoot, 'bin'),
      path.join(projectRoot, 'node_modules', '.bin'),
      process.env.PATH ?? '/usr/bin:/bin',
    ].join(':'),
  });
  const interactive = cmd.length === 0;
  const argv = interactive ? [process.env.SHELL || '/bin/sh'] : cmd;
  let stopping: Promise<number> | undefined;
  // the first reason to stop gives the exit code; later ones wait for the same stop
  const stop = (code: number): Promise<number> => (stopping ??= inst.stop().then(() => code));
  return await new Promise<number>((resolve) => {
    // Without a terminal, CMD gets its own process group so that ending the instance ends
    // everything CMD started; on a terminal it stays in ours, in the foreground.
    const ownGroup = !process.stdin.isTTY;
    // CMD hears of our death even by SIGKILL: SIGHUP (its parent-death signal, set by the native
    // launcher binary before it execs CMD; without that binary, setpriv(1) if there is one)
    const [file, args] = withPdeathsig(argv);
    const child = spawn(file, args, { stdio: 'inherit', env, detached: ownGroup });
    let running = true;
    const onSignal = (sig: NodeJS.Signals) => {
      // An interactive shell handles ^C itself; anything else ends the instance.
      if (sig === 'SIGINT' && interactive && process.stdin.isTTY) return;
      if (running) {
        try {
          if (ownGroup && child.pid) process.kill(-child.pid, 'SIGTERM');
          else child.kill('SIGTERM');
        } catch {
          /* already gone */
        }
      }
      void stop(128 + (sig === 'SIGINT' ? 2 : 15)).then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const done = (code: number): void => {
      running = false;
      void stop(code).then((rc) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(rc);
      });
    };
    child.on('error', (e) => {
      process.stderr.write(`tsflux start: ${argv[0]}: ${e.message}\n`);
      done(127);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? (osSignal(signal) ?? 1) : 1)));
  });
}

/**
 * A broker other than rank 0: serve until rank 0 shuts the instance down (exit 0) or the
 * parent is lost (exit 1); SIGTERM makes it leave (128+15). ^C is rank 0's initial program's.
 */
function runFollower(inst: Instance): Promise<number> {
  return new Promise<number>((resolve) => {
    let ending = false;
    const ignore = (): void => {};
    const end = (code: number): void => {
      if (ending) return;
      ending = true;
      void inst.stop().then(() => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', ignore);
        resolve(code);
      });
    };
    const onTerm = (): void => end(128 + 15);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', ignore);
    void inst.finished.then(end);
  });
}

/** `--test-size=N`: the brokers' arguments from ours, then the launcher (lib/test-instance.ts). */
async function startTestInstance(
  cmd: string[],
  opts: StartOpts,
  attrs: Record<string, string>,
  configPath: string | undefined,
): Promise<number> {
  const size = Number(opts.testSize);
  if (!/^\d+$/.test(opts.testSize!) || size < 1)
    throw new Error(`--test-size=${opts.testSize}: must be an integer > 0`);
  let exitTimeout = 20;
  if (opts.testExitTimeout !== undefined) {
    try {
      exitTimeout = parseFsd(opts.testExitTimeout);
    } catch (e) {
      throw new Error(`--test-exit-timeout: ${(e as Error).message}`, { cause: e });
    }
  }
  const exitMode = opts.testExitMode ?? 'any';
  if (exitMode !== 'any' && exitMode !== 'leader') throw new Error(`unknown --test-exit-mode: ${exitMode}`);
  const dirs = [opts.testRundir, opts.rundir, attrs['rundir']].filter((d): d is string => d !== undefined);
  if (new Set(dirs.map((d) => path.resolve(d))).size > 1) {
    throw new Error(`--test-rundir, --rundir and -Srundir name different directories: ${dirs.join(', ')}`);
  }
  const brokerArgs: string[] = [];
  const leaderArgs: string[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'rundir') continue;
    // the statedir, like the store, is rank 0's (flux-core)
    (k === 'statedir' ? leaderArgs : brokerArgs).push(`--setattr=${k}=${v}`);
  }
  if (configPath !== undefined) brokerArgs.push(`--config-path=${configPath}`);
  // every broker manages its own node: on one machine each is given the same cores and GPUs
  if (opts.cores !== undefined) brokerArgs.push(`--cores=${opts.cores}`);
  if (opts.gpus !== undefined) brokerArgs.push(`--gpus=${opts.gpus}`);
  if (opts.store !== undefined) leaderArgs.push(`--store=${opts.store}`);
  if (opts.purgeAge !== undefined) leaderArgs.push(`--purge-age=${opts.purgeAge}`);
  if (opts.purgeCount !== undefined) leaderArgs.push(`--purge-count=${opts.purgeCount}`);
  if (opts.verbose) leaderArgs.push('--verbose');
  return runTestInstance({
    size,
    tsfluxBin: path.join(projectRoot, 'bin', 'tsflux.js'),
    brokerArgs,
    leaderArgs,
    cmd,
    rundir: dirs[0],
    exitTimeout,
    exitMode: exitMode as ExitMode,
  });
}

/** CMD run so that it gets SIGHUP when this process dies (PR_SET_PDEATHSIG), where we can. */
function withPdeathsig(argv: string[]): [string, string[]] {
  const native = findNativeLauncher();
  if (native) return [native, ['--exec-pdeathsig', String(process.pid), '--', ...argv]];
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
  if (setpriv) return [setpriv, ['--pdeathsig', 'HUP', '--', ...argv]];
  return [argv[0]!, argv.slice(1)];
}

function osSignal(sig: NodeJS.Signals): number | undefined {
  const map: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGSEGV: 11,
    SIGABRT: 6,
  };
  return map[sig];
}
