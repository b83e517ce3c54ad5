/**
 * The 1,000-node plan (README "An instance of 1,000 nodes"), simulated: every message of a
 * workload is routed broker by broker with the overlay's own routing (`nextHop` over the
 * `Topology` of src/broker/overlay), and each broker's sends and receives are counted. Nothing
 * is timed here; the cost of one message at a broker comes from bench/overlay.ts (pass it with
 * --us-per-msg, measured on this machine) and turns the counts into CPU time.
 *
 *   node dist/bench/overlay-plan.js [--us-per-msg=20] [--jobs=1025] [--output-lines=1]
 *
 * The workload is the job path of docs/job-path.md across ranks: rank 0's job-exec sends
 * `exec-agent.start` to each rank of a job's R (a request routed by nodeid), and each agent's
 * answers come back along the same route: `started` and `exited` per task, the task's output
 * lines, and the stream's end. Clients are on rank 0 (as the seed's script is); with
 * --remote-clients each job's submit, wait and their answers come from the job's own rank
 * instead. Background: rank 0's `heartbeat.pulse` every 2 s to every broker, and a HEARTBEAT
 * control message up each link that is otherwise idle for tbon.torpid_min (5 s).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topology } from '../src/broker/overlay/topology.js';
import { nextHop } from '../src/broker/overlay/route.js';

interface Load {
  sent: Float64Array;
  recv: Float64Array;
}

/** Route one message from `from` to `to` (nodeid) and count it at every broker it crosses. */
function route(topo: Topology, load: Load, from: number, to: number, times = 1): void {
  let at = from;
  for (let hops = 0; hops <= topo.size; hops++) {
    const h = nextHop(topo, at, 'exec-agent.start', to, false, at === to);
    if (h.to === 'local') return;
    if (h.to === 'error') throw new Error(`no route from ${from} to ${to}`);
    const next = h.to === 'parent' ? topo.parent(at)! : h.rank;
    load.sent[at]! += times;
    load.recv[next]! += times;
    at = next;
  }
  throw new Error('routing loop');
}

interface Row {
  size: number;
  k: number;
  depth: number;
  rank0PerJob: number;
  busiestOtherPerJob: number;
  bigJobRank0: number;
  backgroundRank0PerSec: number;
}

function simulate(size: number, k: number, jobs: number, outputLines: number, remoteClients: boolean): Row {
  const topo = new Topology(size, k);
  const load: Load = { sent: new Float64Array(size), recv: new Float64Array(size) };
  const answers = 3 + outputLines; // started, output lines, exited, end of stream
  for (let j = 0; j < jobs; j++) {
    const r = j % size; // one-node jobs, round-robin over the nodes (the scheduler's spread)
    route(topo, load, 0, r); // exec-agent.start
    route(topo, load, r, 0, answers);
    if (remoteClients) {
      route(topo, load, r, 0, 2); // submit and wait from a client on rank r
      route(topo, load, 0, r, 2); // their answers
    }
  }
  const per = (x: number): number => x / jobs;
  const total = (i: number): number => load.sent[i]! + load.recv[i]!;
  let busiest = 0;
  for (let i = 1; i < size; i++) busiest = Math.max(busiest, total(i));
  // one job on every node of the instance
  const big: Load = { sent: new Float64Array(size), recv: new Float64Array(size) };
  for (let r = 0; r < size; r++) {
    route(topo, big, 0, r);
    route(topo, big, r, 0, answers);
  }
  // background, per second: pulses (rank 0 sends one per child every 2 s) and heartbeats up
  // each of its child links every 5 s when nothing else flows
  const kids = topo.children(0).length;
  return {
    size,
    k,
    depth: topo.maxlevel,
    rank0PerJob: per(total(0)),
    busiestOtherPerJob: per(busiest),
    bigJobRank0: big.sent[0]! + big.recv[0]!,
    backgroundRank0PerSec: kids / 2 + kids / 5,
  };
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

export function run(usPerMsg = 20, jobs = 1025, outputLines = 1, remoteClients = false): void {
  console.log(
    `${jobs} one-node jobs (${outputLines} output line each${remoteClients ? ", clients on the jobs' ranks" : ', clients on rank 0'}); ${usPerMsg} µs of broker CPU per message sent or received`,
  );
  const rows: string[][] = [
    [
      'brokers',
      'topology',
      'depth',
      'rank 0 msgs/job',
      'busiest other msgs/job',
      'rank 0 CPU at 1,000 job/s',
      'rank 0 msgs for one job on every node',
      'its CPU',
      'background rank 0 msgs/s',
    ],
  ];
  for (const [size, k] of [
    [3, 32],
    [16, 32],
    [128, 32],
    [1000, 32],
    [1000, 2],
    [1000, 0],
    [10000, 32],
  ] as const) {
    const r = simulate(size, k, jobs, outputLines, remoteClients);
    rows.push([
      String(size),
      k === 0 ? 'flat' : `kary:${k}`,
      String(r.depth),
      r.rank0PerJob.toFixed(2),
      r.busiestOtherPerJob.toFixed(2),
      `${((r.rank0PerJob * 1000 * usPerMsg) / 1e4).toFixed(1)} %`,
      String(r.bigJobRank0),
      `${((r.bigJobRank0 * usPerMsg) / 1e3).toFixed(1)} ms`,
      r.backgroundRank0PerSec.toFixed(1),
    ]);
  }
  console.log(table(rows));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (key: string, d: number): number => {
    const a = process.argv.find((x) => x.startsWith(`--${key}=`));
    return a ? Number(a.slice(key.length + 3)) : d;
  };
  run(arg('us-per-msg', 20), arg('jobs', 1025), arg('output-lines', 1), process.argv.includes('--remote-clients'));
}
