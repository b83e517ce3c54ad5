/** Job shell planning: how many tasks a job runs and their environment (what flux-shell does). */
import type { Rv1 } from '../../job/rv1.js';

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
