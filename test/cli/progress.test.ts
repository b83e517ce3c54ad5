/**
 * `tsflux submit --progress [--jps]` as a user sees it: run on a real terminal (script(1)) against
 * a real instance, the bar is drawn on the bottom row while jobs run and its final frame is left
 * as the last line; without a terminal flux's warning is printed instead. Nothing here depends on
 * timing: the jobs/s figure and the elapsed time are matched by shape, never by value.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as job from '../../src/client/job/index.js';
import { encodeJobId } from '../../src/job/jobid.js';
import { JobState } from '../../src/job/states.js';
import { noTerminal, tsflux, tsfluxOnTerminal } from '../helpers/cli.js';
import { HANG_TIMEOUT, until } from '../helpers/wait.js';
import { suiteInstance } from '../helpers/instance.js';

const ESC = '\x1b';
// a fixed terminal size (Python's get_terminal_size reads $COLUMNS/$LINES first, as tsflux does)
const TERM = { COLUMNS: '80', LINES: '24' };

/** The frames drawn on the bottom row (row 24), in order. */
function liveFrames(output: string): string[] {
  const re = new RegExp(`${ESC}\\[24;1H${ESC}\\[2K${ESC}\\[\\?7l${ESC}\\[0m(.*?)${ESC}\\[\\?7h`, 'gu');
  return [...output.matchAll(re)].map((m) => m[1]!);
}

/** The final frame: printed as a line once the scroll region is restored, and what follows it. */
function finalFrame(output: string): { frame: string; rest: string } {
  const mark = `${ESC}[24;1H${ESC}[K${ESC}[r${ESC}8`;
  const at = output.lastIndexOf(mark);
  assert.ok(at >= 0, `no final frame in ${JSON.stringify(output)}`);
  const text = output.slice(at + mark.length);
  const nl = text.indexOf('\n');
  return { frame: text.slice(0, nl).replace(/\r$/, ''), rest: text.slice(nl + 1) };
}

const width = (s: string): number => [...s].length;

describe('submit --progress', { concurrency: false, timeout: HANG_TIMEOUT }, () => {
  const suite = suiteInstance();

  test(
    '--cc=1-50 --quiet --progress --jps --wait: live bar, final frame 50 completed and jobs/s',
    {
      skip: noTerminal,
    },
    async () => {
      const r = await tsfluxOnTerminal(
        ['submit', '--cc=1-50', '--quiet', '--progress', '--jps', '--wait', 'true'],
        suite.inst.uri,
        TERM,
      );
      assert.equal(r.rc, 0, r.output);
      // the last row is kept for the bar (scroll region 1-23), then drawn, first with nothing done
      assert.ok(r.output.startsWith(`${ESC}7${ESC}[r${ESC}8${ESC}D${ESC}M${ESC}7${ESC}[1;23r${ESC}8`), r.output);
      const frames = liveFrames(r.output);
      assert.match(frames[0]!, /^PD:0 {3}R:0 {3}CD:0 {3}F:0 {3}│ {35}│ {2}0\.0% {2}0\.0 job\/s$/u);
      for (const f of frames) {
        assert.equal(width(f), 80, f);
        assert.match(f, /^PD:\d+ +R:\d+ +CD:\d+ +F:0 +│[ ▏▎▍▌▋▊▉█]*│ *\d+\.\d% +\d+\.\d job\/s$/u);
      }
      const { frame, rest } = finalFrame(r.output);
      assert.match(frame, /^PD:0 {3}R:0 {3}CD:50 {2}F:0 {3}│█+│100\.0% +\d+\.\d job\/s$/u);
      assert.equal(width(frame), 80);
      assert.equal(rest, '', 'the final frame is the last output (--quiet: no ids)');
    },
  );

  test('--progress --wait: failed jobs count as F, the elapsed time without --jps', { skip: noTerminal }, async () => {
    const r = await tsfluxOnTerminal(
      ['submit', '--cc=1-4', '--quiet', '--progress', '--wait', 'sh', '-c', 'exit $((FLUX_JOB_CC % 2))'],
      suite.inst.uri,
      TERM,
    );
    assert.equal(r.rc, 1, r.output);
    const { frame } = finalFrame(r.output);
    assert.match(frame, /^PD:0 {3}R:0 {3}CD:2 {3}F:2 {3}│█+│100\.0% \d+:\d\d:\d\d$/u);
    assert.equal(width(frame), 80);
  });

  test('--progress --wait: a pending job canceled counts as F', { skip: noTerminal }, async () => {
    const p = tsfluxOnTerminal(['submit', '--progress', '--wait', '--urgency=hold', 'true'], suite.inst.uri, TERM);
    let id: bigint | undefined;
    await until(async () => {
      const held = await job.list(suite.h, { attrs: ['urgency'], states: JobState.SCHED });
      id = held.find((j) => j.urgency === 0)?.id;
      return id !== undefined;
    }, 'the held job');
    await job.cancel(suite.h, id!, 'by the test');
    const r = await p;
    assert.equal(r.rc, 1, r.output);
    assert.match(r.output, new RegExp(`${encodeJobId(id!, 'f58')}: exception: type=cancel note=by the test`));
    const { frame } = finalFrame(r.output);
    assert.match(frame, /^PD:0 {3}R:0 {3}CD:0 {3}F:1 {3}│█+│100\.0% \d+:\d\d:\d\d$/u);
  });

  test('--progress without --wait: the submission bar, ids above it', { skip: noTerminal }, async () => {
    const r = await tsfluxOnTerminal(['submit', '--cc=1-5', '--progress', 'true'], suite.inst.uri, TERM);
    assert.equal(r.rc, 0, r.output);
    // the elapsed time by its shape only (h:mm:ss): a loaded machine may take any time
    assert.match(liveFrames(r.output)[0]!, /^Submitting 5 jobs: │ {45}│ {2}0\.0% \d+:\d\d:\d\d$/u);
    const ids = r.output.match(/ƒ[1-9A-HJ-NP-Za-km-z]+\r\n/gu) ?? [];
    assert.equal(ids.length, 5, r.output);
    const { frame, rest } = finalFrame(r.output);
    assert.match(frame, /^Submitting 5 jobs: │█{45}│100\.0% \d+:\d\d:\d\d$/u);
    assert.equal(rest, '');
  });

  test('--progress when stdout is not a terminal: flux warning, no bar', async () => {
    const r = await tsflux(['submit', '--cc=1-3', '--progress', '--wait', 'true'], suite.inst.uri);
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(r.stderr, 'tsflux: WARNING: stdout is not a tty. Ignoring --progress option\n');
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 3);
    assert.ok(!r.stdout.includes(ESC));
  });

  test('--jps without --progress is refused', async () => {
    const r = await tsflux(['submit', '--jps', 'true'], suite.inst.uri);
    assert.deepEqual(r, {
      rc: 1,
      stdout: '',
      stderr: 'tsflux: submit: --jps: only has an effect with --progress\n',
    });
  });
});
