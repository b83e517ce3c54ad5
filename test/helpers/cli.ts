/**
 * Running the CLI in tests: `node bin/tsflux.js ...` as a subprocess (asynchronously, so an
 * instance in the test's own event loop keeps serving it), and the same under a terminal made
 * by script(1) where one can be made.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tsfluxBin, repoRoot } from './paths.js';

export interface Result {
  rc: number | null;
  stdout: string;
  stderr: string;
}

/** This process's environment without FLUX_URI, in the C.UTF-8 locale. */
export const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'FLUX_URI') env[k] = v;
  env.LC_ALL = 'C.UTF-8';
  return env;
};

/** Run `cmd` with no terminal; stdin is `input` or none; resolves with its output and code. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { env: Record<string, string>; cwd?: string; input?: string | Buffer },
): Promise<Result> & { child: ReturnType<typeof spawn> } {
  const child = spawn(cmd, args, {
    env: opts.env,
    cwd: opts.cwd ?? repoRoot,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const p = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ rc: code ?? (signal ? 128 : null), stdout, stderr }));
  });
  return Object.assign(p, { child });
}

/** Run the CLI with FLUX_URI=uri (unset when undefined); stdin is `input` or none. */
export function tsflux(
  args: string[],
  uri: string | undefined,
  extraEnv: Record<string, string> = {},
  input?: string | Buffer,
): Promise<Result> & { child: ReturnType<typeof spawn> } {
  const env = { ...baseEnv(), ...extraEnv };
  if (uri !== undefined) env.FLUX_URI = uri;
  return runProcess(process.execPath, [tsfluxBin, ...args], { env, input });
}

/** script(1), if installed and able to make a terminal here. */
export const scriptBin = ((): string | undefined => {
  const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
  if (script === undefined) return undefined;
  return spawnSync(script, ['-qc', 'true', '/dev/null'], { stdio: 'ignore' }).status === 0 ? script : undefined;
})();

/** The reason to skip a test that needs a terminal, or false. */
export const noTerminal: string | false = scriptBin
  ? false
  : ['/usr/bin/script', '/bin/script'].some((p) => fs.existsSync(p))
    ? 'script(1) cannot make a terminal here'
    : 'script(1) not installed';

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Run `tsflux ARGS` with a terminal for stdin, stdout and stderr (script's stdin at EOF makes
 * the terminal readable); `output` is everything written to the terminal, as bytes decoded.
 */
export function tsfluxOnTerminal(
  args: string[],
  uri: string,
  extraEnv: Record<string, string> = {},
): Promise<{ rc: number | null; output: string }> {
  const cmd = [process.execPath, tsfluxBin, ...args].map(shQuote).join(' ');
  // script(1) passes the command's exit status on with -e
  const child = spawn(scriptBin!, ['-qec', cmd, '/dev/null'], {
    env: { ...baseEnv(), ...extraEnv, FLUX_URI: uri },
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ rc: code, output }));
  });
}
