/**
 * `tsflux resource list|status` — Flux's `flux resource` (src/cmd/flux-resource.py).
 *
 * `list` asks resource.sched-status (nodeid 0) for the scheduler's view and prints one line
 * per state (free = all − allocated − down):
 *
 *          STATE NNODES NCORES NGPUS NODELIST
 *           free      1      2     0 vm
 *      allocated      0      0     0
 *           down      0      0     0
 *
 * `status` asks resource.status for the resource module's view (online/offline, excluded,
 * drained ranks) and prints the non-empty states with an UP mark. Both take -o FORMAT
 * (fields: state, nnodes, ncores, ngpus, nodelist, ranks; status also up), -s STATES and
 * -n/--no-header.
 */
import { Command } from 'commander';
import { encodeIdset, parseIdset } from '../job/idset.js';
import { isUtf8Locale } from '../job/jobid.js';
import { OutputFormat, type PyValue } from './lib/pyformat.js';
import { CliError, fluxAction, openFlux } from './lib/util.js';
import { decodeHostlist, encodeHostlist } from '../job/hostlist.js';

const PREFIX = 'tsflux-resource';

/** One rank's resources. */
interface RankRes {
  cores: Set<number>;
  gpus: Set<number>;
}

/** A resource set decoded from Rv1 (RFC 20): rank → cores/gpus, and rank → host name. */
export class ResourceSet {
  constructor(
    readonly ranks: Map<number, RankRes>,
    readonly hosts: Map<number, string>,
  ) {}

  static fromRv1(R: any): ResourceSet {
    const ranks = new Map<number, RankRes>();
    const hosts = new Map<number, string>();
    const lite: any[] = R?.execution?.R_lite ?? [];
    for (const e of lite) {
      for (const rank of parseIdset(String(e.rank ?? ''))) {
        const r = ranks.get(rank) ?? { cores: new Set(), gpus: new Set() };
        for (const c of parseIdset(String(e.children?.core ?? ''))) r.cores.add(c);
        for (const g of parseIdset(String(e.children?.gpu ?? ''))) r.gpus.add(g);
        ranks.set(rank, r);
      }
    }
    const names = (R?.execution?.nodelist ?? []).flatMap((s: string) => decodeHostlist(String(s)));
    [...ranks.keys()]
      .sort((a, b) => a - b)
      .forEach((rank, i) => {
        if (names[i] !== undefined) hosts.set(rank, names[i]);
      });
    return new ResourceSet(ranks, hosts);
  }

  /** This set minus `other` (per rank, per core and gpu); ranks left empty are dropped. */
  minus(other: ResourceSet): ResourceSet {
    const ranks = new Map<number, RankRes>();
    for (const [rank, r] of this.ranks) {
      const o = other.ranks.get(rank);
      const cores = new Set([...r.cores].filter((c) => !o?.cores.has(c)));
      const gpus = new Set([...r.gpus].filter((g) => !o?.gpus.has(g)));
      if (cores.size || gpus.size) ranks.set(rank, { cores, gpus });
    }
    return new ResourceSet(ranks, this.hosts);
  }

  /** Only the given ranks. */
  only(rankset: Iterable<number>): ResourceSet {
    const keep = new Set(rankset);
    return new ResourceSet(new Map([...this.ranks].filter(([k]) => keep.has(k))), this.hosts);
  }

  get nnodes(): number {
    return this.ranks.size;
  }
  get ncores(): number {
    let n = 0;
    for (const r of this.ranks.values()) n += r.cores.size;
    return n;
  }
  get ngpus(): number {
    let n = 0;
    for (const r of this.ranks.values()) n += r.gpus.size;
    return n;
  }
  get rankList(): number[] {
    return [...this.ranks.keys()].sort((a, b) => a - b);
  }
  nodelist(hosts: Map<number, string> = this.hosts): string {
    return encodeHostlist(this.rankList.map((r) => hosts.get(r) ?? String(r)));
  }
}

interface Row {
  state: string;
  up?: string;
  set: ResourceSet;
  hosts: Map<number, string>;
}

const HEADINGS: Record<string, string> = {
  state: 'STATE',
  up: 'UP',
  nnodes: 'NNODES',
  ncores: 'NCORES',
  ngpus: 'NGPUS',
  nodelist: 'NODELIST',
  ranks: 'RANKS',
};

function rowField(r: Row, f: string): PyValue {
  switch (f) {
    case 'state':
      return r.state;
    case 'up':
      return r.up ?? '';
    case 'nnodes':
      return r.set.nnodes;
    case 'ncores':
      return r.set.ncores;
    case 'ngpus':
      return r.set.ngpus;
    case 'nodelist':
      return r.set.nodelist(r.hosts);
    case 'ranks':
      return encodeIdset(r.set.rankList);
    default:
      return '';
  }
}

function printRows(rows: Row[], fmtText: string, noHeader: boolean): void {
  let fmt: OutputFormat<Row>;
  try {
    fmt = new OutputFormat<Row>(fmtText, HEADINGS, rowField);
  } catch (e) {
    throw new CliError(`${PREFIX}: ERROR: Error in user format: ${(e as Error).message}`);
  }
  let text = noHeader ? '' : fmt.header() + '\n';
  for (const r of rows) text += fmt.format(r) + '\n';
  process.stdout.write(text);
}

