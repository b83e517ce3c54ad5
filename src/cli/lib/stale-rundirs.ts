/**
 * Runtime directories of instances that are gone (a broker killed with SIGKILL leaves its
 * private `$TMPDIR/tsflux-XXXXXX` with the socket and job scratch directories): `tsflux start`
 * removes them, saying so. A directory is stale when it is ours, holds broker sockets
 * (`local-N`) and none of them answers a connection (ECONNREFUSED: nothing listens). One
 * without a socket (an instance starting) or with a socket that answers is left alone.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Does a broker listen on this socket? */
function listening(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(sock);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT'));
  });
}

/** Remove the stale runtime directories in `dir` (default $TMPDIR); returns what was removed. */
export async function removeStaleRundirs(dir = os.tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^tsflux-[A-Za-z0-9]{6}$/.test(n));
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  await Promise.all(
    names.map(async (n) => {
      const rundir = path.join(dir, n);
      try {
        const st = fs.lstatSync(rundir);
        if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) return;
        const socks = fs.readdirSync(rundir).filter((f) => /^local-\d+$/.test(f));
        if (socks.length === 0) return;
        const live = await Promise.all(socks.map((f) => listening(path.join(rundir, f))));
        if (live.some((l) => l)) return;
        fs.rmSync(rundir, { recursive: true, force: true });
        removed.push(rundir);
      } catch {
        /* gone meanwhile, or not ours to read */
      }
    }),
  );
  return removed;
}
