import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { readVector } from '../helpers/paths.js';
import { jobIdCommand, type JobIdIo } from '../../src/cli/job-id.js';

interface ParseRow {
  input: string;
  rc: number;
  stdout: string;
  stderr: string;
}
const vec = readVector<{ table: Record<string, string>[]; parse_only: ParseRow[] }>('jobid.json');

let savedEnv: Record<string, string | undefined>;
beforeEach(() => {
  savedEnv = {
    LANG: process.env.LANG,
    LC_ALL: process.env.LC_ALL,
    LC_CTYPE: process.env.LC_CTYPE,
    F: process.env.FLUX_F58_FORCE_ASCII,
  };
  delete process.env.LC_ALL;
  delete process.env.LC_CTYPE;
  delete process.env.FLUX_F58_FORCE_ASCII;
  process.env.LANG = 'C.UTF-8';
});
afterEach(() => {
  for (const [k, v] of Object.entries({
    LANG: savedEnv.LANG,
    LC_ALL: savedEnv.LC_ALL,
    LC_CTYPE: savedEnv.LC_CTYPE,
    FLUX_F58_FORCE_ASCII: savedEnv.F,
  })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** Run `job id ARGS` through a `job` group command, capturing output and exit code. */
async function run(args: string[], stdin?: JobIdIo['stdin']): Promise<{ rc: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let rc = 0;
  const io: JobIdIo = {
    writeOut: (s) => (stdout += s),
    writeErr: (s) => (stderr += s),
    setExitCode: (c) => (rc = c),
    stdin: stdin ?? '',
  };
  const job = new Command('job').exitOverride().configureOutput({ writeOut: io.writeOut!, writeErr: io.writeErr! });
  job.addCommand(jobIdCommand(io).exitOverride());
  try {
    await job.parseAsync(['id', ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    rc = e.exitCode;
  }
  return { rc, stdout, stderr };
}

describe('tsflux job id', () => {
  test('default --to=dec, one line per id, in order', async () => {
    const r = await run(['ƒ2', 'f2', '0x39', 'job.0000.0000.0000.0039', '🙊']);
    assert.deepEqual(r, { rc: 0, stdout: '1\n1\n57\n57\n57\n', stderr: '' });
  });

  test('every --to of every vector row', async () => {
    for (const row of vec.table) {
      for (const to of ['dec', 'hex', 'dothex', 'kvs', 'words', 'f58', 'f58plain', 'emoji']) {
        const r = await run([`--to=${to}`, row.input!]);
        assert.deepEqual(r, { rc: 0, stdout: row[to] + '\n', stderr: '' }, `${row.input} --to=${to}`);
        const back = await run([row[to]!]);
        assert.equal(back.stdout, row.dec + '\n');
      }
    }
  });

  test('-t short option, case-insensitive encodings, C locale f58', async () => {
    assert.equal((await run(['-t', 'HEX', '57'])).stdout, '0x39\n');
    process.env.LANG = 'C';
    assert.equal((await run(['--to', 'f58', '57'])).stdout, 'fz\n');
    process.env.LANG = 'C.UTF-8';
    process.env.FLUX_F58_FORCE_ASCII = '1';
    assert.equal((await run(['--to', 'f58', '57'])).stdout, 'fz\n');
  });

  test('parse_only vectors through the CLI', async () => {
    for (const row of vec.parse_only) {
      if (row.input === '-1') {
        // flux's optparse calls '-1' an unrecognized option; commander 14 passes negative
        // numbers through as operands, and the id parser rejects it (fluid_parse("-1") is EINVAL).
        // Either way: exit 1 and nothing on stdout.
        assert.deepEqual(await run([row.input]), { rc: 1, stdout: '', stderr: 'tsflux-job: -1: malformed input\n' });
        assert.deepEqual(await run(['--', '-1']), { rc: 1, stdout: '', stderr: 'tsflux-job: -1: malformed input\n' });
        continue;
      }
      const r = await run([row.input]);
      assert.equal(r.rc, row.rc, row.input);
      assert.equal(r.stdout, row.rc === 0 ? row.stdout + '\n' : '', row.input);
      assert.equal(r.stderr, row.stderr ? 'ts' + row.stderr + '\n' : '', row.input);
    }
  });

  test('malformed id: earlier lines printed, then error, exit 1, stop', async () => {
    const r = await run(['1', '1e3', '2']);
    assert.deepEqual(r, { rc: 1, stdout: '1\n', stderr: 'tsflux-job: 1e3: malformed input\n' });
  });

  test('reads ids from stdin (string and stream), trimming each line', async () => {
    assert.deepEqual(await run(['--to=f58'], '1\n  57  \r\nfz\n'), { rc: 0, stdout: 'ƒ2\nƒz\nƒz\n', stderr: '' });
    assert.deepEqual(await run(['--to=hex'], Readable.from([Buffer.from('5'), Buffer.from('7\n0x1'), '0\n'])), {
      rc: 0,
      stdout: '0x39\n0x10\n',
      stderr: '',
    });
    // a blank line is malformed input, as with fgets + flux_job_id_parse
    assert.deepEqual(await run([], '57\n\n58\n'), { rc: 1, stdout: '57\n', stderr: 'tsflux-job: : malformed input\n' });
    // last line without a newline still counts
    assert.deepEqual(await run([], '57'), { rc: 0, stdout: '57\n', stderr: '' });
  });

  test('no input at all exits 1 silently', async () => {
    assert.deepEqual(await run([], ''), { rc: 1, stdout: '', stderr: '' });
  });

  test('--from restricts accepted encodings', async () => {
    assert.deepEqual(await run(['--from=hex', '0x39']), { rc: 0, stdout: '57\n', stderr: '' });
    assert.deepEqual(await run(['--from=hex', '57']), {
      rc: 1,
      stdout: '',
      stderr: 'tsflux-job: 57: malformed input\n',
    });
    assert.deepEqual(await run(['--from=f58', 'fz', 'ƒz']), { rc: 0, stdout: '57\n57\n', stderr: '' });
    assert.deepEqual(await run(['--from', 'any', 'fz']), { rc: 0, stdout: '57\n', stderr: '' });
  });

  test('unknown --to / --from is rejected by option parsing with a clear error', async () => {
    const r = await run(['--to=octal', '57']);
    assert.equal(r.rc, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Unknown to=octal \(expected one of dec, hex, dothex, kvs, f58, f58plain, words, emoji\)/);
    const f = await run(['--from=bogus', '57']);
    assert.equal(f.rc, 1);
    assert.match(f.stderr, /Unknown from=bogus/);
  });

  test('sets process.exitCode by default', async () => {
    const saved = process.exitCode;
    let err = '';
    const cmd = jobIdCommand({ writeOut: () => {}, writeErr: (s) => (err += s) });
    await cmd.parseAsync(['garbage'], { from: 'user' });
    assert.equal(process.exitCode, 1);
    assert.equal(err, 'tsflux-job: garbage: malformed input\n');
    process.exitCode = saved;
  });

  test('help lists the encodings', () => {
    const help = jobIdCommand().helpInformation();
    assert.match(help, /--to <enc>/);
    assert.match(help, /dec\|hex\|dothex\|kvs\|f58\|f58plain\|words\|emoji/);
  });
});
