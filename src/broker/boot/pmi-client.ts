/**
 * The PMI-1 simple wire client (RFC 13; docs/protocol.md §F.1): what a broker started by
 * `tsflux start --test-size`, `srun --mpi=pmi2` or a parent Flux uses to learn its rank and
 * size and to exchange business cards. It talks over the stream the process manager handed
 * down as `PMI_FD`, one request in flight at a time; rank and size come from `PMI_RANK` and
 * `PMI_SIZE`, never from the wire.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { LineReader, PmiProtocolError, formatLine, isWord, parseLine, type PmiFields } from './pmi-wire.js';

/** A response with rc != 0: a missing key is rc=4 from Flux's server, rc=1 from Slurm's. */
export class PmiError extends Error {
  constructor(
    readonly cmd: string,
    readonly rc: number,
    message: string,
  ) {
    super(message);
  }
}

export interface PmiMaxes {
  kvsnameMax: number;
  keylenMax: number;
  vallenMax: number;
}

/** Called with each line sent ('>') and received ('<'), e.g. for TSFLUX_PMI_DEBUG. */
export type PmiTrace = (dir: '>' | '<', line: string) => void;

interface Waiter {
  expect: string;
  resolve: (f: PmiFields) => void;
  reject: (e: Error) => void;
}

export class PmiSimpleClient {
  private readonly reader = new LineReader();
  private waiter: Waiter | undefined;
  /** The previous request's completion: requests go out one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private failed: Error | undefined;
  maxes: PmiMaxes = { kvsnameMax: 64, keylenMax: 64, vallenMax: 1024 };

  constructor(
    private readonly sock: Duplex,
    private readonly trace?: PmiTrace,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e: Error) => this.fail(new Error(`PMI: ${e.message}`)));
    sock.on('close', () => this.fail(new Error('PMI: the process manager closed the connection')));
  }

  /** A client on an inherited file descriptor (PMI_FD). */
  static fromFd(fd: number, trace?: PmiTrace): PmiSimpleClient {
    return new PmiSimpleClient(new net.Socket({ fd, readable: true, writable: true }), trace);
  }

  private onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.reader.push(chunk);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    for (const line of lines) {
      this.trace?.('<', line);
      const w = this.waiter;
      if (!w) {
        this.fail(new PmiProtocolError(`PMI: unexpected line from the server: '${line}'`));
        return;
      }
      this.waiter = undefined;
      let f: PmiFields;
      try {
        f = parseLine(line);
      } catch (e) {
        w.reject(e as Error);
        continue;
      }
      if (f.cmd !== w.expect) {
        w.reject(new PmiProtocolError(`PMI: expected cmd=${w.expect}, got '${line}'`));
        continue;
      }
      const rc = f.rc === undefined ? 0 : Number(f.rc);
      if (!Number.isInteger(rc)) w.reject(new PmiProtocolError(`PMI: bad rc in '${line}'`));
      else if (rc !== 0)
        w.reject(new PmiError(w.expect, rc, `PMI: ${w.expect} failed: rc=${rc}${f.msg ? ` (${f.msg})` : ''}`));
      else w.resolve(f);
    }
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }

  /** Send one request and resolve with the response's fields (rc 0), in turn with the others. */
  private request(tokens: ReadonlyArray<readonly [string, string | number]>, expect: string): Promise<PmiFields> {
    const line = formatLine(tokens);
    const run = (): Promise<PmiFields> =>
      new Promise<PmiFields>((resolve, reject) => {
        if (this.failed) return reject(this.failed);
        this.waiter = { expect, resolve, reject };
        this.trace?.('>', line.slice(0, -1));
        this.sock.write(line);
      });
    const p = this.chain.then(run, run);
    // the next request waits for this one to settle; its error is the caller's, through p
    // eslint-disable-next-line no-restricted-syntax -- reported through p
    this.chain = p.catch(() => undefined);
    return p;
  }

  async init(): Promise<void> {
    const f = await this.request(
      [
        ['cmd', 'init'],
        ['pmi_version', 1],
        ['pmi_subversion', 1],
      ],
      'response_to_init',
    );
    if (f.pmi_version !== undefined && f.pmi_version !== '1') {
      throw new PmiProtocolError(`PMI: the server speaks version ${f.pmi_version}, not 1`);
    }
  }

  async getMaxes(): Promise<PmiMaxes> {
    const f = await this.request([['cmd', 'get_maxes']], 'maxes');
    const num = (k: string): number => {
      const v = Number(f[k]);
      if (!Number.isInteger(v) || v <= 0) throw new PmiProtocolError(`PMI: maxes: bad ${k}=${f[k]}`);
      return v;
    };
    this.maxes = { kvsnameMax: num('kvsname_max'), keylenMax: num('keylen_max'), vallenMax: num('vallen_max') };
    return this.maxes;
  }

  async getKvsname(): Promise<string> {
    const f = await this.request([['cmd', 'get_my_kvsname']], 'my_kvsname');
    if (f.kvsname === undefined || !isWord(f.kvsname)) throw new PmiProtocolError('PMI: my_kvsname without a kvsname');
    return f.kvsname;
  }

  async put(kvsname: string, key: string, value: string): Promise<void> {
    if (!isWord(key) || key.length >= this.maxes.keylenMax) {
      throw new PmiProtocolError(`PMI: put: key '${key}' is not a word shorter than ${this.maxes.keylenMax}`);
    }
    if (Buffer.byteLength(value) >= this.maxes.vallenMax || value.includes('\n')) {
      throw new PmiProtocolError(
        `PMI: put ${key}: the value must be one line shorter than ${this.maxes.vallenMax} bytes (it is ${Buffer.byteLength(value)})`,
      );
    }
    await this.request(
      [
        ['cmd', 'put'],
        ['kvsname', kvsname],
        ['key', key],
        ['value', value],
      ],
      'put_result',
    );
  }

  /** Resolves once every process of the job has entered the barrier; puts before it are then visible. */
  async barrier(): Promise<void> {
    await this.request([['cmd', 'barrier_in']], 'barrier_out');
  }

  /** The value of `key`; a missing key rejects with a PmiError (its rc is the server's). */
  async get(kvsname: string, key: string): Promise<string> {
    const f = await this.request(
      [
        ['cmd', 'get'],
        ['kvsname', kvsname],
        ['key', key],
      ],
      'get_result',
    );
    if (f.value === undefined) throw new PmiProtocolError(`PMI: get ${key}: response without a value`);
    return f.value;
  }

  /** End the session and close the stream. */
  async finalize(): Promise<void> {
    try {
      await this.request([['cmd', 'finalize']], 'finalize_ack');
    } finally {
      this.close();
    }
  }

  /** Ask the process manager to end the whole job (no answer comes). */
  abort(exitcode: number, message: string): void {
    if (this.failed) return;
    const line = formatLine([
      ['cmd', 'abort'],
      ['exitcode', exitcode],
      ['error_msg', message.replace(/\n/g, ' ')],
    ]);
    this.trace?.('>', line.slice(0, -1));
    this.sock.write(line);
  }

  close(): void {
    this.failed ??= new Error('PMI: the client is closed');
    this.sock.destroy();
  }
}
