/**
 * `tsflux start --config-path` and `tsflux config get|load|reload` as a user runs them: real
 * `tsflux start` processes, output and exit codes checked against flux's (flux-config(1)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tsfluxBin } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

interface Result {
  rc: number | null;
  stdout: string;
  stderr: string;
}

function tsflux(args: string[], cwd: string, input?: string): Promise<Result> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && k !== 'FLUX_URI' && k !== 'FLUX_CONF_DIR') env[k] = v;
  }
  env.T = `${process.execPath} ${tsfluxBin}`;
  const child = spawn(process.execPath, [tsfluxBin, ...args], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ rc: code, stdout, stderr }));
  });
}

function workdir(files: Record<string, string>): string {
  const dir = tempDir('tsflux-cliconf-');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const FOO = `[foo]
a = 42
b = "meep"
c = "50s"
d = 3.14
e = false
f = [ "fubar", "barfu" ]
[foo.bar]
a = true
`;

test('tsflux config get inside an instance started with --config-path=DIR', async () => {
  const dir = workdir({ 'conf.d/foo.toml': FOO, 'conf.d/ingest.toml': '[ingest.validator]\nplugins = ["jobspec"]\n' });
  const script = [
    '$T config get',
    '$T config get foo.bar',
    '$T config get foo.b',
    '$T config get --type=integer foo.a',
    '$T config get --type=fsd-integer foo.c',
    '$T config get --type=array foo.f',
    '$T config get ingest.validator.plugins',
    '$T config get nokey; echo rc=$?',
    '$T config get --quiet nokey; echo rc=$?',
    '$T config get --default=7 nokey',
    '$T config get --type=string foo.a; echo rc=$?',
    '$T config get --type=oops foo.a; echo rc=$?',
    '$T getattr config.path',
  ].join('\n');
  const r = await tsflux(['start', '--config-path=conf.d', '--cores=1', '--gpus=0', 'sh', '-c', script], dir);
  assert.equal(
    r.stdout,
    [
      '{"foo":{"a":42,"b":"meep","c":"50s","d":3.14,"e":false,"f":["fubar","barfu"],"bar":{"a":true}},"ingest":{"validator":{"plugins":["jobspec"]}}}',
      '{"a":true}',
      'meep',
      '42',
      '50',
      '["fubar","barfu"]',
      '["jobspec"]',
      'rc=1',
      'rc=1',
      '7',
      'rc=1',
      'rc=1',
      'conf.d',
      '',
    ].join('\n'),
  );
  assert.equal(
    r.stderr,
    [
      'tsflux-broker: warning: config: tsflux does not use [foo] (kept for config.get); it reads [ingest], [job-manager], [heartbeat], [tbon]',
      'tsflux-config: nokey is not set',
      'tsflux-config: foo.a does not have the requested type',
      'tsflux-config: Unknown type: oops',
      '',
    ].join('\n'),
  );
  assert.equal(r.rc, 0);
});

test('tsflux config reload rereads the files; tsflux config load takes TOML or JSON on stdin, or a PATH', async () => {
  const dir = workdir({ 'site.toml': '[site]\nname = "one"\n', 'other/x.toml': 'test.a = 999\n' });
  const script = [
    `printf '[site]\\nname = "two"\\n' > site.toml`,
    '$T config reload && $T config get site.name',
    `printf 'x = [\\n' > site.toml`,
    '$T config reload; echo rc=$?',
    `echo 'test.y.z = 42' | $T config load && $T config get`,
    `echo '{"j": [1, 2]}' | $T config load && $T config get`,
    '$T config load other && $T config get test.a',
    '$T config load </dev/null && $T config get',
  ].join('\n');
  const r = await tsflux(['start', '-o,--config-path=site.toml', '--cores=1', '--gpus=0', 'sh', '-c', script], dir);
  assert.equal(r.stdout, ['two', 'rc=1', '{"test":{"y":{"z":42}}}', '{"j":[1,2]}', '999', '{}', ''].join('\n'));
  assert.match(r.stderr, /^tsflux-config: reload: Config file error: site\.toml:2: invalid value$/m);
  assert.equal(r.rc, 0);
});

test('tsflux start refuses a bad configuration, naming the file and line; config get --config-path reads files', async () => {
  const dir = workdir({ 'bad.toml': '[bootstrap]\nbad-toml\n', 'good.toml': FOO });
  assert.deepEqual(await tsflux(['start', '--config-path=bad.toml', 'true'], dir), {
    rc: 1,
    stdout: '',
    stderr: 'tsflux: Config file error: bad.toml:2: illegal character in key\n',
  });
  assert.deepEqual(await tsflux(['start', '--config-path=nonexistent', 'true'], dir), {
    rc: 1,
    stdout: '',
    stderr: 'tsflux: Config file error: stat: nonexistent: No such file or directory\n',
  });
  assert.deepEqual(await tsflux(['config', 'get', '--config-path=good.toml', 'foo.a'], dir), {
    rc: 0,
    stdout: '42\n',
    stderr: '',
  });
  assert.deepEqual(await tsflux(['config', 'get', '-c', 'bad.toml'], dir), {
    rc: 1,
    stdout: '',
    stderr: 'tsflux-config: bad.toml:2: illegal character in key\n',
  });
});
