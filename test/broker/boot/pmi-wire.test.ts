import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineReader, PmiProtocolError, formatLine, isWord, parseLine } from '../../../src/broker/boot/pmi-wire.js';

test('tokens in any order; value= runs to the end of the line, spaces and = included', () => {
  assert.deepEqual(parseLine('cmd=get_result rc=0 value={"host":"n1", "uri":[]} a=b'), {
    cmd: 'get_result',
    rc: '0',
    value: '{"host":"n1", "uri":[]} a=b',
  });
  assert.deepEqual(parseLine('rc=0   pmi_version=1 cmd=response_to_init pmi_subversion=1'), {
    rc: '0',
    pmi_version: '1',
    cmd: 'response_to_init',
    pmi_subversion: '1',
  });
  assert.deepEqual(parseLine('cmd=abort exitcode=3 error_msg=it broke: rank 2'), {
    cmd: 'abort',
    exitcode: '3',
    error_msg: 'it broke: rank 2',
  });
  assert.deepEqual(parseLine('cmd=get_result rc=0 value='), { cmd: 'get_result', rc: '0', value: '' });
  assert.deepEqual(parseLine(''), {});
});

test('a token without = or with an empty key is a protocol error', () => {
  for (const bad of ['cmd=init garbage', 'cmd=init =1', 'hello']) {
    assert.throws(() => parseLine(bad), PmiProtocolError, bad);
  }
});

test('formatLine: tokens in order, a newline at the end; spaces only in a last value', () => {
  assert.equal(
    formatLine([
      ['cmd', 'put'],
      ['kvsname', '-'],
      ['key', '0'],
      ['value', 'a b=c'],
    ]),
    'cmd=put kvsname=- key=0 value=a b=c\n',
  );
  assert.throws(() => formatLine([['key', 'a b']]), PmiProtocolError);
  assert.throws(() => formatLine([['value', 'x\ny']]), PmiProtocolError);
  assert.throws(
    () =>
      formatLine([
        ['value', 'x'],
        ['cmd', 'put'],
      ]),
    PmiProtocolError,
  );
});

test('LineReader: lines split across chunks, several in one chunk; an endless line is refused', () => {
  const r = new LineReader();
  assert.deepEqual(r.push('cmd=a rc'), []);
  assert.deepEqual(r.push(Buffer.from('=0\ncmd=b\ncmd=')), ['cmd=a rc=0', 'cmd=b']);
  assert.deepEqual(r.push('c\n'), ['cmd=c']);
  assert.throws(() => new LineReader().push('x'.repeat(5000)), PmiProtocolError);
});

test('words: printable, no space, no =', () => {
  assert.ok(isWord('PMI_process_mapping'));
  assert.ok(isWord('12.0'));
  assert.ok(!isWord(''));
  assert.ok(!isWord('a b'));
  assert.ok(!isWord('a=b'));
  assert.ok(!isWord('a\tb'));
});
