/** Reading Flux's TOML configuration: files, directories, merging and the errors' wording. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configLookup, parseConfigPath } from '../../../src/broker/config/parse.js';
import { loadConfig } from '../../../src/broker/config/config.js';
import { FluxError } from '../../../src/protocol/errno.js';
import { tempDir } from '../../helpers/temp.js';

function tmpdir(files: Record<string, string>): string {
  const dir = tempDir('tsflux-conf-');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function fails(fn: () => unknown, errno: number, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FluxError, String(e));
    assert.equal(e.message, message);
    assert.equal(e.errno, errno);
    return true;
  });
}

test('a directory: every *.toml in name order, tables merged, later values win; other files ignored', () => {
  const dir = tmpdir({
    'b.toml': '[ingest.validator]\nplugins = ["jobspec", "feasibility"]\n[foo]\nx = 2\n',
    'a.toml': '[foo]\nx = 1\ny = "one"\n[foo.bar]\nz = true\n',
    '.hidden.toml': 'hidden = 1\n',
    'notes.txt': 'not = "toml"\n',
  });
  assert.deepEqual(parseConfigPath(dir), {
    foo: { x: 2, y: 'one', bar: { z: true } },
    ingest: { validator: { plugins: ['jobspec', 'feasibility'] } },
  });
  assert.deepEqual(parseConfigPath(tmpdir({})), {}, 'an empty directory is an empty configuration');
});

test('a file: TOML, or JSON when it ends in .json; values keep their types', () => {
  const dir = tmpdir({
    'one.toml': 'n = 9007199254740993\nf = 2.5\ns = "50s"\nd = 1979-05-27T07:32:00Z\n[t]\na = [1, "x"]\n',
    'c.json': '{"a": {"b": [1, 2]}}',
  });
  assert.deepEqual(parseConfigPath(path.join(dir, 'one.toml')), {
    n: 9007199254740993n,
    f: 2.5,
    s: '50s',
    d: '1979-05-27T07:32:00.000Z',
    t: { a: [1, 'x'] },
  });
  assert.deepEqual(parseConfigPath(path.join(dir, 'c.json')), { a: { b: [1, 2] } });
});

test('errors name the file and line, as flux-core words them; the broker prefixes "Config file error: "', () => {
  const dir = tmpdir({ 'bad.toml': '[bootstrap]\nbad-toml\n', 'dup.toml': '[a]\nx = 1\n[a]\ny = 2\n' });
  const bad = path.join(dir, 'bad.toml');
  fails(() => parseConfigPath(bad), 22, `${bad}:2: illegal character in key`);
  const dup = path.join(dir, 'dup.toml');
  fails(() => parseConfigPath(dup), 22, `${dup}:3: trying to redefine an already defined table or value`);
  // in a directory, the bad file is named
  fails(() => parseConfigPath(dir), 22, `${bad}:2: illegal character in key`);
  fails(() => parseConfigPath('/nonexistent/conf.d'), 2, 'stat: /nonexistent/conf.d: No such file or directory');
  fails(
    () => loadConfig('/nonexistent/conf.d'),
    2,
    'Config file error: stat: /nonexistent/conf.d: No such file or directory',
  );
  const json = path.join(tmpdir({ 'x.json': '{\n"a": }' }), 'x.json');
  assert.throws(() => parseConfigPath(json), /x\.json:2: /);
  assert.deepEqual(loadConfig(undefined), {}, 'no path: an empty configuration');
});

test('configLookup follows a dotted key and says undefined for a missing part', () => {
  const conf = { ingest: { validator: { plugins: ['jobspec'] } }, x: 1 };
  assert.deepEqual(configLookup(conf, 'ingest.validator.plugins'), ['jobspec']);
  assert.deepEqual(configLookup(conf, 'ingest'), { validator: { plugins: ['jobspec'] } });
  assert.equal(configLookup(conf, 'ingest.validator.args'), undefined);
  assert.equal(configLookup(conf, 'x.y'), undefined);
  assert.equal(configLookup(conf, 'toString'), undefined);
});
