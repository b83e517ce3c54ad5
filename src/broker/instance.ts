/**
 * One tsflux instance on this node: a broker with its services, listening on
 * `local://<rundir>/local-0` in a runtime directory only the owner can enter.
 * Used by `tsflux start`, the tests and the benchmarks.
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
import { Scheduler } from './sched/sched.js';
import { resourceService } from './resource/resource.js';
import { discoverResources } from './resource/discover.js';
import { JobInfoService } from './job-info/info.js';
import { JobList } from './job-list/list.js';
import { ConfigService, loadConfig } from './config/config.js';
import type { JobStore } from './store/store.js';
import { SqliteStore } from './store/sqlite.js';
import { openLog, type BrokerLog } from './log.js';
import { Errno, FluxError } from '../protocol/errno.js';

export const VERSION = '0.1.0';

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
  maxMessageSize?: number;
  /** Flux's configuration: a TOML file or a directory of `*.toml` (flux-config(5)). */
  configPath?: string;
}

export class Instance {
  private constructor(
    readonly broker: Broker,
    readonly server: LocalServer,
    readonly rundir: string,
    readonly uri: string,
    private readonly ownRundir: boolean,
    private readonly logger: BrokerLog,
  ) {}

  static async start(opts: InstanceOptions = {}): Promise<Instance> {
    const conf = loadConfig(opts.configPath); // a bad configuration stops us before anything runs
    const logger = openLog(opts.attrs?.['log-filename']);
    // A store that cannot be used stops us too, before the rundir exists.
    let storePath: string | undefined;
    let store: JobStore | undefined = opts.store;
    try {
      storePath = durableStorePath(opts);
      if (store === undefined && storePath !== undefined) {
        store = SqliteStore.open(storePath, { durable: true, log: logger.log });
      }
    } catch (e) {
      logger.close();
      throw e;
    }
    let rundir = opts.rundir;
    let own = false;
    if (rundir) {
      fs.mkdirSync(rundir, { recursive: true, mode: 0o700 });
    } else {
      rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsflux-'));
      own = true;
    }
    fs.chmodSync(rundir, 0o700);
    const sockPath = path.join(rundir, 'local-0');
    const uri = `local://${sockPath}`;
    store ??= SqliteStore.open(path.join(rundir, 'store.db'), { durable: false, log: logger.log });
    const broker = new Broker({ store });
    broker.logger = logger.log;
    broker.setattr('version', VERSION, true);
    broker.setattr('local-uri', uri, true);
    broker.setattr('rundir', rundir, true);
    broker.setattr('broker.rundir', rundir, true);
    broker.setattr('hostlist', broker.hostname, true);
    broker.setattr('broker.starttime', String(Date.now() / 1000), true);
    if (storePath !== undefined) broker.setattr('store-path', path.resolve(storePath), true);
    broker.setattr('instance-level', String(process.env.FLUX_URI ? 1 : 0), true);
    if (process.env.FLUX_URI) broker.setattr('parent-uri', process.env.FLUX_URI, true);
    if (opts.configPath !== undefined) broker.setattr('config.path', opts.configPath, true);
    for (const [k, v] of Object.entries(opts.attrs ?? {})) broker.setattr(k, v);

    const resources = discoverResources({ cores: opts.cores, gpus: opts.gpus });
    broker.register(new ConfigService(opts.configPath, conf));
    broker.register(attrService(broker));
    broker.register(new Scheduler(resources));
    broker.register(resourceService(resources));
    broker.register(new JobExec({ killTimeout: opts.killTimeout }));
    broker.register(new JobManager({ purge: opts.purge }));
    broker.register(new JobIngest());
    broker.register(new JobInfoService());
    broker.register(new JobList());
    broker.register({ name: 'broker', methods: {} }); // broker.ping (every service answers <name>.ping)
    try {
      await broker.start();
    } catch (e) {
      // a module refused its configuration: stop what already started
      await broker.stop();
      await broker.store.close();
      logger.close();
      if (own) fs.rmSync(rundir, { recursive: true, force: true });
      throw e;
    }
    const server = new LocalServer(broker, sockPath, { maxMessageSize: opts.maxMessageSize });
    await server.listen();
    broker.log(
      'info',
      `broker started: ${uri} (${resources.ranks[0]?.cores.length ?? 0} cores, ${resources.ranks[0]?.gpus.length ?? 0} gpus)`,
    );
    return new Instance(broker, server, rundir, uri, own, logger);
  }

  /** Kill running jobs, stop the services, remove the socket (and the rundir if we made it). */
  async stop(): Promise<void> {
    await this.server.close();
    await this.broker.stop();
    await this.broker.store.close();
    this.broker.log('info', 'broker stopped');
    this.logger.close();
    if (this.ownRundir) fs.rmSync(this.rundir, { recursive: true, force: true });
    else fs.rmSync(path.join(this.rundir, 'local-0'), { force: true });
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
