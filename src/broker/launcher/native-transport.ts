/**
 * Transport to the native launcher (native/launcher.c, built into dist/native/tsflux-launcher
 * by scripts/build-launcher.mjs): commands on its stdin, events on its stdout (a FIFO whose read
 * end is ours, read into one reused buffer: eventFifo), its stderr inherited.
 *
 * Frames, both ways: u32 little-endian length of the rest, one op byte, the body (launcher.c
 * has the full layout). A command body is NUL-terminated text fields, so a launch is built as
 * one JS string and written with one `Buffer#write`; events are fixed binary fields read with
 * `readUInt32LE`, and captured output is raw bytes, passed on as such, but for the start of a
 * UTF-8 character that the next frame of that task and stream completes (held back until then,
 * so that text is never cut inside a character). Tasks are named by a numeric id on
 * the wire; the keys stay here. Everything queued in one event-loop turn goes out as one write.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameReader, OUTPUT } from './event-frames.js';
import type { InputSpec, LaunchSpec, OutputSpec } from './protocol.js';
import { LauncherProcess, SpawnerError, type Transport, type TransportHooks } from './transport.js';
import { WholeChars } from '../../job/output-records.js';

/** Where build-launcher.mjs puts the binary, seen from dist/src/broker/launcher/ (or src/ under tsx). */
const CANDIDATES = ['../../../native/tsflux-launcher', '../../../dist/native/tsflux-launcher'];

