/**
 * One broker of a tsflux instance: its services, listening on `local://<rundir>/local-<rank>`
 * in a runtime directory only the owner can enter, and its place in the overlay when the
 * instance has several brokers (docs/protocol.md §F). Rank 0 holds the job services; every rank
 * serves attributes, ping, its own node's resources and an exec agent that runs its share of
 * the jobs' tasks, and passes everything else up (RFC 3 routing). Used by `tsflux start`, the
 * tests and the benchmarks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker } from './broker.js';
import { LocalServer } from './server.js';
import { attrService } from './attr/attr.js';
import { JobManager } from './job-manager/manager.js';
import type { PurgeLimits } from './job-manager/purge.js';
import { JobIngest } from './job-ingest/ingest.js';
import { JobExec } from './job-exec/exec.js';
import type { SpawnerOptions } from './launcher/spawner.js';
import { Scheduler } from './sched/sched.js';
import { ResourceService } from './resource/resource.js';
import { ExecAgent } from './exec-agent/agent.js';
import { discoverResources } from './resource/discover.js';
import { JobInfoService } from './job-info/info.js';
import { JobList } from './job-list/list.js';
import { ConfigService, loadConfig } from './config/config.js';
import type { JobStore } from './store/store.js';
import { SqliteStore } from './store/sqlite.js';
import { openLog, type BrokerLog } from './log.js';
import { Errno, FluxError } from '../protocol/errno.js';
import { singleBoot, type Boot } from './boot/boot.js';
import { Overlay } from './overlay/overlay.js';
import { Topology } from './overlay/topology.js';
import { parseTorpid, torpidLimits } from './overlay/torpid.js';
import { overlayService } from './overlay/service.js';
import { Heartbeat } from './heartbeat/heartbeat.js';
import { StateMachine } from './state-machine.js';
import { parseFsd } from '../job/fsd.js';
import type { ConfigObject } from './config/parse.js';
import { checkInterfaceHint, DEFAULT_INTERFACE_HINT } from './overlay/interface.js';
import { encodeHostlist } from '../job/hostlist.js';
import { encodeIdset } from '../job/idset.js';

export const VERSION = '0.1.0';

/** Attributes the broker works out itself (docs/protocol.md §F.6): `-S` may not set them. */
const BROKER_SET = new Set([
  'rank',
  'size',
  'local-uri',
  'hostname',
  'hostlist',
  'version',
  'security.owner',
  'instance-level',
  'parent-uri',
  'config.path',
  'store-path',
  'broker.uuid',
  'broker.pid',
  'broker.rundir',
  'broker.starttime',
  'broker.mapping',
  'broker.critical-ranks',
  'broker.quorum',
  'tbon.level',
  'tbon.maxlevel',
  'tbon.descendants',
  'tbon.endpoint',
  'tbon.parent-endpoint',
]);

/** `-S` attributes the broker acts on and then shows as it understood them. */
const HONOURED = new Set([
  'rundir',
  'tbon.topo',
  'broker.boot-method',
  'tbon.torpid_min',
  'tbon.torpid_max',
  'broker.quorum-warn',
  'tbon.interface-hint',
  'tbon.prefertcp',
]);

export interface InstanceOptions {
  /** Runtime directory (created if missing); default a new private directory under $TMPDIR. */
  rundir?: string;
  /** Cores to manage: a count ("8") or an idset ("0-3"); default this process's affinity mask. */
  cores?: string;
  /** GPUs to manage: a count or an idset; default CUDA_VISIBLE_DEVICES or /dev/nvidia*. */
  gpus?: string;
  /** Broker attributes to set (`-S key=value`), e.g. log-filename. */
  attrs?: Record<string, string>;
  store?: JobStore;
  /**
   * The durable store's file (`tsflux start --store`, or `statedir` set as a broker attribute:
   * then `<statedir>/tsflux-store.db`). Without either, a scratch store in the rundir, removed
   * at exit.
   */
  storePath?: string;
  /** Purge limits that win over `[job-manager]` in the configuration. */
  purge?: Partial<PurgeLimits>;
  /** Seconds from a cancel's SIGTERM to SIGKILL. */
  killTimeout?: number;
  /** How the exec agent starts its task launcher (launcher/spawner.ts); default: its defaults. */
  launcher?: SpawnerOptions;
  maxMessageSize?: number;
  /** What the incomplete messages of all clients may hold together (server.ts); default 256 MiB. */
  maxPendingBytes?: number;
  /** What may wait for one client that does not read, before it is disconnected (server.ts). */
  maxQueuedBytes?: number;
  /** Flux's configuration: a TOML file or a directory of `*.toml` (flux-config(5)). */
  configPath?: string;
  /**
   * How this broker learns its rank and peers (boot/boot.ts): an open PMI session, finalized
   * here. Default: rank 0 of 1.
   */
  boot?: Boot;
}

