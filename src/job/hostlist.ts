/**
 * RFC 29 hostlists: R's `nodelist` (written by the resource service and the scheduler, read by
 * job-list and `tsflux resource`) and job-list's `hostlist` constraint. Encoding follows
 * flux-core's `hostlist_encode` (`node[1-3,5],login0`: adjacent hosts with the same prefix and
 * digit width are merged).
 */
import { Errno, FluxError } from '../protocol/errno.js';

/** A malformed hostlist (errno EINVAL). */
export class HostlistError extends FluxError {
  constructor(message: string) {
    super(Errno.EINVAL, message);
    this.name = 'HostlistError';
  }
}

/** Split at top-level commas (commas inside brackets separate ranges). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') {
      if (depth++ > 0) throw new HostlistError(`nested brackets in hostlist ${s}`);
    } else if (c === ']') {
      if (--depth < 0) throw new HostlistError(`unbalanced brackets in hostlist ${s}`);
    } else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new HostlistError(`unbalanced brackets in hostlist ${s}`);
  out.push(s.slice(start));
  return out;
}

/** Expand a hostlist into host names, in order. `""` is the empty list. Throws HostlistError. */
export function decodeHostlist(s: string, limit = 1 << 20): string[] {
  if (s === '') return [];
  const hosts: string[] = [];
  for (const elem of splitTop(s)) {
    if (elem === '') throw new HostlistError(`empty host in hostlist ${s}`);
    const lb = elem.indexOf('[');
    if (lb < 0) {
      if (elem.includes(']')) throw new HostlistError(`invalid host ${elem}`);
      hosts.push(elem);
      continue;
    }
    const rb = elem.indexOf(']', lb);
    const prefix = elem.slice(0, lb);
    const suffix = elem.slice(rb + 1);
    if (suffix.includes('[') || suffix.includes(']')) throw new HostlistError(`invalid host ${elem}`);
    for (const r of elem.slice(lb + 1, rb).split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(r);
      if (!m) throw new HostlistError(`invalid range ${r} in hostlist ${s}`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) throw new HostlistError(`invalid range ${r} in hostlist ${s}`);
      const width = m[1]!.length > 1 && m[1]!.startsWith('0') ? m[1]!.length : 0;
      if (hosts.length + (hi - lo + 1) > limit) throw new HostlistError('hostlist is too large');
      for (let n = lo; n <= hi; n++) hosts.push(prefix + String(n).padStart(width, '0') + suffix);
    }
  }
  return hosts;
}

const NUM_SUFFIX = /^(.*?)(\d+)$/;

/** Encode host names (in the order given) as a compressed hostlist. */
export function encodeHostlist(hosts: readonly string[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < hosts.length) {
    const m = NUM_SUFFIX.exec(hosts[i]!);
    if (!m) {
      out.push(hosts[i]!);
      i++;
      continue;
    }
    const prefix = m[1]!;
    const digits = m[2]!;
    const width = digits.length > 1 && digits.startsWith('0') ? digits.length : 0;
    const ranges: [number, number][] = [[Number(digits), Number(digits)]];
    let j = i + 1;
    for (; j < hosts.length; j++) {
      const n = NUM_SUFFIX.exec(hosts[j]!);
      if (!n || n[1] !== prefix) break;
      const d = n[2]!;
      const w = d.length > 1 && d.startsWith('0') ? d.length : 0;
      if (w !== width) break;
      const v = Number(d);
      const last = ranges[ranges.length - 1]!;
      if (v === last[1] + 1) last[1] = v;
      else if (v > last[1]) ranges.push([v, v]);
      else break;
    }
    const fmt = (n: number) => String(n).padStart(width, '0');
    if (j === i + 1) out.push(hosts[i]!);
    else out.push(`${prefix}[${ranges.map(([a, b]) => (a === b ? fmt(a) : `${fmt(a)}-${fmt(b)}`)).join(',')}]`);
    i = j;
  }
  return out.join(',');
}
