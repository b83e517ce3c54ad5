/**
 * The resources of this machine, as the instance's resource set (one rank per broker).
 *
 * - cores: the CPUs in this process's affinity mask (`Cpus_allowed_list` of /proc/self/status,
 *   e.g. `0-1`), else 0 .. os.availableParallelism()-1.
 * - GPUs: `CUDA_VISIBLE_DEVICES` when set (a comma list; `""`, `-1` or `NoDevFiles` mean none;
 *   like CUDA, the list stops at the first negative entry; entries that are not integers, e.g.
 *   `GPU-<uuid>`, are counted and numbered 0..n-1), else the `/dev/nvidia[0-9]+` device files.
 * - hostname: os.hostname().
 *
 * Overrides (`DiscoverOptions.cores` / `.gpus`) come from `tsflux start --cores=… --gpus=…` or
 * the environment variables `TSFLUX_CORES` / `TSFLUX_GPUS` (the CLI maps both onto these
 * options). Each is either a count or an RFC 22 idset:
 *   `--cores=8`        cores 0-7            `--gpus=0`      no GPUs
 *   `--cores=0-3,6`    cores 0,1,2,3,6      `--gpus=2`      GPUs 0,1
 *   `--cores=[3]`      core 3 only (a bare integer is a count; bracket it to name one id)
 * An empty string means none (allowed for GPUs only: an instance needs at least one core).
 */
import fs from 'node:fs';
import os from 'node:os';
import { decodeIdset, IdsetError } from '../../job/idset.js';
import type { InstanceResources } from '../../job/rv1.js';

export interface DiscoverOptions {
  /** Count ("8") or idset ("0-3,6") of cores; default: the affinity mask. */
  cores?: string;
  /** Count ("2") or idset ("0,2") of GPUs; default: CUDA_VISIBLE_DEVICES or /dev/nvidia*. */
  gpus?: string;
  hostname?: string;
  rank?: number;
  /** For tests: the environment to read CUDA_VISIBLE_DEVICES from (default process.env). */
  env?: Record<string, string | undefined>;
  /** For tests: text of /proc/self/status (default: read it). */
  procStatus?: string;
  /** For tests: directory holding nvidia device files (default /dev). */
  devDir?: string;
}

/**
 * Parse a `--cores` / `--gpus` value: a bare integer is a count (ids 0..n-1), anything else
 * is an idset. `what` names the option in errors.
 */
export function parseResourceSpec(spec: string, what: string): number[] {
  const s = spec.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n > 1 << 20) throw new IdsetError(`${what}: count ${s} is too large`);
    return Array.from({ length: n }, (_, i) => i);
  }
  try {
    return decodeIdset(s);
  } catch (e) {
    throw new IdsetError(`${what}: expected a count (e.g. "8") or an idset (e.g. "0-3,6"): ${(e as Error).message}`);
  }
}

/** The CPUs this process may run on, from /proc/self/status; undefined if unknown. */
export function affinityCores(procStatus?: string): number[] | undefined {
  let text = procStatus;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/status', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Cpus_allowed_list:\s*(\S*)\s*$/m.exec(text);
  if (!m) return undefined;
  try {
    const ids = decodeIdset(m[1]!);
    return ids.length > 0 ? ids : undefined;
  } catch {
    return undefined;
  }
}

/** GPU ids named by CUDA_VISIBLE_DEVICES; undefined when it is not set. */
export function cudaVisibleGpus(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '' || v === 'NoDevFiles') return [];
  const entries = v.split(',').map((e) => e.trim());
  const ids: number[] = [];
  for (const e of entries) {
    if (!/^-?\d+$/.test(e)) {
      // UUIDs (GPU-…, MIG-…): count the entries up to the first invalid one, number them 0..n-1.
      const n = entries.findIndex((x) => /^-\d+$/.test(x) || x === '');
      return Array.from({ length: n < 0 ? entries.length : n }, (_, i) => i);
    }
    const n = Number(e);
    if (n < 0) break; // CUDA ignores this entry and every one after it
    ids.push(n);
  }
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** GPU ids from /dev/nvidia0, /dev/nvidia1, … (not nvidiactl, nvidia-uvm, …). */
export function devNvidiaGpus(devDir = '/dev'): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(devDir);
  } catch {
    return [];
  }
  const ids: number[] = [];
  for (const n of names) {
    const m = /^nvidia(\d+)$/.exec(n);
    if (m) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

/** This machine's resources (one rank), with the overrides applied. Throws IdsetError on a bad override. */
export function discoverResources(opts: DiscoverOptions = {}): InstanceResources {
  const env = opts.env ?? process.env;
  let cores: number[];
  if (opts.cores !== undefined) {
    cores = parseResourceSpec(opts.cores, 'cores');
    if (cores.length === 0) throw new IdsetError('cores: an instance needs at least one core');
  } else {
    cores =
      affinityCores(opts.procStatus) ??
      Array.from({ length: Math.max(1, os.availableParallelism?.() ?? os.cpus().length) }, (_, i) => i);
  }
  let gpus: number[];
  if (opts.gpus !== undefined) gpus = opts.gpus.trim() === '' ? [] : parseResourceSpec(opts.gpus, 'gpus');
  else gpus = cudaVisibleGpus(env['CUDA_VISIBLE_DEVICES']) ?? devNvidiaGpus(opts.devDir);
  return {
    ranks: [{ rank: opts.rank ?? 0, hostname: opts.hostname ?? os.hostname(), cores, gpus }],
  };
}
