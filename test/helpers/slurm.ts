/**
 * The Slurm testbed (scripts/slurm-testbed.sh: munged, slurmctld and three slurmd n1 n2 n3 on
 * this machine) for the tests that run `srun -N3 tsflux start`. One test run at a time holds
 * it: `acquireTestbed` takes an exclusive lock (flock(1) on /tmp/slurm-testbed.lock, held by a
 * child process until `release`, or until this process dies) and brings the testbed up; its
 * `release` tears it down and lets the next run have it.
 *
 * Where Slurm cannot run (no root, packages missing) the tests skip with the reason, unless
 * they are required (CI=true or TSFLUX_REQUIRE_SLURM=1, as .ci/run sets): then they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { baseEnv, runProcess, type Result } from './cli.js';
import { repoRoot } from './paths.js';

export const TESTBED_SCRIPT = path.join(repoRoot, 'scripts', 'slurm-testbed.sh');
export const SLURM_CONF = '/tmp/slurm-testbed/etc/slurm.conf';
/** The testbed's munged (slurm.conf's AuthInfo names it too). */
export const MUNGE_SOCK = '/tmp/slurm-testbed/munge/munge.sock';
const LOCK = '/tmp/slurm-testbed.lock';

export const slurmRequired = process.env.CI === 'true' || process.env.TSFLUX_REQUIRE_SLURM === '1';

/** Why the testbed cannot run here, or undefined when it can. */
export function slurmMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the Slurm testbed needs root (slurmd, munged, /etc/hosts)';
  const need = [
    'srun',
    'sinfo',
    'scontrol',
    'scancel',
    'slurmctld',
    'slurmd',
    'munged',
    'munge',
    'unmunge',
    'unshare',
    'flock',
  ];
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  const missing = need.filter((b) => !dirs.some((d) => d !== '' && fs.existsSync(path.join(d, b))));
  if (missing.length > 0) {
    return `not installed: ${missing.join(' ')} (apt-get install --no-install-recommends slurmctld slurmd slurm-client munge)`;
  }
  return undefined;
}

export interface Testbed {
  /** Tear the testbed down and give up the lock. */
  release(): Promise<void>;
}

/** Take the testbed's lock, then bring it up (tearing down what an earlier run left). */
export async function acquireTestbed(): Promise<Testbed> {
  const holder: ChildProcess = spawn('flock', [LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.setEncoding('utf8').once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`flock ${LOCK} exited with ${code}`)));
  });
  const release = async (): Promise<void> => {
    const down = spawnSync(TESTBED_SCRIPT, ['down'], { encoding: 'utf8' });
    holder.stdin!.end();
    await new Promise((r) => (holder.exitCode !== null ? r(undefined) : holder.once('exit', r)));
    if (down.status !== 0) throw new Error(`slurm-testbed.sh down: ${down.stderr}`);
  };
  const up = spawnSync(TESTBED_SCRIPT, ['up'], { encoding: 'utf8' });
  if (up.status !== 0) {
    await release();
    throw new Error(`slurm-testbed.sh up failed (${up.status}): ${up.stderr}`);
  }
  return { release };
}

/** The environment of a Slurm command: the test's, SLURM_CONF, and tsflux on PATH. */
export function slurmEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = baseEnv();
  env.SLURM_CONF = SLURM_CONF;
  env.PATH = `${path.join(repoRoot, 'bin')}:${env.PATH ?? '/usr/bin:/bin'}`;
  return { ...env, ...extra };
}

/**
 * Run a Slurm command (srun, scancel, …) with no terminal, in `opts.cwd` (default the
 * repository) with `opts.input` on its stdin (default none); resolves with its output and code.
 */
export function slurm(
  cmd: string,
  args: string[],
  extra: Record<string, string> = {},
  opts: { cwd?: string; input?: string } = {},
): Promise<Result> & { child: ChildProcess } {
  return runProcess(cmd, args, { env: slurmEnv(extra), cwd: opts.cwd, input: opts.input });
}

/** Pids of live processes whose environment holds `marker` (KEY=VALUE): what a test started. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const env = fs.readFileSync(`/proc/${d}/environ`, 'latin1').split('\0');
      if (env.includes(marker)) out.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}