function statesFilter(s: string | undefined, valid: readonly string[], dflt: readonly string[]): string[] {
  if (!s) return [...dflt];
  const list = s.split(',').filter((x) => x);
  for (const x of list)
    if (!valid.includes(x) && x !== 'all')
      throw new CliError(`${PREFIX}: ERROR: Invalid resource state ${x} specified`);
  return list.includes('all') ? [...valid] : list;
}

interface ListOptions {
  format: string;
  states?: string;
  noHeader?: boolean;
  header?: boolean;
}

function listCommand(): Command {
  return new Command('list')
    .description('list free, allocated and down resources (the scheduler view)')
    .option('-o, --format <FORMAT>', 'output format', '{state:>10} {nnodes:>6} {ncores:>6} {ngpus:>5} {nodelist}')
    .option('-s, --states <STATES>', 'comma list of states to show: free, allocated, down, all', 'free,allocated,down')
    .option('-n, --no-header', 'suppress the header line')
    .action(
      fluxAction(PREFIX, async (opts: ListOptions) => {
        const states = statesFilter(opts.states, ['free', 'allocated', 'down'], ['free', 'allocated', 'down']);
        const h = await openFlux();
        try {
          const s = await h.rpc<{ all: unknown; allocated: unknown; down: unknown }>(
            'resource.sched-status',
            undefined,
            { nodeid: 0 },
          );
          const all = ResourceSet.fromRv1(s.all);
          const allocated = ResourceSet.fromRv1(s.allocated);
          const down = ResourceSet.fromRv1(s.down);
          const free = all.minus(allocated).minus(down);
          const sets: Record<string, ResourceSet> = { free, allocated, down };
          printRows(
            states.map((st) => ({ state: st, set: sets[st]!, hosts: all.hosts })),
            opts.format,
            opts.header === false,
          );
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}

const STATUS_STATES = ['avail', 'exclude', 'draining', 'drained', 'offline', 'online', 'torpid'] as const;

function statusCommand(): Command {
  return new Command('status')
    .description('show the state of each node: available, excluded, drained, offline')
    .option('-o, --format <FORMAT>', 'output format', '{state:>12}{up:>2} {nnodes:>6} {nodelist}')
    .option('-s, --states <STATES>', `comma list of states to show: ${STATUS_STATES.join(', ')}, all`)
    .option('-n, --no-header', 'suppress the header line')
    .option('--skip-empty', 'skip empty states (the default unless -s is given)')
    .action(
      fluxAction(PREFIX, async (opts: ListOptions & { skipEmpty?: boolean }) => {
        const wanted = statesFilter(opts.states, STATUS_STATES, ['avail', 'exclude', 'draining', 'drained', 'torpid']);
        const h = await openFlux();
        try {
          const s = await h.rpc<Record<string, any>>('resource.status', undefined, { nodeid: 0 });
          const all = ResourceSet.fromRv1(s.R);
          const ids = (v: unknown) => (typeof v === 'string' && v !== '' ? parseIdset(v) : []);
          const online = new Set(ids(s.online));
          const exclude = new Set(ids(s.exclude));
          const torpid = new Set(ids(s.torpid));
          const draining = new Set<number>();
          const drained = new Set<number>();
          for (const [set, info] of Object.entries((s.drain ?? {}) as Record<string, any>)) {
            for (const r of ids(set)) (info?.status === 'draining' ? draining : drained).add(r);
          }
          const ranks = all.rankList;
          const avail = ranks.filter((r) => !exclude.has(r) && !draining.has(r) && !drained.has(r));
          const mark = (up: boolean) => (isUtf8Locale() ? (up ? '\u2714' : '\u2717') : up ? 'y' : 'n');
          const rows: Row[] = [];
          const add = (state: string, rs: number[], split = true) => {
            if (!wanted.includes(state)) return;
            if (!split) {
              rows.push({ state, set: all.only(rs), hosts: all.hosts });
              return;
            }
            const up = rs.filter((r) => online.has(r));
            const down = rs.filter((r) => !online.has(r));
            rows.push({ state, up: mark(true), set: all.only(up), hosts: all.hosts });
            rows.push({ state, up: mark(false), set: all.only(down), hosts: all.hosts });
          };
          add('avail', avail);
          add('exclude', [...exclude], false);
          add('draining', [...draining]);
          add('drained', [...drained]);
          add('torpid', [...torpid], false);
          add(
            'online',
            ranks.filter((r) => online.has(r)),
            false,
          );
          add(
            'offline',
            ranks.filter((r) => !online.has(r)),
            false,
          );
          const skipEmpty = opts.skipEmpty || opts.states === undefined;
          printRows(skipEmpty ? rows.filter((r) => r.set.nnodes > 0) : rows, opts.format, opts.header === false);
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}

export function resourceCommand(): Command {
  return new Command('resource')
    .description('list and show the state of the instance resources')
    .addCommand(listCommand())
    .addCommand(statusCommand());
}
