/**
 * Hostile clients against a real broker (`tsflux start`, its own process), issue 13:
 *
 *   node dist/bench/hostile.js [path/to/bin/tsflux.js]   (default: this tree's)
 *
 * (a) frame flood: one connection sends a valid header announcing 64 MiB and then 64 MiB of
 *     zero-length frames; meanwhile another client pings the broker in a loop: ping latency
 *     (median, max) during the flood, how long until the flooding connection is closed, and
 *     the broker's peak RSS growth.
 * (b) 60 connections each send a 64 MiB header and 63 MiB of body and never finish: the
 *     broker's RSS growth (peak) and how many of them it closed, and a ping after.
 * The tsflux.js argument lets the same measurement run against another tree (before/after).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flux } from '../src/client/handle.js';

const MiB = 1024 * 1024;
const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.argv[2] ?? path.resolve(here, '../../bin/tsflux.js');

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function header(len: number): Buffer {
  const b = Buffer.from([0x12, 0x00, 0xee, 0xff, 0, 0, 0, 0]);
  b.writeUInt32BE(len, 4);
  return b;
}

async function connect(sockPath: string): Promise<{ sock: net.Socket; closed: Promise<number> }> {
  const sock = net.connect(sockPath);
  sock.on('error', () => sock.destroy());
  const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(performance.now())));
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  return { sock, closed };
}

/** Write `total` bytes of `fill` in 1 MiB pieces, waiting for drain; stops when the socket closes. */
async function stream(sock: net.Socket, total: number, fill: Buffer): Promise<number> {
  let sent = 0;
  while (sent < total && !sock.destroyed) {
    const n = Math.min(fill.length, total - sent);
    const ok = sock.write(n === fill.length ? fill : fill.subarray(0, n));
    sent += n;
    if (!ok) {
      await new Promise<void>((resolve) => {
        const go = (): void => {
          sock.off('drain', go);
          sock.off('close', go);
          resolve();
        };
        sock.on('drain', go);
        sock.on('close', go);
      });
    }
  }
  return sent;
}

async function main(): Promise<void> {
  const rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-hostile-'));
  const broker = spawn(process.execPath, [bin, 'start', `--rundir=${rundir}`, 'sleep', '100000'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const sockPath = path.join(rundir, 'local-0');
  while (!fs.existsSync(sockPath)) await new Promise((r) => setTimeout(r, 20));
  const h = await Flux.open(`local://${sockPath}`);
  await h.rpc('broker.ping', {});
  const pid = broker.pid!;
  console.log(`broker ${bin} pid ${pid}, RSS ${(rssOf(pid) / MiB).toFixed(0)} MiB`);

  // (a) frame flood
  {
    const rss0 = rssOf(pid);
    let peak = rss0;
    const { sock, closed } = await connect(sockPath);
    const t0 = performance.now();
    let done = false;
    const lat: number[] = [];
    const pinger = (async () => {
      while (!done) {
        const s = performance.now();
        await h.rpc('broker.ping', {});
        lat.push(performance.now() - s);
        peak = Math.max(peak, rssOf(pid));
      }
    })();
    sock.write(header(64 * MiB));
    const sent = await stream(sock, 64 * MiB, Buffer.alloc(MiB));
    // the whole flood is written (or refused): wait for the broker to close the connection
    const tClosed = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(NaN), 30_000))]);
    done = true;
    await pinger;
    sock.destroy();
    lat.sort((a, b) => a - b);
    console.log(
      `(a) frame flood: ${(sent / MiB).toFixed(1)} MiB written, connection closed after ${(tClosed - t0).toFixed(0)} ms; ` +
        `${lat.length} pings during it: median ${lat[lat.length >> 1]?.toFixed(2)} ms, max ${lat[lat.length - 1]?.toFixed(1)} ms; ` +
        `broker RSS +${((peak - rss0) / MiB).toFixed(0)} MiB at peak`,
    );
  }

  // (b) 60 connections with 63 MiB of a 64 MiB message each, never finished
  {
    const rss0 = rssOf(pid);
    const conns = await Promise.all(Array.from({ length: 60 }, () => connect(sockPath)));
    let closedCount = 0;
    for (const c of conns) void c.closed.then(() => closedCount++);
    const body = Buffer.alloc(MiB);
    body[0] = 0xff;
    body.writeUInt32BE(64 * MiB - 5 - 21, 1); // one big frame: valid so far
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    await Promise.all(
      conns.map(async (c) => {
        c.sock.write(header(64 * MiB));
        c.sock.write(body);
        await stream(c.sock, 62 * MiB, Buffer.alloc(MiB));
      }),
    );
    const s = performance.now();
    await h.rpc('broker.ping', {});
    const pingMs = performance.now() - s;
    peak = Math.max(peak, rssOf(pid));
    clearInterval(sampler);
    console.log(
      `(b) 60 × 63 MiB of unfinished 64 MiB messages: ${closedCount} connections closed by the broker, ` +
        `broker RSS +${((peak - rss0) / MiB).toFixed(0)} MiB at peak, a ping after: ${pingMs.toFixed(1)} ms`,
    );
    for (const c of conns) c.sock.destroy();
  }
  h.close();
  broker.kill('SIGTERM');
  await new Promise((r) => broker.on('exit', r));
  fs.rmSync(rundir, { recursive: true, force: true });
}

await main();
