import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostlistError, decodeHostlist, encodeHostlist } from '../../src/job/hostlist.js';

test('decode: ranges, lists, zero padding, suffixes', () => {
  assert.deepEqual(decodeHostlist('node[0-2,5],vm'), ['node0', 'node1', 'node2', 'node5', 'vm']);
  assert.deepEqual(decodeHostlist(''), []);
  assert.deepEqual(decodeHostlist('vm'), ['vm']);
  assert.deepEqual(decodeHostlist('n[08-10]'), ['n08', 'n09', 'n10']);
  assert.deepEqual(decodeHostlist('n[9-10]'), ['n9', 'n10']);
  assert.deepEqual(decodeHostlist('a[1-2]b,c'), ['a1b', 'a2b', 'c']);
});

test('decode: what is not a hostlist throws HostlistError', () => {
  for (const bad of ['a[1-', 'a]', 'a[[1]]', 'a,,b', 'a[2-1]', 'a[x]', 'a[1]b[2]']) {
    assert.throws(() => decodeHostlist(bad), HostlistError, bad);
  }
  assert.throws(() => decodeHostlist('a[1-100]', 10), /too large/);
});

test('encode: adjacent hosts of one prefix and width merge, order is kept', () => {
  assert.equal(encodeHostlist([]), '');
  assert.equal(encodeHostlist(['vm']), 'vm');
  assert.equal(encodeHostlist(['vm', 'vm']), 'vm,vm');
  assert.equal(encodeHostlist(['n1', 'n2', 'n3', 'n5', 'login']), 'n[1-3,5],login');
  assert.equal(encodeHostlist(['n01', 'n02', 'n10']), 'n[01-02],n10');
  assert.equal(encodeHostlist(['node0', 'node1', 'node2', 'node5', 'vm']), 'node[0-2,5],vm');
  assert.equal(encodeHostlist(['n9', 'n10']), 'n[9-10]');
});

test('decode and encode invert each other', () => {
  for (const s of ['node[0-2,5],vm', 'n[01-02],n10', 'login,n[1-3,5]', 'vm']) {
    assert.equal(encodeHostlist(decodeHostlist(s)), s);
  }
});
