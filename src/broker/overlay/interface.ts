/**
 * Which address a broker's TCP listener binds (docs/protocol.md §F.3), from the attribute
 * `tbon.interface-hint` (flux-core's ipaddr.c and boot_pmi.c):
 *
 * - `hostname` (tsflux's default): the address this host's name resolves to. On a cluster the
 *   node name resolves to the node's address; on the Slurm testbed `n1` resolves to 127.0.0.11,
 *   so each "node" gets its own address and port space though they share one network stack.
 * - `default-route`: the IPv4 address of the interface of the default route (/proc/net/route),
 *   flux-core's default.
 * - an interface name (`eth0`): its first IPv4 address.
 * - a CIDR (`10.0.0.0/8`): the first IPv4 address of an interface within it.
 */
import dns from 'node:dns/promises';
import fs from 'node:fs';
import os from 'node:os';
import { Errno, FluxError } from '../../protocol/errno.js';

export const DEFAULT_INTERFACE_HINT = 'hostname';

/** Refuse a hint that is none of the forms above (before anything starts, whatever the size). */
export function checkInterfaceHint(hint: string): void {
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(hint);
  if (hint === 'hostname' || hint === 'default-route' || (cidr && Number(cidr[2]) <= 32)) return;
  if (os.networkInterfaces()[hint] !== undefined) return;
  throw new FluxError(
    Errno.EINVAL,
    `tbon.interface-hint=${hint}: not 'hostname', 'default-route', an interface name of this host or a CIDR`,
  );
}

/** The address to bind for `hint`; errors name the hint and what was missing. */
export async function bindAddress(hint: string, hostname: string): Promise<string> {
  const bad = (why: string): FluxError => new FluxError(Errno.EINVAL, `tbon.interface-hint=${hint}: ${why}`);
  if (hint === 'hostname') {
    try {
      const { address } = await dns.lookup(hostname, { family: 4 }).catch(() => dns.lookup(hostname));
      return address;
    } catch (e) {
      throw bad(`this host's name ${hostname} does not resolve (${(e as Error).message})`);
    }
  }
  const ifaces = os.networkInterfaces();
  const v4 = (name: string): string | undefined => ifaces[name]?.find((a) => a.family === 'IPv4')?.address;
  if (hint === 'default-route') {
    const iface = defaultRouteInterface();
    if (iface === undefined) throw bad('no default route in /proc/net/route');
    const a = v4(iface);
    if (a === undefined) throw bad(`the default route's interface ${iface} has no IPv4 address`);
    return a;
  }
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(hint);
  if (cidr) {
    const bits = Number(cidr[2]);
    if (bits > 32) throw bad('not a CIDR');
    const net = ipv4(cidr[1]!);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    for (const list of Object.values(ifaces)) {
      for (const a of list ?? []) {
        if (a.family === 'IPv4' && (ipv4(a.address) & mask) >>> 0 === (net & mask) >>> 0) return a.address;
      }
    }
    throw bad('no interface has an address in that network');
  }
  if (ifaces[hint] !== undefined) {
    const a = v4(hint);
    if (a === undefined) throw bad('that interface has no IPv4 address');
    return a;
  }
  checkInterfaceHint(hint);
  throw bad('no such interface');
}

function ipv4(s: string): number {
  return s.split('.').reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}

function defaultRouteInterface(): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 2 && f[1] === '00000000') return f[0];
  }
  return undefined;
}
