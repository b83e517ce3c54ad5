/**
 * `tsflux submit --cc/--bcc` with more jobs than are in flight at once (SUBMIT_WINDOW), as a
 * user runs it against a real instance: one f58 id per line, in the order of the ids of
 * IDSET, each id the job of its copy ({cc} and FLUX_JOB_CC as in that copy's jobspec); refused
 * copies print flux's `cc=I: [Errno N] text` and the others still go in; --quiet prints nothing.
 * Jobs are held (urgency 0) so that none runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as job from '../../src/client/job/index.js';
import { parseJobId } from '../../src/job/jobid.js';
import { SUBMIT_WINDOW } from '../../src/cli/lib/submit-window.js';
import { tsflux } from '../helpers/cli.js';
import { suiteInstance } from '../helpers/instance.js';
import { HANG_TIMEOUT } from '../helpers/wait.js';

const F58 = /^ƒ[1-9A-HJ-NP-Za-km-z]+$/;

describe('submit --cc/--bcc in bulk', { concurrency: false, timeout: HANG_TIMEOUT }, () => {
  const suite = suiteInstance();
  const run = (args: string[]) => tsflux(args, suite.inst.uri);

  /** The printed ids (checked to be f58 lines) and each one's jobspec. */
  async function jobspecsOf(stdout: string): Promise<Array<{ id: bigint; jobspec: any }>> {
    const lines = stdout.split('\n');
    assert.equal(lines.pop(), '', 'output ends with a newline');
    for (const l of lines) assert.match(l, F58);
    const ids = lines.map(parseJobId);
    const texts = await Promise.all(ids.map((id) => job.lookup(suite.h, id, ['jobspec'])));
    return ids.map((id, i) => ({ id, jobspec: JSON.parse(texts[i]!['jobspec']!) }));
  }

  test('--cc over twice the window: every id once, in order, each the job of its copy', async () => {
    const n = 2 * SUBMIT_WINDOW + 52;
    const r = await run(['submit', `--cc=1-${n}`, '--urgency=0', 'echo', 'copy{cc}']);
    assert.equal(r.stderr, '');
    assert.equal(r.rc, 0);
    const jobs = await jobspecsOf(r.stdout);
    assert.equal(jobs.length, n);
    jobs.forEach(({ id, jobspec }, i) => {
      assert.deepEqual(jobspec.tasks[0].command, ['echo', `copy${i + 1}`], `line ${i + 1}`);
      assert.equal(jobspec.attributes.system.environment.FLUX_JOB_CC, String(i + 1), `line ${i + 1}`);
      if (i > 0) assert.ok(id > jobs[i - 1]!.id, `line ${i + 1}: ids in submission order`);
    });
  });

  test('--bcc: the ids of IDSET in order, {cc} substituted, no FLUX_JOB_CC', async () => {
    const r = await run(['submit', '--bcc=3,5,7-9', '--urgency=0', 'echo', '{cc}']);
    assert.equal(r.rc, 0, r.stderr);
    const jobs = await jobspecsOf(r.stdout);
    assert.deepEqual(
      jobs.map((j) => j.jobspec.tasks[0].command[1]),
      ['3', '5', '7', '8', '9'],
    );
    for (const j of jobs) assert.equal(j.jobspec.attributes.system.environment.FLUX_JOB_CC, undefined);
  });

  test('refused copies: each one is reported with its cc= label, in order, and rc 1', async () => {
    const r = await run(['submit', '--cc=4-6', '--urgency=40', 'true']);
    assert.deepEqual(r, {
      rc: 1,
      stdout: '',
      stderr:
        'cc=4: [Errno 22] urgency range is [0:31]\n' +
        'cc=5: [Errno 22] urgency range is [0:31]\n' +
        'cc=6: [Errno 22] urgency range is [0:31]\n',
    });
  });

  test('{cc} in options: each copy has its own -n, --job-name, --output, --setattr, --env and --urgency', async () => {
    // the copies wait for a held job, so that none runs (their urgency is theirs, not 0)
    const held = await run(['submit', '--urgency=0', 'true']);
    assert.equal(held.rc, 0, held.stderr);
    const r = await run([
      'submit',
      '--cc=1-2',
      `--dependency=afterany:${held.stdout.trim()}`,
      '-n',
      '{cc}',
      '--job-name=j{cc:03d}',
      '--output=/tmp/out.{cc}',
      '--setattr=user.copy={cc}',
      '--env=COPY=c{cc}',
      '--urgency={cc}',
      'echo',
      '{cc}',
      '{{cc}}',
    ]);
    assert.equal(r.stderr, '');
    assert.equal(r.rc, 0);
    const jobs = await jobspecsOf(r.stdout);
    assert.deepEqual(
      jobs.map(({ jobspec: js }) => [
        js.tasks[0].command,
        js.resources[0].count,
        js.attributes.system.job.name,
        js.attributes.system.shell.options.output.stdout.path,
        js.attributes.user.copy,
        js.attributes.system.environment.COPY,
      ]),
      [1, 2].map((cc) => [['echo', String(cc), '{{cc}}'], cc, `j00${cc}`, `/tmp/out.${cc}`, cc, `c${cc}`]),
    );
    const records = await Promise.all(jobs.map(({ id }) => job.listId(suite.h, id, ['urgency'])));
    assert.deepEqual(
      records.map((rec) => rec.urgency),
      [1, 2],
    );
  });

  test("a bad {cc} field in an option: flux's error, nothing submitted", async () => {
    const before = (await job.list(suite.h, { maxEntries: 0 })).length;
    assert.deepEqual(await run(['submit', '--cc=1-3', '--urgency=0', '--job-name={x}', 'true']), {
      rc: 1,
      stdout: '',
      stderr: "tsflux: submit: Replacement key 'x' not found in '--job-name={x}'\n",
    });
    assert.deepEqual(await run(['submit', '--cc=1-3', '--urgency=0', '--input={cc}', 'true']), {
      rc: 1,
      stdout: '',
      stderr: 'tsflux: submit: per-task input not supported for submit\n',
    });
    assert.equal((await job.list(suite.h, { maxEntries: 0 })).length, before);
  });

  test('--dry-run: the first copy, its options formatted', async () => {
    const r = await run(['submit', '--cc=4-6', '--dry-run', '--job-name=n{cc:x}', '-n', '{cc}', 'echo', '{cc}']);
    assert.equal(r.rc, 0, r.stderr);
    const js = JSON.parse(r.stdout);
    assert.deepEqual(js.tasks[0].command, ['echo', '4']);
    assert.equal(js.attributes.system.job.name, 'n4');
    assert.equal(js.resources[0].count, 4);
  });

  test('--quiet: nothing printed, every copy submitted', async () => {
    const before = (await job.list(suite.h, { maxEntries: 0 })).length;
    const n = SUBMIT_WINDOW + 7;
    assert.deepEqual(await run(['submit', `--cc=1-${n}`, '--quiet', '--urgency=0', 'true']), {
      rc: 0,
      stdout: '',
      stderr: '',
    });
    assert.equal((await job.list(suite.h, { maxEntries: 0 })).length, before + n);
  });
});
