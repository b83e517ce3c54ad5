/**
 * The `resource` service, on every rank (as flux-core's resource module). Each rank knows what
 * its own node has (discover.ts); rank 0 holds the instance's whole set and answers what
 * `flux resource list`, `flux resource status` and `flux queue` ask
 * (test/vectors/cli-resource-list.json; requests come with no payload):
 *
 *   resource.sched-status → {"all":R, "down":R, "allocated":R}   (Rv1 each; the scheduler's
 *                            view, fetched with sched.status, as flux-core's resource module
 *                            asks sched.resource-status)
 *   resource.status       → {"R":R, "drain":{}, "online":IDSET, "offline":IDSET, "exclude":"", "torpid":""}
 *   resource.local        → {rank, hostname, cores, gpus}: this rank's own resources (owner only)
 *   resource.gather       → {} (internal, rank 0): ask every other rank its resources (resource.local,
 *                            routed to that rank), then hand the whole set to the scheduler
 *                            (sched.resources). The instance runs it once every broker is up.
 *
 * A rank whose broker was lost (the overlay's `overlay.lost` event, docs/protocol.md §F.5) is
 * offline from then on: resource.status says so and the scheduler is told (sched.down).
 * A broker flagged torpid (`overlay.torpid`, §F.8) takes no new work until it answers again;
 * resource.status lists it. Nothing is drained or excluded (yet). Any user may ask the status (flux-core
 * resource/status.c: FLUX_ROLE_USER); ranks other than 0 pass status requests to rank 0.
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import type { BrokerContext, Method, Request, Service } from '../service.js';
import { decodeIdset, encodeIdset } from '../../job/idset.js';
import { toRv1, type InstanceResources, type RankResources } from '../../job/rv1.js';

export interface ResourceServiceOptions {
  /** This rank's own resources. */
  local: RankResources;
  /** Ranks in the instance; the set is whole once each has said what it has. */
  size: number;
  /** Other ranks' resources known already (tests; a set given whole). */
  others?: RankResources[];
}

export class ResourceService implements Service {
  readonly name = 'resource';
  readonly methods: Record<string, Method>;
  private ctx: BrokerContext | undefined;
  private readonly ranks = new Map<number, RankResources>();
  private readonly offline = new Set<number>();
  private readonly torpid = new Set<number>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: ResourceServiceOptions) {
    this.ranks.set(opts.local.rank, opts.local);
    for (const r of opts.others ?? []) this.ranks.set(r.rank, r);
    const leaderOnly =
      (f: (req: Request) => void): Method['handler'] =>
      (req) => {
        if (this.ctx === undefined) return req.error(Errno.ENOSYS, 'resource service is not started');
        if (this.ctx.rank === 0) return f(req);
        // the whole set is rank 0's
        this.ctx.rpc(req.topic, req.payload, { nodeid: 0, userid: req.userid, rolemask: req.rolemask }).then(
          (p) => req.respond(p),
          (e: FluxError) => req.error(e.errno ?? Errno.EIO, e.message),
        );
      };
    this.methods = {
      'sched-status': {
        roles: Role.USER,
        handler: leaderOnly((req) => {
          this.ctx!.rpc('sched.status').then(
            (s) => req.respond(s),
            (e: FluxError) => req.error(e.errno ?? Errno.EIO, e.message),
          );
        }),
      },
      status: { roles: Role.USER, handler: leaderOnly((req) => req.respond(this.statusPayload())) },
      local: { roles: Role.OWNER, handler: (req) => req.respond({ ...this.opts.local }) },
      gather: { roles: 'internal', handler: (req) => this.gather(req) },
    };
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
    if (ctx.rank === 0) {
      const lost = ctx.subscribe('overlay.lost', (_t, p) => this.lost(p));
      const torpid = ctx.subscribe('overlay.torpid', (_t, p) => this.torpidChanged(p));
      this.unsubscribe = () => {
        lost();
        torpid();
      };
    }
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** Every rank's resources as one set (those that have answered so far). */
  get resources(): InstanceResources {
    return { ranks: [...this.ranks.values()].sort((a, b) => a.rank - b.rank) };
  }

  private async gather(req: Request): Promise<void> {
    const ctx = this.ctx!;
    try {
      const others = Array.from({ length: this.opts.size }, (_, r) => r).filter((r) => !this.ranks.has(r));
      const got = await Promise.all(
        others.map((r) => ctx.rpc<RankResources>('resource.local', undefined, { nodeid: r })),
      );
      for (const g of got) this.ranks.set(g.rank, g);
      await ctx.rpc('sched.resources', this.resources);
      req.respond({});
    } catch (e) {
      req.error(
        (e as FluxError).errno ?? Errno.EIO,
        `resource: gathering every rank's resources: ${(e as Error).message}`,
      );
    }
  }

  /** `overlay.lost` {ranks: IDSET}: those brokers are gone; the scheduler stops using them. */
  private lost(p: any): void {
    let ranks: number[];
    try {
      ranks = decodeIdset(String(p?.ranks ?? '')).filter((r) => this.ranks.has(r) && !this.offline.has(r));
    } catch {
      return;
    }
    if (ranks.length === 0) return;
    for (const r of ranks) this.offline.add(r);
    this.ctx
      ?.rpc('sched.down', { ranks })
      .catch((e: Error) => this.ctx?.log('err', `resource: sched.down: ${e.message}`));
  }

  /**
   * `overlay.torpid` {rank, torpid}: a broker that stopped answering takes no new work while it
   * is silent, and takes it again once it answers (flux-core drains it until an operator says
   * otherwise; tsflux has no drain yet). resource.status lists it under torpid.
   */
  private torpidChanged(p: any): void {
    const rank = p?.rank;
    if (!Number.isInteger(rank) || !this.ranks.has(rank) || typeof p?.torpid !== 'boolean') return;
    if (p.torpid === this.torpid.has(rank)) return;
    if (p.torpid) this.torpid.add(rank);
    else this.torpid.delete(rank);
    if (this.offline.has(rank)) return;
    const topic = p.torpid ? 'sched.down' : 'sched.up';
    this.ctx
      ?.rpc(topic, { ranks: [rank] })
      .catch((e: Error) => this.ctx?.log('err', `resource: ${topic}: ${e.message}`));
  }

  private hostname = (rank: number): string => this.ranks.get(rank)?.hostname ?? '';

  /** The instance's whole resource set as Rv1. */
  R(): object {
    return toRv1(this.resources.ranks, this.hostname);
  }

  statusPayload(): object {
    const all = [...this.ranks.keys()];
    return {
      R: this.R(),
      drain: {},
      online: encodeIdset(all.filter((r) => !this.offline.has(r))),
      offline: encodeIdset(all.filter((r) => this.offline.has(r))),
      exclude: '',
      torpid: encodeIdset(all.filter((r) => this.torpid.has(r) && !this.offline.has(r))),
    };
  }
}

/** A resource service that already knows the whole set (one broker, or tests). */
export function resourceService(resources: InstanceResources): ResourceService {
  const [first, ...rest] = resources.ranks;
  if (first === undefined) throw new Error('resourceService: no ranks');
  return new ResourceService({ local: first, size: resources.ranks.length, others: rest });
}
