/**
 * The `slurm` bootstrap method (docs/protocol.md §F.1): a task of a Slurm job step with no PMI
 * (`srun --mpi=none -N3 tsflux start`) takes its rank, the size and the step from Slurm's
 * environment (slurm-env.ts) and meets the others at rank 0, on the step's first node, through
 * a MUNGE-authenticated rendezvous (rendezvous.ts). No secret to set up: MUNGE is what Slurm
 * itself authenticates with.
 */
import dns from 'node:dns/promises';
import { Errno, FluxError } from '../../protocol/errno.js';
import type { Boot } from './boot.js';
import { taskmapOfNodes, type TaskmapBlock } from './mapping.js';
import { mungeSocket } from './munge.js';
import { RendezvousClient, RendezvousServer, rendezvousPorts, type RendezvousPeer } from './rendezvous.js';
import { slurmStep } from './slurm-env.js';

type Env = Record<string, string | undefined>;

class SlurmBoot implements Boot {
  readonly method = 'slurm';
  private readonly puts = new Map<string, string>();
  private kvs = new Map<string, string>();
  constructor(
    private readonly peer: RendezvousPeer,
    readonly rank: number,
    readonly size: number,
    readonly kvsname: string,
    readonly mapping: TaskmapBlock[],
  ) {}
  async put(key: string, value: string): Promise<void> {
    this.puts.set(key, value);
  }
  async barrier(): Promise<void> {
    const puts = new Map(this.puts);
    this.puts.clear();
    this.kvs = await this.peer.barrier(puts);
  }
  async get(key: string): Promise<string> {
    const v = this.kvs.get(key);
    if (v === undefined) throw new FluxError(Errno.ENOENT, `bootstrap (slurm): no key ${key}`);
    return v;
  }
  finalize(): Promise<void> {
    return this.peer.finalize();
  }
  abort(_exitcode: number, message: string): void {
    this.peer.abort(message);
  }
}

export interface SlurmBootOptions {
  /** Seconds to wait for the others (tbon.connect_timeout). */
  timeout: number;
  log: (text: string) => void;
}

/** Boot from Slurm's environment; resolves once every rank of the step has joined. */
export async function slurmBoot(env: Env, o: SlurmBootOptions): Promise<Boot> {
  const s = slurmStep(env);
  const uid = process.getuid?.() ?? 0;
  const common = { step: s.step, size: s.size, uid, socket: mungeSocket(env), timeout: o.timeout, log: o.log };
  const host = s.nodes[0];
  if (host === undefined) throw new FluxError(Errno.EINVAL, 'bootstrap (slurm): SLURM_STEP_NODELIST is empty');
  const ports = rendezvousPorts(s.step, s.resvPorts);
  let peer: RendezvousPeer;
  if (s.rank === 0) {
    if (s.nodename !== undefined && s.nodename !== host) {
      throw new FluxError(
        Errno.EINVAL,
        `bootstrap (slurm): rank 0 runs on ${s.nodename}, not on the step's first node ${host}, where the others look for it`,
      );
    }
    let address: string;
    try {
      address = (await dns.lookup(host)).address;
    } catch (e) {
      throw new FluxError(
        Errno.EINVAL,
        `bootstrap (slurm): the step's first node ${host} does not resolve: ${(e as Error).message}`,
      );
    }
    peer = await RendezvousServer.listen(common, address, ports, s.nodeid);
  } else {
    peer = await RendezvousClient.join({ ...common, rank: s.rank, nodeid: s.nodeid, host, ports });
  }
  try {
    const nodes = await peer.joined();
    return new SlurmBoot(peer, s.rank, s.size, s.step, taskmapOfNodes(nodes));
  } catch (e) {
    peer.abort((e as Error).message);
    throw e;
  }
}
