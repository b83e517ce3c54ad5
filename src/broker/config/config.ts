/**
 * The `config` service: the instance's configuration, as flux-core's broker keeps it
 * (brokercfg.c; flux-config(5)). It is read from `tsflux start --config-path=PATH` (a TOML file
 * or a directory of `*.toml` files, see parse.ts) and kept as one JSON object.
 *
 *   config.get     {}            → the configuration object          (any user)
 *   config.load   <object>      → {}  replace it with the payload    (instance owner)
 *   config.reload  {}            → {}  read the files at PATH again   (instance owner)
 *
 * After load or reload every module (a service loaded at broker start, flux-core's modules)
 * gets `<name>.config-reload` with the new object; modules without that method (ENOSYS) do not
 * take part, and the others' errors are answered as `<name>: <error>` lines with the first
 * error's errno, the configuration staying replaced as in flux-core. Modules read it at start
 * with `config.get`.
 *
 * tsflux acts on the tables in HONOURED; the others are kept (config.get returns them) and a
 * warning names them, as flux-core keeps tables no module reads.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import { deepFreeze } from '../../protocol/json.js';
import type { BrokerContext, Method, Request, Service } from '../service.js';
import { type ConfigObject, isTable, parseConfigPath } from './parse.js';

/** The top-level tables some tsflux module reads (documented in the README). */
export const HONOURED_TABLES: readonly string[] = ['ingest', 'job-manager', 'heartbeat', 'tbon'];

/** Read the configuration at `path` (empty without one); errors as flux-core's broker words them. */
export function loadConfig(path: string | undefined): ConfigObject {
  if (path === undefined) return {};
  try {
    return parseConfigPath(path);
  } catch (e) {
    const err = e as FluxError;
    throw new FluxError(err.errno ?? Errno.EINVAL, `Config file error: ${err.message}`);
  }
}

export class ConfigService implements Service {
  readonly name = 'config';
  /** As flux-core's brokercfg.c: anyone may get, only the owner may load or reload. */
  readonly methods: Record<string, Method> = {
    get: { roles: Role.USER, handler: (req) => req.respond(this.conf) },
    load: { roles: Role.OWNER, handler: (req) => this.load(req) },
    reload: { roles: Role.OWNER, handler: (req) => this.reload(req) },
  };
  private ctx!: BrokerContext;
  private conf: ConfigObject;
  private reloading = false;

  /** `path`: where the configuration was read from (reread by config.reload); `conf`: its contents. */
  constructor(
    private readonly path: string | undefined,
    conf: ConfigObject = {},
  ) {
    this.conf = deepFreeze(conf);
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
    this.warnUnused();
  }

  /** The tables no module reads, named once per configuration. */
  private warnUnused(): void {
    const unused = Object.keys(this.conf).filter((k) => !HONOURED_TABLES.includes(k));
    if (unused.length > 0) {
      this.ctx.log(
        'warning',
        `config: tsflux does not use ${unused.map((k) => `[${k}]`).join(', ')} (kept for config.get); it reads ${HONOURED_TABLES.map((k) => `[${k}]`).join(', ')}`,
      );
    }
  }

  private load(req: Request): void {
    if (!isTable(req.payload)) return req.error(Errno.EPROTO, 'error decoding config.load request');
    this.replace(req, structuredClone(req.payload) as ConfigObject);
  }

  private reload(req: Request): void {
    let conf: ConfigObject;
    try {
      conf = loadConfig(this.path);
    } catch (e) {
      const err = e as FluxError;
      return req.error(err.errno, err.message);
    }
    this.replace(req, conf);
  }

  /** Set the new configuration and tell the modules; answer when they all have. */
  private replace(req: Request, conf: ConfigObject): void {
    if (this.reloading) {
      return req.error(Errno.EBUSY, 'module config-reload in progress, try again later');
    }
    this.conf = deepFreeze(conf);
    this.warnUnused();
    this.reloading = true;
    void this.updateModules().then(
      () => {
        this.reloading = false;
        this.ctx.log('info', 'configuration updated');
        req.respond({});
      },
      (e: FluxError) => {
        this.reloading = false;
        this.ctx.log('err', 'config reload failed');
        req.error(e.errno, e.message);
      },
    );
  }

  /** `<module>.config-reload` to every module; rejects with their errors, one line each. */
  private async updateModules(): Promise<void> {
    const names = this.ctx.modules().filter((n) => n !== this.name);
    const results = await Promise.allSettled(names.map((n) => this.ctx.rpc(`${n}.config-reload`, this.conf)));
    let errnum = 0;
    const lines: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const e = r.reason as FluxError;
      if (e.errno === Errno.ENOSYS) return;
      if (errnum === 0) errnum = e.errno ?? Errno.EINVAL;
      lines.push(`${names[i]}: ${e.message}`);
    });
    if (errnum !== 0) throw new FluxError(errnum, lines.join('\n'));
  }
}
