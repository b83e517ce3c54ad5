/**
 * `tsflux ping [-c N] [-i SECS] [-p N] [-r RANK] [-u] TARGET` — Flux's `flux ping`
 * (src/cmd/flux-ping.c): send `<service>.ping` requests and print one line per response:
 *
 *     tsflux-ping any!broker
 *     0!broker.ping pad=0 seq=0 time=0.377 ms (<route>)
 *
 * TARGET is `SERVICE`, `RANK` (service `broker`), `RANK!SERVICE`, with RANK a number, `any`,
 * `upstream` or a host name. Without --count it pings every --interval seconds (default 1)
 * until interrupted.
 */
import { Command } from 'commander';
import { NODEID_ANY } from '../protocol/types.js';
import { parseFsd } from '../job/fsd.js';
import { CliError, fluxAction, openFlux } from './lib/util.js';
import type { Flux } from '../client/handle.js';

const PREFIX = 'tsflux-ping';
const NODEID_UPSTREAM = 0xfffffffe;

interface PingOptions {
  rank?: string;
  pad: string;
  interval: string;
  count: string;
  batch?: boolean;
  userid?: boolean;
}

async function parseNodeid(h: Flux, s: string): Promise<{ nodeid: number; str: string; suffix?: string } | undefined> {
  if (s === 'any') return { nodeid: NODEID_ANY, str: 'any' };
  if (s === 'upstream') return { nodeid: NODEID_UPSTREAM, str: 'upstream' };
  try {
    const hosts = (await h.attrGet('hostlist')).split(',');
    const rank = hosts.indexOf(s);
    if (rank >= 0) return { nodeid: rank, str: s, suffix: ` (rank ${rank})` };
  } catch {
    /* no hostlist: not a host name */
  }
  if (/^\d+$/.test(s)) return { nodeid: Number(s), str: String(Number(s)) };
  return undefined;
}

function rankBang(rank: number): string {
  if (rank === NODEID_ANY) return '';
  if (rank === NODEID_UPSTREAM) return 'upstream!';
  return `${rank}!`;
}

export function pingCommand(): Command {
  return new Command('ping')
    .description('send ping requests to a service (default broker) and print the round-trip times')
    .argument('<target>', 'SERVICE, RANK, or RANK!SERVICE')
    .option('-r, --rank <RANK>', 'find the target on this broker rank')
    .option('-p, --pad <N>', 'include a string of N bytes in the payload', '0')
    .option('-i, --interval <N>', 'delay between requests (seconds, or an FSD)', '1')
    .option('-c, --count <N>', 'number of requests to send (default: until interrupted)', '0')
    .option('-b, --batch', 'send all requests before processing responses (needs --count)')
    .option('-u, --userid', 'include the userid and rolemask in the output')
    .action(
      fluxAction(PREFIX, async (targetArg: string, opts: PingOptions) => {
        const pad = Number(opts.pad);
        if (!Number.isInteger(pad) || pad < 0) throw new CliError(`${PREFIX}: pad must be >= 0`);
        const count = Number(opts.count);
        if (!Number.isInteger(count) || count < 0) throw new CliError(`${PREFIX}: count must be >= 0`);
        let interval: number;
        try {
          interval = parseFsd(opts.interval);
        } catch {
          throw new CliError(`${PREFIX}: invalid interval '${opts.interval}'`);
        }
        if (opts.batch && count === 0) throw new CliError(`${PREFIX}: --batch should only be used with --count`);
        let target = targetArg;
        if (opts.rank !== undefined) {
          if (target.includes('!')) throw new CliError(`${PREFIX}: --rank and TARGET both try to specify a nodeid`);
          target = `${opts.rank}!${target}`;
        }
        const h = await openFlux();
        try {
          let service: string;
          let node: { nodeid: number; str: string; suffix?: string } | undefined;
          const bang = target.indexOf('!');
          if (bang >= 0) {
            node = await parseNodeid(h, target.slice(0, bang));
            if (!node) throw new CliError(`${PREFIX}: invalid nodeid/host: '${target.slice(0, bang)}'`);
            service = target.slice(bang + 1);
          } else {
            node = await parseNodeid(h, target);
            if (node) service = 'broker';
            else {
              service = target;
              node = { nodeid: NODEID_ANY, str: 'any' };
            }
          }
          const topic = `${service}.ping`;
          process.stdout.write(`${PREFIX} ${node.str}!${service}${node.suffix ?? ''}\n`);
          const padStr = 'p'.repeat(pad);
          const sendOne = async (seq: number) => {
            const t0 = process.hrtime.bigint();
            const ns = process.hrtime.bigint();
            let r: Record<string, any>;
            try {
              r = await h.rpc<Record<string, any>>(
                topic,
                {
                  seq,
                  'time.tv_sec': Number(ns / 1_000_000_000n),
                  'time.tv_nsec': Number(ns % 1_000_000_000n),
                  pad: padStr,
                },
                { nodeid: node!.nodeid },
              );
            } catch (e) {
              throw new CliError(`${PREFIX}: ${rankBang(node!.nodeid)}${topic}: ${(e as Error).message}`, 1, {
                cause: e,
              });
            }
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            if (r.pad !== padStr)
              throw new CliError(`${PREFIX}: ${rankBang(node!.nodeid)}${topic}: padding contents invalid`);
            const cred = opts.userid ? ` userid=${r.userid} rolemask=0x${Number(r.rolemask).toString(16)}` : '';
            process.stdout.write(
              `${rankBang(typeof r.rank === 'number' ? r.rank : node!.nodeid)}${topic} pad=${pad}${cred} seq=${r.seq} time=${ms.toFixed(3)} ms (${r.route})\n`,
            );
          };
          if (opts.batch) {
            const all: Promise<void>[] = [];
            for (let i = 0; i < count; i++) {
              all.push(sendOne(i));
              if (interval > 0 && i < count - 1) await new Promise((r) => setTimeout(r, interval * 1000));
            }
            await Promise.all(all);
            return 0;
          }
          for (let seq = 0; count === 0 || seq < count; seq++) {
            if (seq > 0 && interval > 0) await new Promise((r) => setTimeout(r, interval * 1000));
            await sendOne(seq);
          }
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}
