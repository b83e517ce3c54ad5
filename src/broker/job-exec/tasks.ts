/** Job shell planning: how many tasks a job runs and their environment (what flux-shell does). */
import os from 'node:os';
import type { Rv1 } from '../../job/rv1.js';
import { parseIdset } from '../../job/idset.js';
import { parseShellSignal, type ShellSignal } from '../../job/shell-signal.js';
import { decodeHostlist } from '../../job/hostlist.js';

export function nnodesOf(R: Rv1): number {
  return R.execution.R_lite.length;
}

/** Substitute Flux's output path templates ({{id}}, {{id.f58}}, {{jobid}}, {{name}}). */
export function expandTemplate(path: string, vars: Record<string, string>): string {
  return path.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, k: string) => vars[k] ?? m);
}

/** `shell.options.output.{stdout,stderr}` → a file path, or undefined (captured). */
export function outputFile(jobspec: any, stream: 'stdout' | 'stderr'): string | undefined {
  const out = jobspec.attributes?.system?.shell?.options?.output;
  const s = out?.[stream];
  if (s && s.type === 'file' && typeof s.path === 'string') return s.path;
  if (stream === 'stderr' && out?.stdout?.type === 'file' && !s) return out.stdout.path;
  return undefined;
}

/** `shell.options.output.mode`: output files are appended to instead of truncated. */
export function outputAppend(jobspec: any): boolean {
  return jobspec.attributes?.system?.shell?.options?.output?.mode === 'append';
}

export function inputFile(jobspec: any): string | undefined {
  const i = jobspec.attributes?.system?.shell?.options?.input?.stdin;
  if (i && i.type === 'file' && typeof i.path === 'string') return i.path;
  return undefined;
}

/** Rlimits requested by the jobspec (`shell.options.rlimit`), name → soft limit (-1 unlimited). */
export function rlimitsOf(jobspec: any): Record<string, number> | undefined {
  const r = jobspec.attributes?.system?.shell?.options?.rlimit;
  if (!r || typeof r !== 'object') return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** `shell.options.signal` (--signal): the signal to send before the time limit, or null. */
export function signalOf(jobspec: any): ShellSignal | null {
  const v = jobspec.attributes?.system?.shell?.options?.signal;
  if (v === undefined) return null;
  try {
    return parseShellSignal(v);
  } catch {
    return null; // refused at submit (job-manager); a stored job from before is not signalled
  }
}

/** `SIGUSR1` for 10 (flux's sigutil_signame). */
export function signalName(signum: number): string {
  const e = Object.entries(os.constants.signals).find(([, n]) => n === signum);
  return e ? e[0] : String(signum);
}

/**
 * The GPU variables each task gets (flux's shell gpu-affinity plugin, `-o gpu-affinity=on`
 * by default): CUDA_VISIBLE_DEVICES lists the job's GPUs on this rank (`-1` with none, so that
 * a job without GPUs uses none), CUDA_DEVICE_ORDER=PCI_BUS_ID unless set; `per-task` gives
 * each task its share, `off` sets nothing.
 */
export function gpuEnv(
  jobspec: any,
  R: Rv1,
  rank: number,
  ntasks: number,
  env: Record<string, string>,
): Record<string, string>[] {
  const opt = jobspec.attributes?.system?.shell?.options?.['gpu-affinity'] ?? 'on';
  if (opt === 'off') return Array.from({ length: ntasks }, () => ({}));
  const gpus: number[] = [];
  for (const e of R.execution.R_lite) {
    if (e.children.gpu === undefined || !parseIdset(e.rank).includes(rank)) continue;
    for (const g of parseIdset(e.children.gpu)) if (!gpus.includes(g)) gpus.push(g);
  }
  gpus.sort((a, b) => a - b);
  if (gpus.length === 0) return Array.from({ length: ntasks }, () => ({ CUDA_VISIBLE_DEVICES: '-1' }));
  const order: Record<string, string> = env.CUDA_DEVICE_ORDER === undefined ? { CUDA_DEVICE_ORDER: 'PCI_BUS_ID' } : {};
  if (opt !== 'per-task') {
    return Array.from({ length: ntasks }, () => ({ ...order, CUDA_VISIBLE_DEVICES: gpus.join(',') }));
  }
  const each = Math.floor(gpus.length / ntasks);
  return Array.from({ length: ntasks }, (_, i) => ({
    ...order,
    CUDA_VISIBLE_DEVICES: gpus.slice(i * each, (i + 1) * each).join(','),
  }));
}

/**
 * How many of `ntasks` tasks go to each node (flux-core's shell, rcalc_distribute): each task
 * takes `coresPerTask` cores (at most what the smallest node has); tasks are dealt one at a time
 * to the nodes in turn, largest first, a node leaving the turn once it is full; when every node
 * is full the turn starts again (oversubscription). `ncores[i]` is node i's core count; the
 * result is in the same order. Task ranks then follow node order (block): node 0 holds tasks
 * 0..n0-1, and so on.
 */
export function distributeTasks(ncores: readonly number[], ntasks: number, coresPerTask: number): number[] {
  const counts = ncores.map(() => 0);
  if (ncores.length === 0 || ntasks <= 0) return counts;
  const caps = ncores.map((n) => Math.max(1, n)); // a node with GPUs only still runs tasks
  const size = Math.max(1, Math.min(coresPerTask, ...caps));
  // largest first (stable: lower index first among equals)
  const order = caps.map((_, i) => i).sort((a, b) => caps[b]! - caps[a]!);
  let avail: number[] = [];
  let turn: number[] = [];
  for (let assigned = 0; assigned < ntasks;) {
    if (turn.length === 0) {
      avail = caps.slice();
      turn = order.slice();
    }
    const i = turn.shift()!;
    if (avail[i]! < size) continue; // full: it leaves the turn
    avail[i]! -= size;
    counts[i]!++;
    assigned++;
    turn.push(i);
  }
  return counts;
}

/** Rank → host name of an R (its nodelist names the ranks of R_lite in rank order). */
export function hostsOf(R: Rv1, ranks: readonly number[]): Map<number, string> {
  const hosts = new Map<number, string>();
  let names: string[] = [];
  try {
    names = (R.execution.nodelist ?? []).flatMap((h) => decodeHostlist(h));
  } catch {
    names = [];
  }
  const sorted = [...ranks].sort((a, b) => a - b);
  sorted.forEach((r, i) => hosts.set(r, names[i] ?? `rank${r}`));
  return hosts;
}
