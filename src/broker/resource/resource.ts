/**
 * The `resource` service: what `flux resource list`, `flux resource status` and `flux queue`
 * ask (test/vectors/cli-resource-list.json; requests come with no payload):
 *
 *   resource.sched-status → {"all":R, "down":R, "allocated":R}   (Rv1 each; the scheduler's
 *                            view, fetched with sched.status, as flux-core's resource module
 *                            asks sched.resource-status)
 *   resource.status       → {"R":R, "drain":{}, "online":"0", "offline":"", "exclude":"", "torpid":""}
 *
 * Every rank of the set is online; nothing is drained, excluded or torpid (yet). Any user may
 * ask (flux-core resource/status.c: FLUX_ROLE_USER).
 */
import { Errno, FluxError } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import type { BrokerContext, Method, Service } from '../service.js';
import { encodeIdset } from '../../job/idset.js';
import { toRv1, type InstanceResources } from '../../job/rv1.js';

export class ResourceService implements Service {
  readonly name = 'resource';
  readonly methods: Record<string, Method>;
  private ctx: BrokerContext | undefined;

  constructor(private readonly resources: InstanceResources) {
    this.methods = {
      'sched-status': {
        roles: Role.USER,
        handler: (req) => {
          if (!this.ctx) return req.error(Errno.ENOSYS, 'resource service is not started');
          this.ctx.rpc('sched.status').then(
            (s) => req.respond(s),
            (e: FluxError) => req.error(e.errno ?? Errno.EIO, e.message),
          );
        },
      },
      status: { roles: Role.USER, handler: (req) => req.respond(this.statusPayload()) },
    };
  }

  start(ctx: BrokerContext): void {
    this.ctx = ctx;
  }

  private hostname = (rank: number): string => this.resources.ranks.find((r) => r.rank === rank)?.hostname ?? '';

  /** The instance's whole resource set as Rv1. */
  R(): object {
    return toRv1(this.resources.ranks, this.hostname);
  }

  statusPayload(): object {
    return {
      R: this.R(),
      drain: {},
      online: encodeIdset(this.resources.ranks.map((r) => r.rank)),
      offline: '',
      exclude: '',
      torpid: '',
    };
  }
}

export function resourceService(resources: InstanceResources): Service {
  return new ResourceService(resources);
}
