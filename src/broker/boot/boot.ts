/**
 * How a broker learns its rank, the instance's size and its peers (docs/protocol.md §F.1),
 * in Flux's order: `simple` (PMI-1 over PMI_FD: our own `tsflux start --test-size`,
 * `srun --mpi=pmi2`, a parent Flux), then `slurm` (a task of a Slurm job step without PMI,
 * `srun --mpi=none`: Slurm's environment and a MUNGE-authenticated rendezvous at rank 0,
 * slurm-boot.ts), then `single` (rank 0 of 1).
 *
 * Unlike flux-core, a broker that its environment says is one of several (PMI_SIZE, or a Slurm
 * job step's task count) but that no method can join to the others refuses to start: never N
 * instances of one broker each when N brokers were asked for.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { PmiError, PmiSimpleClient, type PmiTrace } from './pmi-client.js';
import { parseProcessMapping, type TaskmapBlock } from './mapping.js';
import { slurmBoot } from './slurm-boot.js';
import { slurmMissingVar } from './slurm-env.js';

export interface Boot {
  /** The method used (`broker.boot-method`). */
  readonly method: string;
  readonly rank: number;
  readonly size: number;
  readonly kvsname: string;
  /** The process manager's task map (PMI_process_mapping), when it gave one. */
  readonly mapping: TaskmapBlock[] | undefined;
  put(key: string, value: string): Promise<void>;
  /** Every broker has put its keys; they are visible to all once this resolves. */
  barrier(): Promise<void>;
  /** A key's value; rejects when it is missing. */
  get(key: string): Promise<string>;
  finalize(): Promise<void>;
  /** Ask the process manager to end every broker (a failed bootstrap). */
  abort(exitcode: number, message: string): void;
}

/** The methods in the order they are tried. */
export const METHODS = ['simple', 'slurm', 'single'] as const;

type Env = Record<string, string | undefined>;

/** rank 0 of 1: keys live in this process. */
class SingleBoot implements Boot {
  readonly method = 'single';
  readonly rank = 0;
  readonly size = 1;
  readonly kvsname = '-';
  readonly mapping: TaskmapBlock[] = [[0, 1, 1, 1]];
  private readonly kvs = new Map<string, string>();
  async put(key: string, value: string): Promise<void> {
    this.kvs.set(key, value);
  }
  async barrier(): Promise<void> {}
  async get(key: string): Promise<string> {
    const v = this.kvs.get(key);
    if (v === undefined) throw new FluxError(Errno.ENOENT, `bootstrap: no key ${key}`);
    return v;
  }
  async finalize(): Promise<void> {}
  abort(): void {}
}

/** The boot of a broker that is the whole instance. */
export function singleBoot(): Boot {
  return new SingleBoot();
}

class SimpleBoot implements Boot {
  readonly method = 'simple';
  constructor(
    private readonly client: PmiSimpleClient,
    readonly rank: number,
    readonly size: number,
    readonly kvsname: string,
    readonly mapping: TaskmapBlock[] | undefined,
  ) {}
  put(key: string, value: string): Promise<void> {
    return this.client.put(this.kvsname, key, value);
  }
  barrier(): Promise<void> {
    return this.client.barrier();
  }
  get(key: string): Promise<string> {
    return this.client.get(this.kvsname, key);
  }
  finalize(): Promise<void> {
    return this.client.finalize();
  }
  abort(exitcode: number, message: string): void {
    this.client.abort(exitcode, message);
    this.client.close();
  }
}

function intVar(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim())) throw new FluxError(Errno.EINVAL, `bootstrap: ${name}=${v} is not a number`);
  return Number(v.trim());
}

/**
 * How many brokers the environment says this instance has, and which variable says so:
 * PMI_SIZE, else the task count of the Slurm job step this process is a task of.
 */
export function sizeFromEnv(env: Env): { size: number; variable: string } | undefined {
  const pmi = intVar(env, 'PMI_SIZE');
  if (pmi !== undefined) return { size: pmi, variable: 'PMI_SIZE' };
  if (env.SLURM_PROCID === undefined) return undefined; // not a task of a job step
  for (const name of ['SLURM_STEP_NUM_TASKS', 'SLURM_NTASKS']) {
    const n = intVar(env, name);
    if (n !== undefined) return { size: n, variable: name };
  }
  return undefined;
}

