/**
 * flux's shell `signal` option (`attributes.system.shell.options.signal`, set by `--signal`):
 * send a signal to the job's tasks some time before its time limit expires. The value is 0 (no
 * signal), another integer (the defaults), or `{signum?, timeleft?}` with timeleft in seconds
 * or a Flux standard duration; defaults SIGUSR1 (10) and 60 s, as flux-core's shell signal.c.
 */
import { parseFsd } from './fsd.js';

export interface ShellSignal {
  signum: number;
  /** Seconds before the expiration. */
  timeleft: number;
}

const SIGUSR1 = 10;

/** The signal to send, or null for none. Throws Error naming the bad part. */
export function parseShellSignal(v: unknown): ShellSignal | null {
  if (Number.isInteger(v)) return v === 0 ? null : { signum: SIGUSR1, timeleft: 60 };
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error('must be a signal number or {signum, timeleft}');
  const o = v as Record<string, unknown>;
  const out: ShellSignal = { signum: SIGUSR1, timeleft: 60 };
  for (const [k, x] of Object.entries(o)) {
    if (k === 'signum') {
      if (!Number.isInteger(x) || (x as number) <= 0 || (x as number) > 64) throw new Error('signum: invalid signal');
      out.signum = x as number;
    } else if (k === 'timeleft') {
      let t: number | undefined;
      if (typeof x === 'number') t = x;
      else if (typeof x === 'string') {
        try {
          t = parseFsd(x);
        } catch {
          t = undefined;
        }
      }
      if (t === undefined || !(t >= 0) || !Number.isFinite(t))
        throw new Error('timeleft: must be seconds >= 0 or a duration (FSD)');
      out.timeleft = t;
    } else throw new Error(`${k}: unknown key (signum, timeleft)`);
  }
  return out;
}
