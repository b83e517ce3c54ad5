/**
 * `tsflux start [options] [CMD ...]`: start an instance on this node, run CMD (an interactive
 * shell when none is given) inside it with FLUX_URI set, and exit with CMD's status. On exit
 * or SIGTERM/SIGINT the running jobs are killed and the socket and rundir removed.
 */
import { Command, Option } from 'commander';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Instance } from '../broker/instance.js';
import { parseFsd } from '../job/fsd.js';
import type { PurgeLimits } from '../broker/job-manager/purge.js';

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
}

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

export async function runStart(cmd: string[], opts: StartOpts): Promise<number> {
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
  // As flux-broker: the command line, else FLUX_CONF_DIR.
  configPath ??= process.env.FLUX_CONF_DIR || undefined;
  process.on('unhandledRejection', (e) =>
    process.stderr.write(`tsflux-broker: unhandled: ${(e as Error)?.stack ?? e}\n`),
  );
  if (opts.store === '') throw new Error('--store needs a FILE');
  const inst = await Instance.start({
    attrs,
    cores: opts.cores,
    gpus: opts.gpus,
    rundir: opts.rundir,
    configPath,
    storePath: opts.store,
    purge: purgeOptions(opts),
  });
  if (opts.verbose) process.stderr.write(`tsflux: instance at ${inst.uri}\n`);
  const env = {
    ...process.env,
    FLUX_URI: inst.uri,
    PATH: [
      path.join(projectRoot, 'bin'),
      path.join(projectRoot, 'node_modules', '.bin'),
      process.env.PATH ?? '/usr/bin:/bin',
    ].join(':'),
  };
  const interactive = cmd.length === 0;
  const argv = interactive ? [process.env.SHELL || '/bin/sh'] : cmd;
  let stopping = false;
  const stop = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    await inst.stop();
    return code;
  };
  return await new Promise<number>((resolve) => {
    // Without a terminal, CMD gets its own process group so that ending the instance ends
    // everything CMD started; on a terminal it stays in ours, in the foreground.
    const ownGroup = !process.stdin.isTTY;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env, detached: ownGroup });
    const onSignal = (sig: NodeJS.Signals) => {
      // An interactive shell handles ^C itself; anything else ends the instance.
      if (sig === 'SIGINT' && interactive && process.stdin.isTTY) return;
      try {
        if (ownGroup && child.pid) process.kill(-child.pid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        /* already gone */
      }
      void stop(128 + (sig === 'SIGINT' ? 2 : 15)).then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    child.on('error', (e) => {
      process.stderr.write(`tsflux start: ${argv[0]}: ${e.message}\n`);
      void stop(127).then(resolve);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const rc = code ?? 128 + (signal ? (osSignal(signal) ?? 1) : 1);
      void stop(rc).then(resolve);
    });
  });
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