/** The native launcher binary (`explicit` if given), or null when it is not there. */
export function findNativeLauncher(explicit?: string): string | null {
  const files = explicit !== undefined ? [explicit] : CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url)));
  for (const f of files) {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface NativeTransportOptions {
  path: string;
  killGraceSec: number;
  batch: number;
  /** Extra launcher arguments (`--dry-run` for bench/spawn.ts). */
  args?: string[];
}

// Event op bytes.
const READY = 0x52; // R
const STARTED = 0x53; // S
const EXITED = 0x58; // X
const FAILED = 0x46; // F
const STATS = 0x54; // T

const inputField = (i: InputSpec | undefined): string =>
  i === 'pipe' ? 'p' : i && i !== 'null' && typeof i === 'object' ? 'r' + i.file : '';
const outputField = (o: OutputSpec | undefined): string =>
  o === 'capture' ? 'c' : o && typeof o === 'object' && o.file !== undefined ? (o.append ? 'a' : 'w') + o.file : '';

/**
 * The body of a launch frame (launcher.c: 'L'): the fields joined by NULs (one flat string is
 * cheaper to build and write than a chain of concatenations).
 */
export function encodeLaunch(id: number, s: LaunchSpec): string {
  const limit = s.timeLimitSec;
  const grace = s.killGraceSec;
  const argv: unknown[] = Array.isArray(s.argv) ? s.argv : [];
  const parts: unknown[] = [
    'L' + id,
    argv.length,
    -1, // envc, below
    0, // rlimit count, below
    s.rlimitAboveHard === 'clamp' ? 'c' : '',
    s.cwd ?? '',
    inputField(s.stdin),
    outputField(s.stdout),
    outputField(s.stderr),
    typeof limit === 'number' && limit > 0 && Number.isFinite(limit) ? limit : '',
    typeof grace === 'number' ? grace : '',
    s.mkdir ?? '',
  ];
  const rl = s.rlimits;
  if (rl) {
    let nrl = 0;
    for (const k in rl) {
      const v: unknown = rl[k];
      parts.push(k, (typeof v === 'number' ? '' : '?') + String(v));
      nrl++;
    }
    parts[3] = nrl;
  }
  for (let i = 0; i < argv.length; i++) parts.push(argv[i]);
  const env = s.env;
  if (env) {
    let envc = 0;
    // Own enumerable properties, as the node helper gets them (structured clone); an
    // undefined value is left out, as child_process.spawn does.
    for (const k in env) {
      const v = env[k];
      if (v !== undefined) {
        parts.push(k + '=' + v);
        envc++;
      }
    }
    parts[2] = envc;
  }
  parts.push(''); // the last field's NUL
  return parts.join('\0');
}

/** Bytes of one read of the event stream (a pipe's capacity: a read never returns more). */
const READ_SIZE = 64 * 1024;

/**
 * The launcher's event stream: a FIFO (made in a directory of our own, then unlinked) whose
 * read end is ours, so that it can be read into one reused buffer (net.Socket's `onread`),
 * which the pipe of `stdio: 'pipe'` cannot: there libuv gives every read a fresh 64 KiB buffer,
 * freed only when V8 collects it, and a job printing fast made the broker's resident memory
 * grow by tens of MiB (bench/output.ts).
 */
function eventFifo(): { read: number; write: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-launcher-'));
  const file = path.join(dir, 'events');
  try {
    const r = spawnSync('mkfifo', ['-m', '0600', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      throw new SpawnerError('EIO', `mkfifo ${file}: ${r.error?.message ?? (r.stderr.trim() || `status ${r.status}`)}`);
    }
    const read = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      return { read, write: fs.openSync(file, fs.constants.O_WRONLY) };
    } catch (e) {
      fs.closeSync(read);
      throw e;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Command frames (bodies) are text, or bytes for stdin. */
export class NativeTransport extends LauncherProcess<string | Buffer> implements Transport {
  readonly kind = 'native' as const;
  /** Task ids on the wire: keys[id] is the task's key; ids are reused once released. */
  private readonly keys: (string | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];
  private readonly idByKey = new Map<string, number>();
  /** id → [stdout, stderr]: where a UTF-8 character cut by a frame waits for its end. */
  private readonly chars = new Map<number, [WholeChars | undefined, WholeChars | undefined]>();
  private readonly events: net.Socket;
  private readonly frames = new FrameReader({
    frame: (buf, a, b) => this.onFrame(buf, a, b),
    output: (id, stream, bytes) => this.output(id, stream, bytes),
  });

  constructor(
    o: NativeTransportOptions,
    private readonly hooks: TransportHooks,
  ) {
    const args = [`--kill-grace=${o.killGraceSec}`, `--batch=${o.batch}`, ...(o.args ?? [])];
    const fifo = eventFifo();
    let child;
    try {
      child = spawn(o.path, args, { stdio: ['pipe', fifo.write, 'inherit'] });
    } finally {
      fs.closeSync(fifo.write); // the launcher has it: its end (and its death) is the end of the stream
    }
    super(child, hooks);
    this.child.stdin!.on('error', () => {
      /* EPIPE: the launcher died; 'close' settles everything */
    });
    // every read into one buffer, reused (FrameReader copies what it keeps of one)
    const onread = {
      buffer: Buffer.allocUnsafeSlow(READ_SIZE),
      callback: (n: number, buf: Buffer): void => this.frames.push(buf.subarray(0, n)),
    };
    // (@types/node has `onread` on net.connect's options only; the constructor takes it too)
    const events = new net.Socket({
      fd: fifo.read,
      readable: true,
      writable: false,
      onread,
    } as net.SocketConstructorOpts);
    this.closesAfter(events);
    this.events = events;
  }

  launch(spec: LaunchSpec): void {
    // An id comes back to use only after the launcher has reported the task done, so a
    // command or event for the old task can never reach the new one.
    const id = this.freeIds.pop() ?? this.keys.length;
    this.keys[id] = spec.key;
    this.idByKey.set(spec.key, id);
    this.outbox.push(encodeLaunch(id, spec));
  }
  kill(key: string, signum: number): void {
    const id = this.idByKey.get(key);
    if (id !== undefined) this.outbox.push(`K${id}\0${signum}\0`);
  }
  rmdir(dir: string): void {
    this.outbox.push(`D${dir}\0`);
  }
  stdin(key: string, data: Uint8Array | undefined, eof: boolean): void {
    const id = this.idByKey.get(key);
    if (id === undefined) return;
    const head = `I${id}\0${eof ? 'e' : ''}\0`;
    this.outbox.push(data && data.length > 0 ? Buffer.concat([Buffer.from(head), data]) : head);
  }
  stats(id: number): void {
    this.outbox.push(`S${id}\0`);
  }
  /** Shutting down: the events are read to their end, whatever holdOutput said. */
  override shutdown(): void {
    this.events.resume();
    super.shutdown();
  }
  override destroy(): void {
    this.events.resume();
    super.destroy();
  }
  holdOutput(held: boolean): void {
    if (held) this.events.pause();
    else this.events.resume();
  }
  protected shutdownCommand(): string {
    return 'Q';
  }

  /** One write of length-prefixed frames. */
  protected write(frames: (string | Buffer)[]): void {
    let cap = 0;
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    for (const f of frames) cap += 4 + (typeof f === 'string' ? 3 * f.length : f.length);
    const buf = Buffer.allocUnsafe(cap);
    let off = 0;
    for (const f of frames) {
      const n = typeof f === 'string' ? buf.write(f, off + 4) : f.copy(buf, off + 4);
      buf.writeUInt32LE(n, off);
      off += 4 + n;
    }
    this.child.stdin!.write(off === cap ? buf : buf.subarray(0, off));
  }

  /** Output of task `id`: whole UTF-8 characters (WholeChars). */
  private output(id: number, stream: number, bytes: Buffer): void {
    const key = this.keys[id];
    if (key === undefined) return;
    const i = stream === 2 ? 1 : 0;
    let chars = this.chars.get(id);
    if (chars === undefined) this.chars.set(id, (chars = [undefined, undefined]));
    const data = (chars[i] ??= new WholeChars()).push(bytes);
    if (data.length > 0) this.hooks.event({ type: 'output', key, stream: i ? 'stderr' : 'stdout', data });
  }

  private onFrame(buf: Buffer, a: number, b: number): void {
    const op = buf[a];
    if (op === READY) {
      this.hooks.ready();
      this.outbox.open();
      return;
    }
    const id = buf.readUInt32LE(a + 1);
    if (op === STATS) {
      const u64 = (at: number): number => buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 2 ** 32;
      this.hooks.event({
        type: 'stats',
        id,
        pid: buf.readUInt32LE(a + 5),
        rss: u64(a + 9),
        heapUsed: u64(a + 17),
        cpuUs: u64(a + 25),
        tasks: buf.readUInt32LE(a + 33),
      });
      return;
    }
    const key = this.keys[id];
    if (key === undefined) return;
    switch (op) {
      case STARTED:
        this.hooks.event({ type: 'started', key, pid: buf.readUInt32LE(a + 5) });
        return;
      case OUTPUT:
        this.output(id, buf[a + 5]!, buf.subarray(a + 6, b));
        return;
      case EXITED:
        this.release(id, key);
        this.hooks.event({ type: 'exited', key, waitStatus: buf.readUInt32LE(a + 5), timedOut: buf[a + 9] === 1 });
        return;
      case FAILED: {
        this.release(id, key);
        const codeEnd = buf.indexOf(0, a + 9);
        const msgEnd = buf.indexOf(0, codeEnd + 1);
        this.hooks.event({
          type: 'failed',
          key,
          errno: buf.readUInt32LE(a + 5),
          code: buf.toString('latin1', a + 9, codeEnd),
          message: buf.toString('utf8', codeEnd + 1, msgEnd < 0 || msgEnd > b ? b : msgEnd),
        });
        return;
      }
    }
  }

  /** The task is done: forget its id, and deliver what was held back of its output. */
  private release(id: number, key: string): void {
    this.keys[id] = undefined;
    this.freeIds.push(id);
    this.idByKey.delete(key);
    const chars = this.chars.get(id);
    if (!chars) return;
    this.chars.delete(id);
    for (let i = 0; i < 2; i++) {
      const data = chars[i]?.end();
      if (data) this.hooks.event({ type: 'output', key, stream: i ? 'stderr' : 'stdout', data });
    }
  }
}
