/**
 * job-ingest's part of the configuration (flux-config-ingest(5); flux-core's job-ingest
 * pipeline.c), the `[ingest.validator]` table:
 *
 *   plugins = ["jobspec", "feasibility"]   validators run on each submitted job
 *   disable = true                         run no validator at all
 *   args    = [...]                        refused: tsflux's validators take no arguments
 *
 * `jobspec` is tsflux's own jobspec check, which tsflux always needs (it derives the job's
 * resource request from a valid jobspec), so the list must name it. `feasibility` asks the
 * scheduler at submit whether the job could ever run here and refuses it if not. Errors are
 * flux-core's texts where it has one, otherwise they name the key.
 */
import { Errno, FluxError } from '../../protocol/errno.js';

export interface IngestSettings {
  /** Ask the scheduler at submit (the feasibility validator plugin). */
  feasibility: boolean;
  /** No validation at all (`[ingest.validator] disable = true`). */
  disabled: boolean;
}

/** With no `[ingest.validator] plugins`: Flux's default (its JobValidator.default_validators). */
export const DEFAULT_PLUGINS: readonly string[] = ['jobspec'];
const KNOWN_PLUGINS = ['jobspec', 'feasibility'];

function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function invalid(text: string): FluxError {
  return new FluxError(Errno.EINVAL, text);
}

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalid(`error in [ingest.validator] ${what} array`);
  }
  return v;
}

/** The ingest settings of a configuration object. Throws FluxError (EINVAL) naming the key. */
export function ingestSettings(conf: unknown): IngestSettings {
  const ingest = isTable(conf) ? conf['ingest'] : undefined;
  if (ingest === undefined) return { feasibility: DEFAULT_PLUGINS.includes('feasibility'), disabled: false };
  if (!isTable(ingest)) throw invalid('error parsing [ingest] config table: Expected object');
  for (const k of Object.keys(ingest)) {
    if (k !== 'validator') throw invalid(`[ingest]: tsflux does not implement ingest.${k}`);
  }
  const v = ingest['validator'];
  if (v === undefined) return { feasibility: DEFAULT_PLUGINS.includes('feasibility'), disabled: false };
  if (!isTable(v)) throw invalid('error parsing [ingest.validator] config table: Expected object');
  const extra = Object.keys(v).filter((k) => k !== 'plugins' && k !== 'args' && k !== 'disable');
  if (extra.length > 0) {
    throw invalid(
      `error parsing [ingest.validator] config table: ${extra.length} object item(s) left unpacked: ${extra.join(', ')}`,
    );
  }
  let disabled = false;
  if ('disable' in v) {
    if (typeof v['disable'] !== 'boolean') {
      throw invalid('error parsing [ingest.validator] config table: Expected true or false');
    }
    disabled = v['disable'];
  }
  if ('args' in v && stringArray(v['args'], 'args').length > 0) {
    throw invalid('[ingest.validator] args: tsflux validators take no arguments');
  }
  const plugins = 'plugins' in v ? stringArray(v['plugins'], 'plugins') : [...DEFAULT_PLUGINS];
  for (const p of plugins) {
    if (!KNOWN_PLUGINS.includes(p)) {
      throw invalid(`[ingest.validator] plugins: validator plugin '${p}' not found (tsflux has: jobspec, feasibility)`);
    }
  }
  if (!plugins.includes('jobspec')) {
    throw invalid(
      "[ingest.validator] plugins: tsflux always validates the jobspec, so the list must include 'jobspec'",
    );
  }
  return { feasibility: plugins.includes('feasibility'), disabled };
}
