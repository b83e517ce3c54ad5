/**
 * How long a link may be quiet (docs/protocol.md §F.8): `tbon.torpid_min`, after which a child
 * sends its parent a HEARTBEAT control message, and `tbon.torpid_max`, after which a parent flags
 * a silent child torpid (0: never). Flux's `[tbon]` table gives them, the broker attributes of the
 * same names override it (`-Stbon.torpid_max=1m`, or `flux setattr` while running).
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { parseFsd } from '../../job/fsd.js';
import { isTable, type ConfigObject } from '../config/parse.js';

export interface TorpidLimits {
  min: number;
  max: number;
}

/** The `[tbon]` keys tsflux reads; flux-core's others (tcp_user_timeout, zmqdebug…) are refused. */
const TBON_KEYS = ['torpid_min', 'torpid_max'];

/** One limit from its FSD text, checked: min > 0, max >= 0 (flux-core overlay.c). */
export function parseTorpid(name: 'torpid_min' | 'torpid_max', text: string, where: string): number {
  let v: number;
  try {
    v = parseFsd(text);
  } catch (e) {
    throw new FluxError(Errno.EINVAL, `${where}: ${(e as Error).message}`);
  }
  if (v === Infinity || (name === 'torpid_min' && v === 0)) {
    throw new FluxError(
      Errno.EINVAL,
      `${where}: must be a ${name === 'torpid_min' ? 'positive' : 'non-negative'} finite duration`,
    );
  }
  return v;
}

export function torpidLimits(attrs: Record<string, string>, conf: ConfigObject): TorpidLimits {
  const t = conf['tbon'];
  if (t !== undefined && !isTable(t)) throw new FluxError(Errno.EINVAL, 'Config file error: [tbon] is not a table');
  const unknown = t ? Object.keys(t).filter((k) => !TBON_KEYS.includes(k)) : [];
  if (unknown.length > 0) {
    throw new FluxError(
      Errno.EINVAL,
      `Config file error: [tbon] ${unknown.join(', ')}: tsflux does not implement ${unknown.length > 1 ? 'these keys' : 'this key'} (it reads ${TBON_KEYS.join(', ')})`,
    );
  }
  const one = (name: 'torpid_min' | 'torpid_max', dflt: number): number => {
    const a = attrs[`tbon.${name}`];
    if (a !== undefined) return parseTorpid(name, a, `tbon.${name}=${a}`);
    const c = t?.[name];
    if (c === undefined) return dflt;
    if (typeof c !== 'string') {
      throw new FluxError(Errno.EINVAL, `Config file error: tbon.${name} must be a string (a Flux standard duration)`);
    }
    return parseTorpid(name, c, `Config file error: tbon.${name}`);
  };
  return { min: one('torpid_min', 5), max: one('torpid_max', 30) };
}
