/**
 * `tsflux job id [--to=ENC] [--from=ENC] [ID...]` — mirrors `flux job id` (src/cmd/job/id.c):
 * each id (or each stdin line when no ids are given) is parsed in any encoding and printed in
 * the `--to` encoding, one per line.  On a malformed id it prints
 * `tsflux-job: <input>: malformed input` to stderr and stops with exit code 1; with no input at
 * all it exits 1 without a message, as flux does.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  JOBID_ENCODINGS,
  JobIdError,
  encodeJobId,
  normalizeEncoding,
  parseJobIdAs,
  type JobIdEncoding,
} from '../job/jobid.js';

/** Prefix for error messages, as `flux-job: ` for flux. */
export const JOB_CMD_PREFIX = 'tsflux-job';

/** I/O hooks (for tests); default to the process streams. */
export interface JobIdIo {
  /** Input used when no ids are given: a string, or a readable stream (default process.stdin). */
  stdin?: string | NodeJS.ReadableStream;
  writeOut?: (s: string) => void;
  writeErr?: (s: string) => void;
  /** Called with the exit code on failure (default: sets process.exitCode). */
  setExitCode?: (code: number) => void;
}

function encodingArg(kind: 'to' | 'from', allowAny: boolean) {
  return (value: string): JobIdEncoding | 'any' => {
    if (allowAny && value.toLowerCase() === 'any') return 'any';
    const e = normalizeEncoding(value);
    if (e === undefined)
      throw new InvalidArgumentError(
        `Unknown ${kind}=${value} (expected one of ${allowAny ? 'any, ' : ''}${JOBID_ENCODINGS.join(', ')})`,
      );
    return e;
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Like flux's trim_string(): drop leading and trailing (C-locale) whitespace. */
function trimC(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+/, '').replace(/[ \t\n\v\f\r]+$/, '');
}

/** Split stdin text into fgets()-style lines (a final newline does not start another line). */
function stdinLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map(trimC);
}

/**
 * Convert ids; returns the exit code (0, or 1 on the first malformed id / no input).
 * Output lines for ids before a failure are still written, as flux does.
 */
export function convertJobIds(
  ids: readonly string[],
  to: JobIdEncoding,
  from: JobIdEncoding | 'any',
  writeOut: (s: string) => void,
  writeErr: (s: string) => void,
): number {
  let out = '';
  for (const src of ids) {
    let line: string;
    try {
      line = encodeJobId(parseJobIdAs(src, from), to);
    } catch (err) {
      if (out) writeOut(out);
      const msg = err instanceof JobIdError ? err.message : `${src}: ${(err as Error).message}`;
      writeErr(`${JOB_CMD_PREFIX}: ${msg}\n`);
      return 1;
    }
    out += line + '\n';
    if (out.length >= 65536) {
      writeOut(out);
      out = '';
    }
  }
  if (out) writeOut(out);
  return ids.length === 0 ? 1 : 0;
}

/** The `id` subcommand, to be registered under the `job` command group. */
export function jobIdCommand(io: JobIdIo = {}): Command {
  const writeOut = io.writeOut ?? ((s: string) => void process.stdout.write(s));
  const writeErr = io.writeErr ?? ((s: string) => void process.stderr.write(s));
  const setExitCode =
    io.setExitCode ??
    ((code: number) => {
      process.exitCode = code;
    });

  const cmd = new Command('id');
  cmd
    .description('Convert job ID(s) to another form (reads IDs from stdin, one per line, if none are given)')
    .addOption(
      new Option('-t, --to <enc>', `Convert jobid to specified form (${JOBID_ENCODINGS.join('|')})`)
        .default('dec')
        .argParser(encodingArg('to', false)),
    )
    .addOption(
      new Option('-f, --from <enc>', `Only accept input ids in this form (any|${JOBID_ENCODINGS.join('|')})`)
        .default('any')
        .argParser(encodingArg('from', true)),
    )
    .argument('[ids...]', 'job IDs in any encoding')
    .action((ids: string[], opts: { to: JobIdEncoding; from: JobIdEncoding | 'any' }) => {
      const finish = (list: readonly string[]): void => {
        const rc = convertJobIds(list, opts.to, opts.from, writeOut, writeErr);
        if (rc !== 0) setExitCode(rc);
      };
      if (ids.length > 0) {
        finish(ids);
        return;
      }
      const input = io.stdin ?? process.stdin;
      if (typeof input === 'string') {
        finish(stdinLines(input));
        return;
      }
      return readAll(input).then((text) => finish(stdinLines(text)));
    });
  if (io.writeOut || io.writeErr) {
    cmd.configureOutput({
      ...(io.writeOut ? { writeOut: io.writeOut } : {}),
      ...(io.writeErr ? { writeErr: io.writeErr } : {}),
    });
  }
  return cmd;
}