export class Instance {
  private constructor(
    readonly broker: Broker,
    readonly server: LocalServer,
    readonly overlay: Overlay,
    private readonly sm: StateMachine,
    readonly rundir: string,
    readonly uri: string,
    private readonly ownRundir: boolean,
    private readonly logger: BrokerLog,
  ) {}

  get rank(): number {
    return this.broker.rank;
  }

  get size(): number {
    return this.broker.size;
  }

  /**
   * A follower's end: resolves with its exit code when rank 0 shuts the instance down (0) or
   * its parent is lost (1, Flux's parent-fail). Never resolves on rank 0.
   */
  get finished(): Promise<number> {
    return this.overlay.finished;
  }

  static async start(opts: InstanceOptions = {}): Promise<Instance> {
    const boot = opts.boot ?? singleBoot();
    try {
      return await Instance.startBooted(opts, boot);
    } catch (e) {
      // the others wait for us in the PMI barrier: ask the process manager to end them
      boot.abort(1, (e as Error).message);
      throw e;
    }
  }

  private static async startBooted(opts: InstanceOptions, boot: Boot): Promise<Instance> {
    const { rank, size } = boot;
    const leader = rank === 0;
    const conf = loadConfig(opts.configPath); // a bad configuration stops us before anything runs
    const attrs = { ...(opts.attrs ?? {}) };
    const fixed = Object.keys(attrs).filter((k) => BROKER_SET.has(k));
    if (fixed.length > 0) {
      throw new FluxError(Errno.EINVAL, `-S ${fixed.join(', ')}: the broker sets this, it cannot be given`);
    }
    const topo = Topology.fromAttrs(size, attrs['tbon.topo'], attrs['tbon.fanout']);
    const torpid = torpidLimits(attrs, conf);
    const heartbeat = new Heartbeat(conf, (why) => overlay.disconnectParent(why));
    const sm = new StateMachine({
      quorumWarn: quorumWarn(attrs['broker.quorum-warn']),
      waitingFor: () => overlay.waitingFor(),
    });
    const preferTcp = attrs['tbon.prefertcp'] ?? '0';
    if (preferTcp !== '0' && preferTcp !== '1') {
      throw new FluxError(Errno.EINVAL, `tbon.prefertcp=${preferTcp}: must be 0 or 1`);
    }
    checkInterfaceHint(attrs['tbon.interface-hint'] ?? DEFAULT_INTERFACE_HINT);
    const linkTimeout = connectTimeout(attrs['tbon.connect_timeout']);
    const logger = openLog(attrs['log-filename'], rank, size);
    // A store that cannot be used stops us too, before the rundir exists. Only rank 0 keeps
    // jobs (flux-core: the statedir is rank 0's).
    let storePath: string | undefined;
    let store: JobStore | undefined = opts.store;
    try {
      storePath = leader ? durableStorePath(opts) : undefined;
      if (store === undefined && storePath !== undefined) {
        store = SqliteStore.open(storePath, { durable: true, log: logger.log });
      }
    } catch (e) {
      logger.close();
      throw e;
    }
    let rundir = opts.rundir;
    if (attrs['rundir'] !== undefined) {
      if (rundir !== undefined && path.resolve(rundir) !== path.resolve(attrs['rundir'])) {
        logger.close();
        throw new FluxError(Errno.EINVAL, `--rundir ${rundir} and -Srundir=${attrs['rundir']} disagree`);
      }
      rundir = attrs['rundir'];
    }
    let own = false;
    if (rundir) {
      fs.mkdirSync(rundir, { recursive: true, mode: 0o700 });
    } else {
      rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-'));
      own = true;
    }
    fs.chmodSync(rundir, 0o700);
    const sockPath = path.join(rundir, `local-${rank}`);
    const uri = `local://${sockPath}`;
    if (leader) store ??= SqliteStore.open(path.join(rundir, 'store.db'), { durable: false, log: logger.log });
    const broker = new Broker({ store, rank, size });
    broker.logger = logger.log;
    const overlay = new Overlay({
      broker,
      topo,
      version: VERSION,
      maxMessageSize: opts.maxMessageSize,
      torpidMin: torpid.min,
      torpidMax: torpid.max,
      interfaceHint: attrs['tbon.interface-hint'],
      connectTimeout: linkTimeout,
      preferTcp: preferTcp === '1',
    });
    broker.router = overlay;
    let server: LocalServer | undefined;
    const cleanup = async (): Promise<void> => {
      overlay.close();
      await server?.close();
      await broker.stop();
      await broker.store.close();
      logger.close();
      if (own) fs.rmSync(rundir, { recursive: true, force: true });
    };
    sm.enter('join');
    try {
      await overlay.exchange(boot, rundir);
      await overlay.connectParent();
    } catch (e) {
      await cleanup();
      throw e;
    }
    broker.setattr('version', VERSION, true);
    broker.setattr('local-uri', uri, true);
    broker.setattr('rundir', rundir, true);
    broker.setattr('broker.rundir', rundir, true);
    broker.setattr('hostlist', encodeHostlist(overlay.hostlist), true);
    broker.setattr('hostname', broker.hostname, true);
    broker.setattr('broker.starttime', String(Date.now() / 1000), true);
    broker.setattr('broker.boot-method', boot.method, true);
    broker.setattr('broker.mapping', JSON.stringify(boot.mapping ?? [[0, size, 1, 1]]), true);
    broker.setattr('broker.critical-ranks', encodeIdset(topo.criticalRanks()), true);
    broker.setattr('broker.quorum', String(size), true);
    broker.setattr('broker.quorum-warn', attrs['broker.quorum-warn'] ?? '1m', true);
    broker.setattr('tbon.topo', topo.name, true);
    broker.setattr('tbon.interface-hint', overlay.interfaceHint, true);
    broker.setattr('tbon.prefertcp', preferTcp, true);
    broker.setattr('tbon.level', String(topo.level(rank)), true);
    broker.setattr('tbon.maxlevel', String(topo.maxlevel), true);
    broker.setattr('tbon.descendants', String(topo.descendants(rank)), true);
    if (overlay.endpoint !== undefined) broker.setattr('tbon.endpoint', overlay.endpoint, true);
    if (overlay.parentEndpoint !== undefined) broker.setattr('tbon.parent-endpoint', overlay.parentEndpoint, true);
    for (const key of ['min', 'max'] as const) {
      const name = `torpid_${key}` as const;
      const given = attrs[`tbon.${name}`]?.trim() ?? (conf['tbon'] as ConfigObject | undefined)?.[name];
      broker.activeAttr(`tbon.${name}`, typeof given === 'string' ? given.trim() : `${torpid[key]}s`, (v) => {
        torpid[key] = parseTorpid(name, v, `tbon.${name}=${v}`);
        overlay.setTorpidLimits(torpid.min, torpid.max);
        return v.trim();
      });
    }
    if (storePath !== undefined) broker.setattr('store-path', path.resolve(storePath), true);
    broker.setattr('instance-level', String(process.env.FLUX_URI ? 1 : 0), true);
    if (process.env.FLUX_URI) broker.setattr('parent-uri', process.env.FLUX_URI, true);
    if (opts.configPath !== undefined) broker.setattr('config.path', opts.configPath, true);
    for (const [k, v] of Object.entries(attrs)) if (!HONOURED.has(k)) broker.setattr(k, v);

    // every broker discovers its own node; rank 0 gathers them once every broker is up
    const local = discoverResources({ cores: opts.cores, gpus: opts.gpus, rank, hostname: broker.hostname }).ranks[0]!;
    // the configuration and the job services live on rank 0; requests for them from other
    // ranks are routed up (docs/protocol.md §F.4). Every rank runs its own jobs' tasks (exec-agent).
    if (leader) broker.register(new ConfigService(opts.configPath, conf));
    broker.register(attrService(broker));
    broker.register(heartbeat);
    broker.register(sm);
    broker.register(overlayService(overlay));
    broker.register(new ResourceService({ local, size }));
    broker.register(new ExecAgent({ launcher: opts.launcher }));
    if (leader) {
      broker.register(new Scheduler(size === 1 ? { ranks: [local] } : undefined));
      broker.register(new JobExec({ killTimeout: opts.killTimeout }));
      // job-list before the job manager: it asks for the journal before a restart reads the
      // store, and that one pass feeds both (job-manager/journal.ts)
      broker.register(new JobList());
      broker.register(new JobManager({ purge: opts.purge }));
      broker.register(new JobIngest());
      broker.register(new JobInfoService());
    }
    broker.register({ name: 'broker', methods: {} }); // broker.ping (every service answers <name>.ping)
    sm.enter('init');
    try {
      // the socket answers while the services start: the broker and attributes at once, the job
      // services once they are up (a restart on many jobs takes a while)
      server = new LocalServer(broker, sockPath, {
        maxMessageSize: opts.maxMessageSize,
        maxPendingBytes: opts.maxPendingBytes,
        maxQueuedBytes: opts.maxQueuedBytes,
      });
      await server.listen();
      await broker.start();
      overlay.setReady();
      overlay.startLiveness();
      // rank 0 runs nothing until every broker is up (Flux's QUORUM state) and the scheduler
      // has every rank's resources
      sm.enter('quorum');
      if (leader && size > 1) {
        await overlay.quorum();
        await broker.rpc('resource.gather');
      }
    } catch (e) {
      // a module refused its configuration, or a broker failed before the instance was up
      await overlay.shutdownChildren();
      await cleanup();
      throw e;
    }
    broker.log(
      'info',
      `broker started: ${uri} (rank ${rank} of ${size}: ${local.cores.length} cores, ${local.gpus.length} gpus)`,
    );
    sm.enter('run');
    return new Instance(broker, server, overlay, sm, rundir, uri, own, logger);
  }

