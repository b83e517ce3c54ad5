/** Test helpers for the job-info / job-list services: a recording Request and store setup. */
import fs from 'node:fs';
import path from 'node:path';
import type { ConnId, Request } from '../../../src/broker/service.js';
import type { JobStore } from '../../../src/broker/store/store.js';
import { encodeEvent } from '../../../src/job/eventlog.js';

export type Answer = { payload: any } | { errnum: number; text: string | undefined };

export interface ReqOpts {
  conn?: ConnId;
  matchtag?: number;
  streaming?: boolean;
  noresponse?: boolean;
  userid?: number;
  rolemask?: number;
  /** It came over a connection: it can be answered with raw bytes (respondRaw). */
  raw?: boolean;
}

/** A Request as a socket client would send it, recording every answer. */
export class TestRequest implements Request {
  readonly answers: Answer[] = [];
  finished = false;
  readonly conn: ConnId;
  readonly matchtag: number;
  readonly streaming: boolean;
  readonly noresponse: boolean;
  readonly userid: number;
  readonly rolemask: number;
  onAnswer?: (a: Answer) => void;
  constructor(
    readonly topic: string,
    readonly payload: any,
    opts: ReqOpts = {},
  ) {
    this.conn = opts.conn ?? 'c1';
    this.matchtag = opts.matchtag ?? 1;
    this.streaming = opts.streaming ?? false;
    this.noresponse = opts.noresponse ?? false;
    this.userid = opts.userid ?? 0;
    this.rolemask = opts.rolemask ?? 5;
    if (opts.raw) {
      this.respondRaw = (payload: Buffer) => {
        if (this.finished || this.noresponse) return;
        const a = { payload: Buffer.from(payload) };
        this.answers.push(a);
        this.onAnswer?.(a);
      };
    }
  }
  respondRaw?: (payload: Buffer) => void;
  respond(payload?: object): void {
    if (this.finished || this.noresponse) return;
    if (!this.streaming) this.finished = true;
    const a = { payload };
    this.answers.push(a);
    this.onAnswer?.(a);
  }
  error(errnum: number, text?: string): void {
    if (this.finished || this.noresponse) return;
    this.finished = true;
    const a = { errnum: errnum || 22, text };
    this.answers.push(a);
    this.onAnswer?.(a);
  }
  /** Event names of the `{event}` answers; `SENTINEL` for an empty success, `E<n>` for an error. */
  summary(): string[] {
    return this.answers.map((a) => {
      if ('errnum' in a) return `E${a.errnum}`;
      if (a.payload === undefined) return 'SENTINEL';
      if (Buffer.isBuffer(a.payload)) return `raw:${a.payload.length}`;
      if (typeof a.payload.event === 'string') return JSON.parse(a.payload.event).name;
      return JSON.stringify(a.payload);
    });
  }
  get lastError(): { errnum: number; text: string | undefined } | undefined {
    const a = this.answers[this.answers.length - 1];
    return a && 'errnum' in a ? a : undefined;
  }
}

export const VECTORS = path.resolve(process.cwd(), 'test/vectors');

export function vector(name: string): any {
  return JSON.parse(fs.readFileSync(path.join(VECTORS, name), 'utf8'));
}

export function eventlogVector(name: string): string {
  return fs.readFileSync(path.join(VECTORS, 'eventlogs', name), 'utf8');
}

export function line(name: string, context?: Record<string, unknown>, timestamp = Date.now() / 1000): string {
  return encodeEvent(context === undefined ? { timestamp, name } : { timestamp, name, context });
}

/** Create a job in the store the way ingest does (jobspec text + submit event). */
export async function createJob(
  store: JobStore,
  id: bigint,
  opts: { userid?: number; jobspec?: object | string; t?: number } = {},
): Promise<void> {
  const userid = opts.userid ?? 0;
  const js = opts.jobspec ?? { version: 1, resources: [], tasks: [], attributes: { system: { duration: 0 } } };
  await store.createJobs([
    {
      id,
      userid,
      jobspec: typeof js === 'string' ? js : JSON.stringify(js),
      eventlog: line('submit', { userid, urgency: 16, flags: 0, version: 1 }, opts.t),
    },
  ]);
}

export const turn = () => new Promise<void>((r) => setImmediate(r));
