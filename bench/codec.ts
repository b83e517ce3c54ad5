/**
 * Protocol layer benchmark (docs/protocol.md §A): message encode/decode and lossless JSON.
 * Prints a table; never asserts. `node dist/bench/codec.js`, or import { run }.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { vectorsDir } from '../test/helpers/paths.js';
import {
  encodeMessage,
  parseJson,
  payloadJson,
  request,
  response,
  StreamDecoder,
  stringifyJson,
} from '../src/protocol/index.js';

interface Row {
  name: string;
  opsPerSec: number;
  bytes: number; // per op, for MB/s (0 = n/a)
}

/** ops/s of `fn` over about `ms` milliseconds (growing batches). */
function timeFor(fn: () => void, ms: number): number {
  let ops = 0;
  let batch = 16;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(ms * 1e6));
  for (;;) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    const elapsed = process.hrtime.bigint() - start;
    if (elapsed >= limit) return (ops * 1e9) / Number(elapsed);
    if (batch < 65536) batch *= 2;
  }
}

/** Warm up, then best of 5 trials (the machine may be shared; the best trial is least disturbed). */
function measure(fn: () => void, ms = 400): number {
  timeFor(fn, 50);
  let best = 0;
  for (let t = 0; t < 5; t++) best = Math.max(best, timeFor(fn, ms / 5));
  return best;
}

