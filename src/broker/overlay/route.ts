/**
 * Where a request goes next (RFC 3, docs/protocol.md §F.4), decided at each broker it reaches:
 *
 *   nodeid ANY        a local service if one has the topic's name, else the parent; at rank 0
 *                     with no such service: ENOSYS
 *   nodeid == rank    here (ENOSYS if no service)
 *   nodeid != rank    down to the child on the path if the rank is below us, else up; a rank
 *                     outside the instance: EHOSTUNREACH
 *   UPSTREAM flag     (nodeid = the sender's rank) at the sender's broker: straight to the
 *                     parent; further up: a local service if there is one, else up again
 *
 * A client's nodeid FLUX_NODEID_UPSTREAM is taken as the UPSTREAM flag with its broker's rank.
 */
import { Errno } from '../../protocol/errno.js';
import { NODEID_ANY, NODEID_UPSTREAM } from '../../protocol/types.js';
import type { Topology } from './topology.js';

export type Hop =
  { to: 'local' } | { to: 'parent' } | { to: 'child'; rank: number } | { to: 'error'; errnum: number; text?: string };

const LOCAL: Hop = { to: 'local' };
const PARENT: Hop = { to: 'parent' };

export function nextHop(
  topo: Topology,
  rank: number,
  topic: string,
  nodeid: number,
  upstream: boolean,
  hasService: boolean,
): Hop {
  if (nodeid === NODEID_UPSTREAM) {
    nodeid = rank;
    upstream = true;
  }
  if (upstream) {
    if (nodeid === rank || !hasService) {
      if (rank !== 0) return PARENT;
      return nodeid === rank
        ? { to: 'error', errnum: Errno.EHOSTUNREACH, text: `${topic}: rank 0 has no upstream` }
        : noService(topic);
    }
    return LOCAL;
  }
  if (nodeid === NODEID_ANY) {
    if (hasService) return LOCAL;
    return rank === 0 ? noService(topic) : PARENT;
  }
  if (nodeid === rank) return LOCAL;
  if (nodeid >= topo.size) return { to: 'error', errnum: Errno.EHOSTUNREACH };
  const child = topo.childToward(rank, nodeid);
  if (child !== undefined) return { to: 'child', rank: child };
  return rank === 0 ? { to: 'error', errnum: Errno.EHOSTUNREACH } : PARENT;
}

function noService(topic: string): Hop {
  return { to: 'error', errnum: Errno.ENOSYS, text: `No service matching ${topic} is registered` };
}
