/**
 * Spawn throughput: node's own spawn from a small and from a big process, against the task
 * launchers (src/broker/launcher: the native one and the node helper) driven from a big process.
 *
 *   node dist/bench/spawn.js [--n=2000] [--raw-big-n=300] [--inflate=500] [--quick] [--json]
 *
 * (a) raw child_process.spawn('/bin/true') from a small process, 4 and 16 in flight;
 * (b) the same launches through Spawner from a parent inflated to ~500 MiB RSS, with the
 *     native launcher and with the node helper, for several in-flight counts, batch sizes and
 *     1 vs 2 launchers; "parent µs/op" is the broker's CPU per launch;
 * (c) raw spawn from that inflated parent, for contrast;
 * (d) the transport alone (no processes started): fork IPC 'advanced' vs 'json' vs NDJSON
 *     over stdio pipes, each batched per event-loop turn, echoing launch-shaped messages; then
 *     both launchers with `--dry-run` through Spawner (the whole broker side: encode, decode,
 *     bookkeeping, events) with the same messages.
 *
 * Each part runs in a fresh node process (`--part=...`) so its RSS is what the row says.
 * Figures only; no assertions on time. The machine's load average is printed with the table:
 * fork cost on a shared 2-core VM varies a lot with what else runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Spawner, DEFAULT_BATCH, findNativeLauncher, type LaunchSpec } from '../src/broker/launcher/spawner.js';

type Launcher = 'native' | 'node';
const NAME: Record<Launcher, string> = { native: 'native launcher', node: 'node helper' };
/** The launchers to measure: the native one only when its binary has been built. */
const launchers = (): Launcher[] => (findNativeLauncher() ? ['native', 'node'] : ['node']);

export interface SpawnRow {
  section: 'a' | 'b' | 'c' | 'd';
  case: string;
  parentRssMiB: number;
  helperRssMiB: number | null;
  inFlight: number | string;
  n: number;
  seconds: number;
  perSec: number;
  /** Parent (caller) CPU per launch, µs. */
  parentCpuUs: number;
  /** Launcher CPU per launch, µs (rows through Spawner). */
  launcherCpuUs: number | null;
}
export interface SpawnFigures {
  rows: SpawnRow[];
  /** Was the native launcher measured (its binary built)? */
  native: boolean;
  loadAvg: { before: number[]; after: number[] };
  cpus: number;
  node: string;
}

interface Options {
  n: number;
  rawBigN: number;
  inflateMiB: number;
  quick: boolean;
}

const rssMiB = (): number => Math.round(process.memoryUsage.rss() / 2 ** 20);
const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** node's spawn of /bin/true, `k` in flight, n in all. */
async function rawSpawn(n: number, k: number): Promise<{ seconds: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = cpuUs();
  let started = 0;
  let finished = 0;
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      if (started >= n) return;
      started++;
      const child = spawn('/bin/true', [], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', () => {
        if (++finished === n) resolve();
        else next();
      });
    };
    for (let i = 0; i < Math.min(k, n); i++) next();
  });
  return { seconds: (performance.now() - t0) / 1000, cpu: cpuUs() - c0 };
}

/**
 * node's raw spawn rate of /bin/true from the calling process (spawns/s), `k` in flight.
 * Meaningful as a baseline only when the caller is small (fork cost grows with its RSS).
 */
export async function rawSpawnRate(n = 1000, k = 16): Promise<number> {
  await rawSpawn(Math.min(50, n), k); // warm up
  const r = await rawSpawn(n, k);
  return n / r.seconds;
}

const trueSpec = (i: number): LaunchSpec => ({
  key: `bench.${i}`,
  argv: ['/bin/true'],
  cwd: '/tmp',
  env: { PATH: '/usr/bin:/bin' },
});

/** Launches through Spawner(s) (default: /bin/true), `k` in flight, n in all. */
async function viaSpawner(
  sps: Spawner[],
  n: number,
  k: number,
  spec: (i: number) => LaunchSpec = trueSpec,
): Promise<{ seconds: number; cpu: number; launcherCpu: number }> {
  const launcherCpu = async (): Promise<number> =>
    (await Promise.all(sps.map((sp) => sp.stats()))).reduce((a, s) => a + s.cpuUs, 0);
  const l0 = await launcherCpu();
  const t0 = performance.now();
  const c0 = cpuUs();
  let started = 0;
  let finished = 0;
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      if (started >= n) return;
      const i = started++;
      sps[i % sps.length]!.launch(spec(i));
    };
    const done = (): void => {
      if (++finished === n) resolve();
      else next();
    };
    for (const sp of sps) {
      sp.on('exited', done);
      sp.on('failed', (e) => reject(new Error(`${e.key}: ${e.message}`)));
    }
    for (let i = 0; i < Math.min(k, n); i++) next();
  });
  for (const sp of sps) sp.removeAllListeners();
  const r = { seconds: (performance.now() - t0) / 1000, cpu: cpuUs() - c0 };
  return { ...r, launcherCpu: (await launcherCpu()) - l0 };
}