/** The real jobspec from `flux run --dry-run`, with a realistic interactive environment added. */
function realisticJobspec(): any {
  const spec = JSON.parse(fs.readFileSync(path.join(vectorsDir, 'dry-run-sleep0.json'), 'utf8'));
  const env = spec.attributes.system.environment as Record<string, string>;
  const extra: Record<string, string> = {
    SHELL: '/bin/bash',
    USER: 'alice',
    LOGNAME: 'alice',
    LANG: 'en_US.UTF-8',
    TERM: 'xterm-256color',
    EDITOR: 'vim',
    HOSTNAME: 'login01.cluster.example.org',
    SSH_CONNECTION: '10.1.2.3 51234 10.1.0.1 22',
    MANPATH: '/usr/share/man:/usr/local/share/man:/opt/flux/share/man',
    LD_LIBRARY_PATH: '/opt/gcc/13.2.0/lib64:/opt/openmpi/4.1.6/lib:/opt/cuda/12.4/lib64:/usr/local/lib',
    MODULEPATH: '/opt/modulefiles/Core:/opt/modulefiles/Compiler/gcc/13:/opt/modulefiles/MPI/openmpi/4.1',
    XDG_RUNTIME_DIR: '/run/user/1001',
    XDG_SESSION_ID: '4312',
    HISTSIZE: '10000',
    OMP_NUM_THREADS: '1',
  };
  for (let i = 0; JSON.stringify(spec).length < 2200; i++) {
    const k = Object.keys(extra)[i % Object.keys(extra).length]!;
    env[i < Object.keys(extra).length ? k : `${k}_${i}`] = extra[k]!;
  }
  return spec;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

export async function run(): Promise<Record<string, number>> {
  const rows: Row[] = [];
  const add = (name: string, fn: () => void, bytes = 0) => rows.push({ name, opsPerSec: measure(fn), bytes });

  // -------- realistic job-ingest.submit request (§A.6 shape, J signed with mechanism none)
  const jobspec = realisticJobspec();
  const jobspecText = JSON.stringify(jobspec);
  const J = `${b64('version\0i1\0userid\0i1001\0mechanism\0snone\0')}.${b64(jobspecText)}.none`;
  const submitBody = { J, urgency: 16, flags: 4 };
  const submit = request('job-ingest.submit', submitBody, { matchtag: 1 });
  const submitWire = encodeMessage(submit);
  const submitBatch = Buffer.concat(Array.from({ length: 64 }, () => submitWire));

  // -------- job-manager.wait response with a 64-bit id
  const bigId = 0xfedcba9876543210n;
  const waitReq = request('job-manager.wait', { id: -1 }, { matchtag: 4 });
  const waitBody = { id: bigId, success: true, errstr: '' };
  const waitResp = response(waitReq, waitBody, { userid: 1001, rolemask: 5 });
  const waitWire = encodeMessage(waitResp);
  const waitBatch = Buffer.concat(Array.from({ length: 64 }, () => waitWire));

  let sink: unknown;
  const dec = new StreamDecoder();
  add(`submit encode (${submitWire.length} B)`, () => (sink = encodeMessage(submit)), submitWire.length);
  add(`submit decode, 64/chunk (${submitWire.length} B)`, () => (sink = dec.push(submitBatch)), submitWire.length * 64);
  rows[rows.length - 1]!.opsPerSec *= 64;
  rows[rows.length - 1]!.bytes = submitWire.length;
  add(
    'submit build+encode (object payload)',
    () => (sink = encodeMessage(request('job-ingest.submit', submitBody, { matchtag: 1 }))),
    submitWire.length,
  );
  add(
    'submit decode+payloadJson',
    () => (sink = payloadJson(new StreamDecoder().push(submitWire)[0]!)),
    submitWire.length,
  );
  add(`wait resp encode (${waitWire.length} B)`, () => (sink = encodeMessage(waitResp)), waitWire.length);
  add(`wait resp decode, 64/chunk`, () => (sink = dec.push(waitBatch)), waitWire.length * 64);
  rows[rows.length - 1]!.opsPerSec *= 64;
  rows[rows.length - 1]!.bytes = waitWire.length;
  add(
    'wait resp build+encode (bigint id)',
    () => (sink = encodeMessage(response(waitReq, waitBody, { userid: 1001, rolemask: 5 }))),
    waitWire.length,
  );
  add(
    'wait resp decode+payloadJson',
    () => (sink = payloadJson(new StreamDecoder().push(waitWire)[0]!)),
    waitWire.length,
  );

  // -------- JSON
  const submitText = stringifyJson(submitBody);
  const waitText = stringifyJson(waitBody);
  const idsObj = {
    jobs: Array.from({ length: 20 }, (_, i) => ({
      id: bigId + BigInt(i),
      state: 8,
      t_submit: 1795624709.4856329 + i,
      name: 'sleep',
    })),
  };
  const idsText = stringifyJson(idsObj);
  const idsAsNumbers = JSON.parse(idsText);
  add(`JSON.parse jobspec (${jobspecText.length} B)`, () => (sink = JSON.parse(jobspecText)), jobspecText.length);
  add(`parseJson jobspec`, () => (sink = parseJson(jobspecText)), jobspecText.length);
  add(`JSON.parse submit payload (${submitText.length} B)`, () => (sink = JSON.parse(submitText)), submitText.length);
  add(`parseJson submit payload`, () => (sink = parseJson(submitText)), submitText.length);
  add(
    `JSON.parse wait payload (${waitText.length} B, rounds id)`,
    () => (sink = JSON.parse(waitText)),
    waitText.length,
  );
  add(`parseJson wait payload (bigint id)`, () => (sink = parseJson(waitText)), waitText.length);
  add(`JSON.parse 20 big ids (${idsText.length} B, rounds)`, () => (sink = JSON.parse(idsText)), idsText.length);
  add(`parseJson 20 big ids`, () => (sink = parseJson(idsText)), idsText.length);
  add('JSON.stringify jobspec', () => (sink = JSON.stringify(jobspec)), jobspecText.length);
  add('stringifyJson jobspec', () => (sink = stringifyJson(jobspec)), jobspecText.length);
  add(
    'JSON.stringify wait payload (id as number)',
    () => (sink = JSON.stringify({ id: 1234567890123, success: true, errstr: '' })),
    waitText.length,
  );
  add('stringifyJson wait payload (bigint id)', () => (sink = stringifyJson(waitBody)), waitText.length);
  add('JSON.stringify 20 ids (numbers)', () => (sink = JSON.stringify(idsAsNumbers)), idsText.length);
  add('stringifyJson 20 big ids (bigint)', () => (sink = stringifyJson(idsObj)), idsText.length);
  void sink;

  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'case'.padEnd(w)}  ${'ops/s'.padStart(12)}  ${'MB/s'.padStart(8)}  ${'ns/op'.padStart(8)}`);
  for (const r of rows) {
    const mbs = r.bytes ? ((r.opsPerSec * r.bytes) / 1e6).toFixed(1) : '-';
    console.log(
      `${r.name.padEnd(w)}  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)}  ${mbs.padStart(8)}  ${(1e9 / r.opsPerSec).toFixed(0).padStart(8)}`,
    );
  }
  return Object.fromEntries(rows.map((r) => [r.name, Math.round(r.opsPerSec)]));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
