import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readVector } from '../helpers/paths.js';
import { IdsetError, encodeIdset, isIdset, parseIdset } from '../../src/job/idset.js';
import { allRlimits, currentRlimits, filterRlimits, parseProcLimits } from '../../src/job/rlimits.js';

test('parseIdset / encodeIdset', () => {
  assert.deepEqual(parseIdset('1-3,5'), [1, 2, 3, 5]);
  assert.deepEqual(parseIdset('[0,2-3]'), [0, 2, 3]);
  assert.deepEqual(parseIdset('5,1-2,2'), [1, 2, 5]);
  assert.deepEqual(parseIdset(''), []);
  for (const bad of ['a', '1-', '-1', '3-1', '1,,2', '1 2', '1.5', 'all']) {
    assert.throws(() => parseIdset(bad), IdsetError, bad);
    assert.equal(isIdset(bad), false);
  }
  assert.equal(encodeIdset([5, 1, 2, 3]), '1-3,5');
  assert.equal(encodeIdset([1, 2], true), '[1-2]');
  assert.equal(encodeIdset([7], true), '7');
  assert.equal(encodeIdset([]), '');
});

const SAMPLE = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             96365                96365                processes 
Max open files            20000                20000                files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       96364                96364                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`;

test('currentRlimits maps /proc limits like the real dry-run vector', () => {
  const vec = readVector<{ attributes: { system: { shell: { options: { rlimit: Record<string, number> } } } } }>(
    'dry-run-sleep0.json',
  );
  const want = vec.attributes.system.shell.options.rlimit;
  const got = currentRlimits(SAMPLE);
  assert.deepEqual(got, want);
  assert.deepEqual(Object.keys(got), Object.keys(want)); // cpu,fsize,data,stack,core,nofile,as,rss,nproc
  const all = parseProcLimits(SAMPLE);
  assert.equal(all['memlock'], 8388608);
  assert.equal(all['rttime'], -1);
  assert.equal(all['ofile'], 20000);
  assert.equal('locks' in all, false);
});

test('currentRlimits of this process has the default key set', () => {
  if (!fs.existsSync('/proc/self/limits')) return;
  const got = currentRlimits();
  assert.deepEqual(Object.keys(got), ['cpu', 'fsize', 'data', 'stack', 'core', 'nofile', 'as', 'rss', 'nproc']);
  for (const v of Object.values(got)) assert.ok(Number.isInteger(v) && v >= -1);
  assert.ok(Object.keys(allRlimits()).length >= 15);
});

test('filterRlimits applies --rlimit rules in order', () => {
  const all = parseProcLimits(SAMPLE);
  assert.deepEqual(filterRlimits(['-*'], all), {});
  assert.deepEqual(filterRlimits(['-*,core'], all), { core: 0 });
  assert.deepEqual(filterRlimits(['-*', 'core=16', 'nofile=unlimited', 'memlock'], all), {
    core: 16,
    nofile: -1,
    memlock: 8388608,
  });
  assert.deepEqual(Object.keys(filterRlimits(['-n*'], all)), ['cpu', 'fsize', 'data', 'stack', 'core', 'as', 'rss']);
  assert.throws(() => filterRlimits(['bogus=1'], all), /Invalid rlimit "bogus"/);
  assert.throws(() => filterRlimits(['core=x'], all), /Invalid value in core=x/);
  assert.throws(() => filterRlimits(['zzz'], all), /No corresponding rlimit matching "zzz"/);
});