async function simple(env: Env, trace?: PmiTrace): Promise<Boot> {
  const fd = intVar(env, 'PMI_FD')!;
  const rank = intVar(env, 'PMI_RANK')!;
  const size = intVar(env, 'PMI_SIZE')!;
  if (size < 1 || rank >= size) {
    throw new FluxError(Errno.EINVAL, `bootstrap: PMI_RANK=${rank} is not a rank of PMI_SIZE=${size}`);
  }
  const client = PmiSimpleClient.fromFd(fd, trace);
  try {
    await client.init();
    await client.getMaxes();
    const kvsname = await client.getKvsname();
    let mapping: TaskmapBlock[] | undefined;
    try {
      mapping = parseProcessMapping(await client.get(kvsname, 'PMI_process_mapping'));
    } catch (e) {
      if (!(e instanceof PmiError)) throw e; // missing: the process manager gave none
    }
    return new SimpleBoot(client, rank, size, kvsname, mapping);
  } catch (e) {
    client.close();
    throw new FluxError(Errno.EPROTO, `bootstrap (simple, PMI_FD=${fd}): ${(e as Error).message}`);
  }
}

export interface BootstrapOptions {
  /** `-Sbroker.boot-method`: use this method only. */
  method?: string;
  trace?: PmiTrace;
  /** `slurm`: seconds to wait for the other brokers (tbon.connect_timeout); default 30. */
  connectTimeout?: number;
  /** Where `slurm` logs what it refuses (rank 0's rendezvous). */
  log?: (text: string) => void;
}

/** Pick the first method that applies, as flux-core's upmi; its PMI session is open until finalize(). */
export async function bootstrap(env: Env, opts: BootstrapOptions = {}): Promise<Boot> {
  const forced = opts.method;
  if (forced !== undefined && !(METHODS as readonly string[]).includes(forced)) {
    throw new FluxError(
      Errno.EINVAL,
      `broker.boot-method=${forced}: unknown bootstrap method (tsflux has ${METHODS.join(', ')})`,
    );
  }
  const hasSimple = ['PMI_FD', 'PMI_RANK', 'PMI_SIZE'].every((k) => (env[k] ?? '') !== '');
  if (forced === 'simple' || (forced === undefined && hasSimple)) {
    if (!hasSimple)
      throw new FluxError(Errno.EINVAL, 'broker.boot-method=simple: PMI_FD, PMI_RANK and PMI_SIZE must be set');
    return simple(env, opts.trace);
  }
  const said = forced === undefined ? sizeFromEnv(env) : undefined;
  const slurmMissing = slurmMissingVar(env);
  if (
    forced === 'slurm' ||
    (forced === undefined && slurmMissing === undefined && said !== undefined && said.size > 1)
  ) {
    if (slurmMissing !== undefined) {
      throw new FluxError(
        Errno.EINVAL,
        `broker.boot-method=slurm: ${slurmMissing} is not set (not a task of a Slurm job step)`,
      );
    }
    return slurmBoot(env, {
      timeout: opts.connectTimeout ?? 30,
      log: opts.log ?? ((text) => process.stderr.write(`tsflux-broker: bootstrap: ${text}\n`)),
    });
  }
  if (said !== undefined && said.size > 1) {
    const slurm = env.SLURM_PROCID !== undefined ? `, and ${slurmMissing} for the Slurm environment is not` : '';
    throw new FluxError(
      Errno.EINVAL,
      `bootstrap: ${said.variable}=${said.size} says this broker is one of ${said.size}, but no bootstrap method ` +
        `can reach the others (PMI_FD is not set${slurm}). Start the brokers with a PMI: under Slurm ` +
        '`srun --mpi=pmi2` or `srun --mpi=none`, on one machine `tsflux start --test-size=N`.',
    );
  }
  return new SingleBoot();
}