/** Grow this process to about `mib` MiB resident with JS objects and touched buffers. */
function inflate(mib: number): unknown[] {
  const hold: unknown[] = [];
  const target = mib * 2 ** 20;
  let i = 0;
  while (process.memoryUsage.rss() < target) {
    if (i++ % 2 === 0) {
      const a = new Array(50_000);
      for (let j = 0; j < a.length; j++) a[j] = { id: j, state: 'SCHED', name: `job-${j}`, t: Math.random() };
      hold.push(a);
    } else {
      hold.push(Buffer.alloc(8 * 2 ** 20, i)); // alloc fills, so the pages are touched
    }
  }
  return hold;
}

function row(
  section: SpawnRow['section'],
  name: string,
  n: number,
  inFlight: number | string,
  r: { seconds: number; cpu: number; launcherCpu?: number },
  helperRss: number | null = null,
): SpawnRow {
  return {
    section,
    case: name,
    parentRssMiB: rssMiB(),
    helperRssMiB: helperRss,
    inFlight,
    n,
    seconds: Math.round(r.seconds * 100) / 100,
    perSec: Math.round(n / r.seconds),
    parentCpuUs: Math.round(r.cpu / n),
    launcherCpuUs: r.launcherCpu === undefined ? null : Math.round(r.launcherCpu / n),
  };
}

async function partSmall(o: Options): Promise<SpawnRow[]> {
  const rows: SpawnRow[] = [];
  await rawSpawn(50, 4); // warm up
  for (const k of [4, 16]) rows.push(row('a', 'raw spawn, small parent', o.n, k, await rawSpawn(o.n, k)));
  return rows;
}

async function partBig(o: Options): Promise<SpawnRow[]> {
  const rows: SpawnRow[] = [];
  const hold = inflate(o.inflateMiB);
  const helperRss = async (sp: Spawner): Promise<number> => Math.round((await sp.stats()).rss / 2 ** 20);

  for (const launcher of launchers()) {
    const sp = await Spawner.start({ launcher });
    await viaSpawner([sp], 50, 4); // warm up
    const inFlight = o.quick ? [4, 16, o.n] : [1, 4, 16, 64, 256, o.n];
    for (const k of inFlight) {
      const r = await viaSpawner([sp], o.n, k);
      rows.push(
        row('b', `${NAME[launcher]}, batch ${DEFAULT_BATCH}`, o.n, k === o.n ? 'all' : k, r, await helperRss(sp)),
      );
    }
    await sp.shutdown();
  }

  if (!o.quick) {
    for (const launcher of launchers()) {
      for (const batch of [1, 8, 128, 1024]) {
        const s = await Spawner.start({ launcher, batch });
        await viaSpawner([s], 50, 4);
        const r = await viaSpawner([s], o.n, o.n);
        rows.push(row('b', `${NAME[launcher]}, batch ${batch}`, o.n, 'all', r, await helperRss(s)));
        await s.shutdown();
      }
      const two = [await Spawner.start({ launcher }), await Spawner.start({ launcher })];
      await viaSpawner(two, 50, 4);
      for (const k of [16, o.n]) {
        const r = await viaSpawner(two, o.n, k);
        rows.push(
          row(
            'b',
            `2 × ${NAME[launcher]}, batch ${DEFAULT_BATCH}`,
            o.n,
            k === o.n ? 'all' : k,
            r,
            await helperRss(two[0]!),
          ),
        );
      }
      await Promise.all(two.map((s) => s.shutdown()));
    }
  }

  for (const k of [4, 16])
    rows.push(row('c', 'raw spawn, inflated parent', o.rawBigN, k, await rawSpawn(o.rawBigN, k)));
  hold.length = 0;
  return rows;
}

// ---- (d) transport -----------------------------------------------------------------------

/** Echo child: answers each launch with started + exited, batching per turn like the helper. */
const ECHO_CHILD = `
const mode = process.argv[1];
let out = [], sched = false;
const flush = () => {
  sched = false; const b = out; out = [];
  if (mode === 'ndjson') process.stdout.write(JSON.stringify(b) + '\\n'); else process.send(b);
};
const answer = (arr) => {
  for (const m of arr) { out.push({ type: 'started', key: m.key, pid: 1 }, { type: 'exited', key: m.key, waitStatus: 0, timedOut: false }); }
  if (!sched) { sched = true; setImmediate(flush); }
};
if (mode === 'ndjson') {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => {
    let i = c.indexOf('\\n'); if (i < 0) { buf += c; return; }
    c = buf + c; i += buf.length; buf = ''; let s = 0;
    for (; i >= 0; i = c.indexOf('\\n', s)) { answer(JSON.parse(c.slice(s, i))); s = i + 1; }
    buf = c.slice(s);
  });
  process.stdin.on('end', () => process.exit(0));
} else {
  process.on('message', answer);
  process.on('disconnect', () => process.exit(0));
}`;

