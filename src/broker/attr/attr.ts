/**
 * The `attr` service: broker attributes (`flux getattr`, `attr.get` with `{value, flags}`,
 * flags bit 1 = immutable), plus attr.set / attr.rm / attr.list. Any user may get and list
 * attributes; only the owner may set or remove them (flux-core broker/attr.c). Setting an
 * attribute the broker acts on (Broker.activeAttr) goes through its check; it cannot be removed.
 */
import { Errno, type FluxError } from '../../protocol/errno.js';
import { Role } from '../../protocol/types.js';
import type { Broker } from '../broker.js';
import type { Request, Service } from '../service.js';

function nameOf(req: Request): string | undefined {
  const name = req.payload?.name;
  if (typeof name !== 'string' || name === '') {
    req.error(Errno.EPROTO, 'name must be a non-empty string');
    return undefined;
  }
  return name;
}

export function attrService(broker: Broker): Service {
  return {
    name: 'attr',
    methods: {
      get: { roles: Role.USER, handler: get },
      list: { roles: Role.USER, handler: (req) => req.respond({ names: broker.attrNames() }) },
      set: { roles: Role.OWNER, handler: set },
      rm: { roles: Role.OWNER, handler: rm },
    },
  };

  function get(req: Request): void {
    const name = nameOf(req);
    if (name === undefined) return;
    const a = broker.getattrFull(name);
    if (!a) return req.error(Errno.ENOENT);
    req.respond({ value: a.value, flags: a.flags });
  }

  function set(req: Request): void {
    const name = nameOf(req);
    if (name === undefined) return;
    const value = req.payload?.value;
    if (typeof value !== 'string') return req.error(Errno.EPROTO, 'value must be a string');
    const a = broker.getattrFull(name);
    if (a && a.flags & 1) return req.error(Errno.EPERM, `attribute ${name} is immutable`);
    const setter = broker.attrSetter(name);
    if (setter !== undefined) {
      try {
        broker.setattr(name, setter(value));
      } catch (e) {
        return req.error((e as FluxError).errno ?? Errno.EINVAL, (e as Error).message);
      }
      return req.respond();
    }
    broker.setattr(name, value);
    req.respond();
  }

  function rm(req: Request): void {
    const name = nameOf(req);
    if (name === undefined) return;
    const a = broker.getattrFull(name);
    if (!a) return req.error(Errno.ENOENT);
    if (a.flags & 1) return req.error(Errno.EPERM, `attribute ${name} is immutable`);
    if (broker.attrSetter(name))
      return req.error(Errno.EPERM, `attribute ${name} is in use by the broker: set it instead`);
    broker.deleteattr(name);
    req.respond();
  }
}