  /**
   * Shut down: the brokers below this one first (deepest first), then the local socket, the
   * services (running jobs are killed) and the store, then goodbye to the parent; remove the
   * socket (and the rundir if we made it).
   */
  async stop(): Promise<void> {
    this.sm.enter('cleanup');
    this.sm.enter('shutdown');
    await this.overlay.shutdownChildren();
    this.sm.enter('finalize');
    await this.server.close();
    await this.broker.stop();
    await this.broker.store.close();
    this.sm.enter('goodbye');
    await this.overlay.goodbye();
    this.sm.enter('exit');
    this.overlay.close();
    this.broker.log('info', 'broker stopped');
    this.logger.close();
    if (this.ownRundir) fs.rmSync(this.rundir, { recursive: true, force: true });
    else fs.rmSync(path.join(this.rundir, `local-${this.rank}`), { force: true });
  }
}

/** `tbon.connect_timeout`: an FSD, default 30s (flux-core's); 0 for none. */
function connectTimeout(text: string | undefined): number {
  if (text === undefined) return 30;
  try {
    const v = parseFsd(text);
    return v === 0 ? Infinity : v;
  } catch (e) {
    throw new FluxError(Errno.EINVAL, `tbon.connect_timeout=${text}: ${(e as Error).message}`);
  }
}

/** `broker.quorum-warn`: an FSD (default 1m), or `none` (or 0) for no warning. */
function quorumWarn(text: string | undefined): number {
  if (text === undefined) return 60;
  if (text.trim() === 'none') return Infinity;
  try {
    const v = parseFsd(text);
    return v === 0 ? Infinity : v;
  } catch (e) {
    throw new FluxError(Errno.EINVAL, `broker.quorum-warn=${text}: ${(e as Error).message} (or none)`);
  }
}

/** `storePath`, else `<statedir>/tsflux-store.db` (Flux's `-Sstatedir=DIR`); both must agree. */
function durableStorePath(opts: InstanceOptions): string | undefined {
  const statedir = opts.attrs?.['statedir'];
  if (statedir === undefined || statedir === '') return opts.storePath;
  const inDir = path.join(statedir, 'tsflux-store.db');
  if (opts.storePath !== undefined && path.resolve(opts.storePath) !== path.resolve(inDir)) {
    throw new FluxError(Errno.EINVAL, `--store ${opts.storePath} and statedir ${statedir} name two different stores`);
  }
  fs.mkdirSync(statedir, { recursive: true, mode: 0o700 });
  return inDir;
}
