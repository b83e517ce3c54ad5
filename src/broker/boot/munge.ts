/**
 * MUNGE credentials through the `munge` and `unmunge` commands (MUNGE's own, installed on every
 * Slurm node: Slurm authenticates with it). A credential carries a payload and says which user
 * made it; only a host that shares the cluster's MUNGE key can make or read one, munged refuses
 * a credential it has seen before or that has expired, and `-u UID` lets only that user read it.
 *
 * Which munged (docs/protocol.md §F.1): `MUNGE_SOCKET` when set, else the socket Slurm itself
 * uses (`AuthInfo=socket=PATH` in the slurm.conf that `SLURM_CONF` names, else
 * /etc/slurm/slurm.conf), else MUNGE's default socket.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Errno, FluxError } from '../../protocol/errno.js';

type Env = Record<string, string | undefined>;

/** The munged socket to use, or undefined for MUNGE's default. */
export function mungeSocket(env: Env): string | undefined {
  if ((env.MUNGE_SOCKET ?? '') !== '') return env.MUNGE_SOCKET;
  const conf = (env.SLURM_CONF ?? '') !== '' ? env.SLURM_CONF! : '/etc/slurm/slurm.conf';
  let text: string;
  try {
    text = fs.readFileSync(conf, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*AuthInfo\s*=\s*(\S+)/i.exec(line.replace(/#.*/, ''));
    if (!m) continue;
    for (const opt of m[1]!.split(',')) {
      const kv = /^socket=(.+)$/i.exec(opt.trim());
      if (kv) return kv[1];
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) =>
      reject(new FluxError(Errno.ENOENT, `${cmd}: ${e.message} (MUNGE's commands are needed: install munge)`)),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** A credential carrying `payload` that only user `uid` can decode. */
export async function mungeEncode(payload: string, uid: number, socket: string | undefined): Promise<string> {
  const r = await run('munge', ['-u', String(uid), ...(socket ? ['-S', socket] : [])], payload);
  if (r.code !== 0) throw new FluxError(Errno.EPERM, `munge: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout.trim();
}

export interface Decoded {
  uid: number;
  gid: number;
  payload: string;
}

/** Check a credential with munged; rejects with munged's reason (invalid, expired, replayed, …). */
export async function mungeDecode(cred: string, socket: string | undefined): Promise<Decoded> {
  const r = await run('unmunge', socket ? ['-S', socket] : [], cred + '\n');
  const cut = r.stdout.indexOf('\n\n');
  const meta = new Map<string, string>();
  for (const line of r.stdout.slice(0, cut < 0 ? undefined : cut).split('\n')) {
    const m = /^([A-Z_]+):\s*(.*)$/.exec(line);
    if (m) meta.set(m[1]!, m[2]!.trim());
  }
  // STATUS: Success (0) | Replayed credential (17) | …; UID: root (0)
  const status = /^(.*) \((\d+)\)$/.exec(meta.get('STATUS') ?? '');
  if (r.code !== 0 || status?.[2] !== '0') {
    const why = status
      ? `${status[1]} (${status[2]})`
      : r.stderr.trim().replace(/^unmunge: (Error: )?/, '') || `exit ${r.code}`;
    throw new FluxError(Errno.EPERM, `unmunge: ${why}`);
  }
  const id = (k: string): number => Number(/\((\d+)\)$/.exec(meta.get(k) ?? '')?.[1] ?? NaN);
  const uid = id('UID');
  const gid = id('GID');
  if (cut < 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new FluxError(Errno.EPROTO, 'unmunge: output without UID, GID or payload');
  }
  return { uid, gid, payload: r.stdout.slice(cut + 2) };
}