async function transport(
  mode: 'advanced' | 'json' | 'ndjson',
  n: number,
  k: number,
): Promise<{ seconds: number; cpu: number }> {
  const baseEnv: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: '/root' };
  for (let i = 0; i < 20; i++) baseEnv[`VAR_${i}`] = `value-${i}-${'x'.repeat(20)}`;
  let child: ChildProcess;
  let sendBatch: (b: unknown[]) => void;
  const t0 = performance.now();
  const c0 = cpuUs();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    let out: unknown[] = [];
    let sched = false;
    const onEvents = (evs: { type: string }[]): void => {
      for (const e of evs) {
        if (e.type !== 'exited') continue;
        if (++done === n) return resolve();
        pump();
      }
    };
    const pump = (): void => {
      while (sent < n && sent - done < k) {
        const i = sent++;
        out.push({
          op: 'launch',
          key: `${1_000_000 + i}.0`,
          argv: ['/bin/true'],
          cwd: '/tmp',
          env: { ...baseEnv, FLUX_JOB_ID: String(i) },
        });
      }
      if (!sched && out.length) {
        sched = true;
        setImmediate(() => {
          sched = false;
          const b = out;
          out = [];
          sendBatch(b);
        });
      }
    };
    if (mode === 'ndjson') {
      child = spawn(process.execPath, ['-e', ECHO_CHILD, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
      const stdin = child.stdin!;
      sendBatch = (b) => void stdin.write(JSON.stringify(b) + '\n');
      let buf = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (c: string) => {
        let i = c.indexOf('\n');
        if (i < 0) {
          buf += c;
          return;
        }
        c = buf + c;
        i += buf.length;
        buf = '';
        let s = 0;
        for (; i >= 0; i = c.indexOf('\n', s)) {
          onEvents(JSON.parse(c.slice(s, i)));
          s = i + 1;
        }
        buf = c.slice(s);
      });
    } else {
      child = spawn(process.execPath, ['-e', ECHO_CHILD, mode], {
        serialization: mode,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      sendBatch = (b) => void child.send(b);
      child.on('message', (m) => onEvents(m as { type: string }[]));
    }
    pump();
  });
  const r = { seconds: (performance.now() - t0) / 1000, cpu: cpuUs() - c0 };
  if (mode === 'ndjson') child!.stdin!.end();
  else child!.disconnect();
  return r;
}

async function partTransport(o: Options): Promise<SpawnRow[]> {
  const rows: SpawnRow[] = [];
  const n = o.quick ? 20_000 : 100_000;
  for (const mode of ['advanced', 'json', 'ndjson'] as const) {
    await transport(mode, 5000, 2000); // warm up
    const name = mode === 'ndjson' ? 'transport: NDJSON stdio pipes, batched' : `transport: fork IPC ${mode}, batched`;
    rows.push(row('d', name, n, 2000, await transport(mode, n, 2000)));
  }
  // The same launch-shaped messages through Spawner and a launcher that starts nothing.
  const baseEnv: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: '/root' };
  for (let i = 0; i < 20; i++) baseEnv[`VAR_${i}`] = `value-${i}-${'x'.repeat(20)}`;
  const spec = (i: number): LaunchSpec => ({
    key: `${1_000_000 + i}.0`,
    argv: ['/bin/true'],
    cwd: '/tmp',
    env: { ...baseEnv, FLUX_JOB_ID: String(i) },
  });
  for (const launcher of launchers()) {
    const sp = await Spawner.start({ launcher, launcherArgs: ['--dry-run'] });
    await viaSpawner([sp], 5000, 2000, spec); // warm up
    const how = launcher === 'native' ? 'binary frames over pipes' : 'fork IPC advanced';
    rows.push(
      row('d', `Spawner + ${NAME[launcher]} --dry-run (${how})`, n, 2000, await viaSpawner([sp], n, 2000, spec)),
    );
    await sp.shutdown();
  }
  return rows;
}

// ---- driver ------------------------------------------------------------------------------

const SELF = fileURLToPath(import.meta.url);

