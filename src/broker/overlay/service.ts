/**
 * The `overlay` service of every broker (flux-core's overlay module topics that are not the
 * links' own): `overlay.health` → this broker's subtree status and its children's
 * (Overlay.health; `tsflux overlay status` walks the tree with it). The links' own requests
 * (`overlay.hello`, `goodbye`, `shutdown`, `disconnect`) are taken by the overlay before any
 * service sees them; other methods get ENOSYS.
 */
import { Role } from '../../protocol/types.js';
import type { Service } from '../service.js';
import type { Overlay } from './overlay.js';

export function overlayService(overlay: Overlay): Service {
  return {
    name: 'overlay',
    methods: {
      health: { roles: Role.USER, handler: (req) => req.respond(overlay.health()) },
    },
  };
}
