/**
 * The config service on a real instance: config.get over the socket, config.reload rereading
 * --config-path, config.load, modules told of a new configuration (job-ingest refusing one it
 * cannot honour), owner-only load/reload, and an instance that will not start on a bad one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withInstance } from '../../helpers/instance.js';
import { Instance } from '../../../src/broker/instance.js';
import { FluxError } from '../../../src/protocol/errno.js';
import { Role } from '../../../src/protocol/types.js';
import { tempDir } from '../../helpers/temp.js';

function confDir(files: Record<string, string>): string {
  const dir = tempDir('tsflux-conf-');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function errno(n: number, text: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof FluxError, `expected FluxError, got ${e}`);
    assert.equal(e.errno, n, `errno ${e.errno} (${e.message})`);
    if (typeof text === 'string') assert.equal(e.message, text);
    else assert.match(e.message, text);
    return true;
  };
}

test('config.get answers the configuration read from --config-path; config.path names it', async () => {
  const dir = confDir({
    '10-ingest.toml': '[ingest.validator]\nplugins = ["jobspec", "feasibility"]\n',
    '20-site.toml': '[site]\nname = "lab"\nlimits = [1, 2]\n',
  });
  await withInstance(
    async (_i, h) => {
      assert.deepEqual(await h.rpc('config.get'), {
        ingest: { validator: { plugins: ['jobspec', 'feasibility'] } },
        site: { name: 'lab', limits: [1, 2] },
      });
      assert.equal(await h.attrGet('config.path'), dir);
    },
    { configPath: dir },
  );
  await withInstance(async (_i, h) => {
    assert.deepEqual(await h.rpc('config.get'), {}, 'no --config-path: an empty configuration');
  });
});

test('config.reload rereads the files; a parse error is answered and the old configuration stays', async () => {
  const dir = confDir({ 'a.toml': '[site]\nname = "one"\n' });
  await withInstance(
    async (_i, h) => {
      fs.writeFileSync(path.join(dir, 'a.toml'), '[site]\nname = "two"\n');
      assert.deepEqual(await h.rpc('config.reload'), {});
      assert.deepEqual(await h.rpc('config.get'), { site: { name: 'two' } });
      fs.writeFileSync(path.join(dir, 'b.toml'), 'x = [\n');
      await assert.rejects(
        h.rpc('config.reload'),
        errno(22, `Config file error: ${path.join(dir, 'b.toml')}:2: invalid value`),
      );
      assert.deepEqual(await h.rpc('config.get'), { site: { name: 'two' } });
    },
    { configPath: dir },
  );
});

test('config.load replaces the configuration; modules refuse what they cannot honour, naming themselves', async () => {
  await withInstance(async (inst, h) => {
    assert.deepEqual(await h.rpc('config.load', { site: { n: 1 } }), {});
    assert.deepEqual(await h.rpc('config.get'), { site: { n: 1 } });
    await assert.rejects(
      h.rpc('config.load', { ingest: { validator: { plugins: ['jobspec', 'schema'] } } }),
      errno(
        22,
        "job-ingest: [ingest.validator] plugins: validator plugin 'schema' not found (tsflux has: jobspec, feasibility)",
      ),
    );
    await assert.rejects(
      h.rpc('config.load', { ingest: { validator: { plugins: ['jobspec'], frob: 1 } } }),
      errno(22, 'job-ingest: error parsing [ingest.validator] config table: 1 object item(s) left unpacked: frob'),
    );
    await assert.rejects(h.rpc('config.load', '[1, 2]'), errno(71, /JSON object/));
    // load and reload are the owner's; get is anyone's
    const guest = { userid: 4242, rolemask: Role.USER };
    await assert.rejects(inst.broker.rpc('config.load', {}, guest), errno(1, 'Request requires owner credentials'));
    await assert.rejects(inst.broker.rpc('config.reload', {}, guest), errno(1, 'Request requires owner credentials'));
    assert.ok(await inst.broker.rpc('config.get', {}, guest));
  });
});

test('an instance with a bad configuration does not start, and says why', async () => {
  const bad = confDir({ 'x.toml': '[bootstrap]\nbad-toml\n' });
  await assert.rejects(
    Instance.start({ configPath: bad, cores: '1', gpus: '0' }),
    errno(22, `Config file error: ${path.join(bad, 'x.toml')}:2: illegal character in key`),
  );
  const rundir = tempDir('tsflux-conf-run-');
  const refused = confDir({ 'i.toml': '[ingest.validator]\nargs = ["--require-version=any"]\n' });
  await assert.rejects(
    Instance.start({ configPath: refused, cores: '1', gpus: '0', rundir }),
    errno(22, 'job-ingest: [ingest.validator] args: tsflux validators take no arguments'),
  );
  assert.ok(!fs.existsSync(path.join(rundir, 'local-0')), 'no socket left behind');
});
