/**
 * `tsflux overlay status` — Flux's `flux overlay status`: the tree of brokers, each line
 * `RANK HOST: STATUS` (full, partial, degraded, lost, offline), drawn from rank 0 down with
 * `overlay.health` asked of each broker that is up (docs/protocol.md §F.8). A broker that is
 * not up is shown as its parent sees it, and the ranks below it are not asked.
 *
 *   -v, --verbose   add how long each has been in that status, and `torpid`
 *   --rank=N        start from rank N instead of 0
 */
import { Command } from 'commander';
import { fsd } from '../job/fsd.js';
import { decodeHostlist } from '../job/hostlist.js';
import type { Flux } from '../client/handle.js';
import { CliError, fluxAction, openFlux } from './lib/util.js';

const PREFIX = 'tsflux-overlay';

interface Health {
  rank: number;
  status: string;
  duration: number;
  children: { rank: number; status: string; duration: number; torpid?: boolean }[];
}

const ONLINE = new Set(['full', 'partial', 'degraded']);

async function draw(h: Flux, hosts: string[], verbose: boolean, root: number): Promise<string> {
  const lines: string[] = [];
  const label = (rank: number, status: string, duration: number, torpid?: boolean): string =>
    `${rank} ${hosts[rank] ?? '?'}: ${status}${verbose ? ` for ${fsd(duration)}` : ''}${torpid ? ' (torpid)' : ''}`;
  const walk = async (health: Health, prefix: string): Promise<void> => {
    for (const [i, c] of health.children.entries()) {
      const last = i === health.children.length - 1;
      const branch = `${prefix}${last ? '└─ ' : '├─ '}`;
      const below = `${prefix}${last ? '   ' : '│  '}`;
      let sub: Health | undefined;
      if (ONLINE.has(c.status)) {
        try {
          sub = await h.rpc<Health>('overlay.health', {}, { nodeid: c.rank });
        } catch {
          sub = undefined; // gone since its parent answered: show the parent's view
        }
      }
      lines.push(branch + label(c.rank, sub?.status ?? c.status, sub?.duration ?? c.duration, c.torpid));
      if (sub) await walk(sub, below);
    }
  };
  let top: Health;
  try {
    top = await h.rpc<Health>('overlay.health', {}, { nodeid: root });
  } catch (e) {
    throw new CliError(`${PREFIX}: rank ${root}: ${(e as Error).message}`, 1, { cause: e });
  }
  lines.push(label(top.rank, top.status, top.duration));
  await walk(top, '');
  return lines.join('\n') + '\n';
}

function statusCommand(): Command {
  return new Command('status')
    .description('show the tree of brokers and the status of each')
    .option('-v, --verbose', 'also show how long each has been in its status')
    .option('--rank <N>', 'start from this rank', '0')
    .action(
      fluxAction(PREFIX, async (opts: { verbose?: boolean; rank: string }) => {
        if (!/^\d+$/.test(opts.rank)) throw new CliError(`${PREFIX}: --rank=${opts.rank}: not a rank`);
        const h = await openFlux();
        try {
          const hosts = decodeHostlist(await h.attrGet('hostlist'));
          process.stdout.write(await draw(h, hosts, opts.verbose === true, Number(opts.rank)));
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}

export function overlayCommand(): Command {
  return new Command('overlay').description('show the tree overlay of the instance').addCommand(statusCommand());
}
