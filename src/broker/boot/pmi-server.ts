/**
 * An in-process PMI-1 simple wire server (RFC 13; docs/protocol.md §F.1), as flux-core's
 * simple_server.c: the process manager side that `tsflux start --test-size=N` runs for its N
 * brokers, one channel per broker (its PMI_FD). kvsname `-`, appnum 0, universe size N; a
 * barrier completes when all N have entered it; a missing key answers rc=4.
 */
import type { Duplex } from 'node:stream';
import { LineReader, formatLine, isWord, parseLine } from './pmi-wire.js';

/** PMI_ERR_INVALID_KEY: the rc a get of a missing key answers (Flux's server). */
export const PMI_ERR_INVALID_KEY = 4;

export interface PmiServerOptions {
  size: number;
  kvsname?: string;
  appnum?: number;
  /** Keys put before any client runs, e.g. PMI_process_mapping. */
  preput?: Record<string, string>;
  /** Called with each line received ('<') and sent ('>') on a rank's channel. */
  trace?: (rank: number, dir: '<' | '>', line: string) => void;
  /** A client asked to end the job (cmd=abort). */
  onAbort?: (rank: number, exitcode: number, message: string) => void;
  /** A client sent something this server cannot parse; its channel is closed. */
  onError?: (rank: number, message: string) => void;
}

const MAXES = { kvsname_max: 64, keylen_max: 64, vallen_max: 1024 };

interface Channel {
  rank: number;
  sock: Duplex;
  reader: LineReader;
  finalized: boolean;
}

export class PmiSimpleServer {
  private readonly kvs = new Map<string, string>();
  private readonly kvsname: string;
  /** Channels that entered the current barrier. */
  private barrier: Channel[] = [];

  constructor(private readonly opts: PmiServerOptions) {
    this.kvsname = opts.kvsname ?? '-';
    for (const [k, v] of Object.entries(opts.preput ?? {})) this.kvs.set(k, v);
  }

  /** Serve one rank's channel. */
  addClient(rank: number, sock: Duplex): void {
    const ch: Channel = { rank, sock, reader: new LineReader(), finalized: false };
    sock.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = ch.reader.push(chunk);
      } catch (e) {
        this.refuse(ch, (e as Error).message);
        return;
      }
      for (const line of lines) {
        if (sock.destroyed) return;
        this.handle(ch, line);
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      const i = this.barrier.indexOf(ch);
      if (i >= 0) this.barrier.splice(i, 1);
    });
  }

  private send(ch: Channel, tokens: ReadonlyArray<readonly [string, string | number]>): void {
    const line = formatLine(tokens);
    this.opts.trace?.(ch.rank, '>', line.slice(0, -1));
    if (!ch.sock.destroyed) ch.sock.write(line);
  }

  private refuse(ch: Channel, why: string): void {
    this.opts.onError?.(ch.rank, why);
    ch.sock.destroy();
  }

  private handle(ch: Channel, line: string): void {
    this.opts.trace?.(ch.rank, '<', line);
    let f: Record<string, string>;
    try {
      f = parseLine(line);
    } catch (e) {
      return this.refuse(ch, (e as Error).message);
    }
    switch (f.cmd) {
      case 'init':
        if (f.pmi_version !== '1')
          return this.send(ch, [
            ['cmd', 'response_to_init'],
            ['rc', -1],
          ]);
        return this.send(ch, [
          ['cmd', 'response_to_init'],
          ['rc', 0],
          ['pmi_version', 1],
          ['pmi_subversion', 1],
        ]);
      case 'get_maxes':
        return this.send(ch, [['cmd', 'maxes'], ['rc', 0], ...Object.entries(MAXES)]);
      case 'get_my_kvsname':
        return this.send(ch, [
          ['cmd', 'my_kvsname'],
          ['rc', 0],
          ['kvsname', this.kvsname],
        ]);
      case 'get_universe_size':
        return this.send(ch, [
          ['cmd', 'universe_size'],
          ['rc', 0],
          ['size', this.opts.size],
        ]);
      case 'get_appnum':
        return this.send(ch, [
          ['cmd', 'appnum'],
          ['rc', 0],
          ['appnum', this.opts.appnum ?? 0],
        ]);
      case 'put': {
        const key = f.key ?? '';
        const value = f.value ?? '';
        if (!isWord(key) || key.length >= MAXES.keylen_max || Buffer.byteLength(value) >= MAXES.vallen_max) {
          return this.send(ch, [
            ['cmd', 'put_result'],
            ['rc', -1],
          ]);
        }
        this.kvs.set(key, value);
        return this.send(ch, [
          ['cmd', 'put_result'],
          ['rc', 0],
        ]);
      }
      case 'get': {
        const v = this.kvs.get(f.key ?? '');
        if (v === undefined)
          return this.send(ch, [
            ['cmd', 'get_result'],
            ['rc', PMI_ERR_INVALID_KEY],
          ]);
        return this.send(ch, [
          ['cmd', 'get_result'],
          ['rc', 0],
          ['value', v],
        ]);
      }
      case 'barrier_in': {
        if (!this.barrier.includes(ch)) this.barrier.push(ch);
        if (this.barrier.length < this.opts.size) return;
        const all = this.barrier;
        this.barrier = [];
        for (const c of all)
          this.send(c, [
            ['cmd', 'barrier_out'],
            ['rc', 0],
          ]);
        return;
      }
      case 'finalize':
        ch.finalized = true;
        this.send(ch, [
          ['cmd', 'finalize_ack'],
          ['rc', 0],
        ]);
        ch.sock.end();
        return;
      case 'abort':
        this.opts.onAbort?.(ch.rank, Number(f.exitcode ?? 1) || 1, f.error_msg ?? '');
        return;
      case 'publish_name':
        return this.send(ch, [
          ['cmd', 'publish_result'],
          ['rc', -1],
        ]);
      case 'unpublish_name':
        return this.send(ch, [
          ['cmd', 'unpublish_result'],
          ['rc', -1],
        ]);
      case 'lookup_name':
        return this.send(ch, [
          ['cmd', 'lookup_result'],
          ['rc', -1],
        ]);
      default:
        return this.refuse(ch, `PMI: unsupported request '${line}'`);
    }
  }
}