function runPart(part: string, o: Options): Promise<SpawnRow[]> {
  return new Promise((resolve, reject) => {
    const args = [SELF, `--part=${part}`, `--n=${o.n}`, `--raw-big-n=${o.rawBigN}`, `--inflate=${o.inflateMiB}`];
    if (o.quick) args.push('--quick');
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench part ${part} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as SpawnRow[]);
    });
  });
}

export async function run(opts: Partial<Options> = {}): Promise<SpawnFigures> {
  const o: Options = { n: 2000, rawBigN: 300, inflateMiB: 500, quick: false, ...opts };
  const before = os.loadavg();
  const rows = [...(await runPart('small', o)), ...(await runPart('big', o)), ...(await runPart('transport', o))];
  return {
    rows,
    native: findNativeLauncher() !== null,
    loadAvg: { before, after: os.loadavg() },
    cpus: os.cpus().length,
    node: process.version,
  };
}

/** The headline figures: launches/s and broker CPU per launch of each way to start /bin/true. */
export function summary(f: SpawnFigures): string[] {
  const find = (section: SpawnRow['section'], name: string, inFlight: number | string): SpawnRow | undefined =>
    f.rows.find((r) => r.section === section && r.case === name && r.inFlight === inFlight);
  const raw = find('a', 'raw spawn, small parent', 16);
  const lines = [
    `node raw spawn (small parent, 16 in flight): ${raw?.perSec ?? '-'} /s, ${raw?.parentCpuUs ?? '-'} µs CPU per spawn`,
  ];
  for (const l of ['native', 'node'] as const) {
    const all = find('b', `${NAME[l]}, batch ${DEFAULT_BATCH}`, 'all');
    const dry = f.rows.find((r) => r.section === 'd' && r.case.startsWith(`Spawner + ${NAME[l]}`));
    if (!all) {
      lines.push(`${NAME[l]}: not measured (binary not built: node scripts/build-launcher.mjs)`);
      continue;
    }
    lines.push(
      `${NAME[l]} (500 MiB parent, all in flight): ${all.perSec} launches/s, broker ${all.parentCpuUs} µs and launcher ${all.launcherCpuUs} µs CPU per launch; ` +
        `transport alone (--dry-run): ${dry?.perSec ?? '-'} /s, ${dry?.parentCpuUs ?? '-'} µs per launch`,
    );
  }
  return lines;
}

export function formatTable(f: SpawnFigures): string {
  const head = [
    '',
    'case',
    'parent RSS',
    'launcher RSS',
    'in flight',
    'N',
    'seconds',
    '/s',
    'parent µs/op',
    'launcher µs/op',
  ];
  const lines = f.rows.map((r) => [
    `(${r.section})`,
    r.case,
    `${r.parentRssMiB} MiB`,
    r.helperRssMiB === null ? '-' : `${r.helperRssMiB} MiB`,
    String(r.inFlight),
    String(r.n),
    r.seconds.toFixed(2),
    String(r.perSec),
    String(r.parentCpuUs),
    r.launcherCpuUs === null ? '-' : String(r.launcherCpuUs),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (l: string[]): string => l.map((c, i) => (i >= 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  const la = (a: number[]): string => a.map((x) => x.toFixed(2)).join(' ');
  return [
    fmt(head),
    ...lines.map(fmt),
    '',
    `node ${f.node}, ${f.cpus} CPUs, load average before ${la(f.loadAvg.before)}, after ${la(f.loadAvg.after)}`,
    '(a)/(c) spawn /bin/true with child_process.spawn; (b) the same through the task launchers;',
    '(d) messages only (launch -> started + exited), "/s" = launches/s.',
    '',
    ...summary(f),
  ].join('\n');
}

function parseArgs(argv: string[]): { part?: string; json: boolean; o: Partial<Options> } {
  const o: Partial<Options> = {};
  let part: string | undefined;
  let json = false;
  for (const a of argv) {
    const [k, v] = a.split('=', 2) as [string, string | undefined];
    if (k === '--part') part = v;
    else if (k === '--n') o.n = Number(v);
    else if (k === '--raw-big-n') o.rawBigN = Number(v);
    else if (k === '--inflate') o.inflateMiB = Number(v);
    else if (k === '--quick') o.quick = true;
    else if (k === '--json') json = true;
  }
  return { part, json, o };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const { part, json, o } = parseArgs(process.argv.slice(2));
  if (part) {
    const full: Options = { n: 2000, rawBigN: 300, inflateMiB: 500, quick: false, ...o };
    const rows =
      part === 'small' ? await partSmall(full) : part === 'big' ? await partBig(full) : await partTransport(full);
    process.stdout.write(JSON.stringify(rows) + '\n');
    process.exit(0);
  }
  const figures = await run(o);
  console.log(json ? JSON.stringify(figures, null, 2) : formatTable(figures));
}
