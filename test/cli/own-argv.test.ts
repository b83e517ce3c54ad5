/**
 * The `tsflux` command owns its whole argument list: node does not read options such as
 * `--env-file` after the script name (nodejs/node#54232) when tsflux is run as a command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tsfluxBin } from '../helpers/paths.js';

test('tsflux run --env-file=FILE is tsflux’s option, not node’s', () => {
  const env = { ...process.env };
  delete env.FLUX_URI;
  const r = spawnSync(tsfluxBin, ['run', '--env-file=/nonexistent/tsflux-env', 'true'], { env, encoding: 'utf8' });
  assert.doesNotMatch(r.stderr, /^node:/m);
  assert.match(
    r.stderr,
    /tsflux: run: --env-file: ENOENT: no such file or directory, open '\/nonexistent\/tsflux-env'/,
  );
  assert.equal(r.status, 1);
});
