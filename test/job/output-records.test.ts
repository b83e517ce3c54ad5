/** Binary output records (src/job/output-records.ts): encoding, decoding, rendering as RFC 24 lines, bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEvent } from '../../src/job/eventlog.js';
import {
  RecordError,
  dataRecord,
  lineRecord,
  records,
  recordsText,
  renderRecord,
  textRecords,
  utf8Whole,
} from '../../src/job/output-records.js';

test('records decode to what was encoded, each with its end offset', () => {
  const header = '{"timestamp":1.5,"name":"header","context":{"version":1}}\n';
  const buf = Buffer.concat([
    lineRecord(header),
    dataRecord(1700000000.123456, 'stdout', 0, Buffer.from('hello\n')),
    dataRecord(2.25, 'stderr', 4294967295, Buffer.alloc(0)),
  ]);
  const got = [...records(buf)];
  assert.equal(got.length, 3);
  assert.equal(got[0]!.line, header);
  assert.equal(got[0]!.end, 5 + header.length);
  assert.deepEqual(
    { ...got[1]!.data, data: got[1]!.data!.data.toString() },
    {
      timestamp: 1700000000.123456,
      stream: 'stdout',
      rank: 0,
      data: 'hello\n',
    },
  );
  assert.equal(got[2]!.data!.stream, 'stderr');
  assert.equal(got[2]!.data!.rank, 4294967295);
  assert.equal(got[2]!.data!.data.length, 0);
  assert.equal(got[2]!.end, buf.length);
});

test('a DATA record renders as the RFC 24 line job-exec wrote before records existed', () => {
  const ts = 1764780000.654321;
  const r = [...records(dataRecord(ts, 'stdout', 3, Buffer.from('y\n"é"\t\u0001')))][0]!;
  assert.equal(
    renderRecord(r),
    encodeEvent({ timestamp: ts, name: 'data', context: { stream: 'stdout', rank: '3', data: 'y\n"é"\t\u0001' } }),
  );
});

test('bytes that are not UTF-8 render as base64 with "encoding":"base64", as flux-core does', () => {
  const bytes = Buffer.from([0xff, 0x00, 0xc3]);
  const text = recordsText(dataRecord(5, 'stderr', 0, bytes));
  const e = JSON.parse(text);
  assert.deepEqual(e.context, { stream: 'stderr', rank: '0', data: bytes.toString('base64'), encoding: 'base64' });
  assert.deepEqual(Buffer.from(e.context.data, 'base64'), bytes);
});

test('text lines of an older store become LINE records, and back', () => {
  const text = '{"timestamp":1,"name":"a"}\n{"timestamp":2,"name":"b"}\n';
  assert.equal(recordsText(textRecords(text)), text);
  assert.deepEqual(
    [...records(textRecords(text))].map((r) => r.line),
    ['{"timestamp":1,"name":"a"}\n', '{"timestamp":2,"name":"b"}\n'],
  );
});

test('malformed records are refused with RecordError naming the offset', () => {
  const good = dataRecord(1, 'stdout', 0, Buffer.from('abc'));
  assert.throws(() => [...records(good.subarray(0, good.length - 1))], /output record at 0: cut short/);
  assert.throws(() => [...records(good.subarray(0, 10))], /output record at 0: cut short/);
  assert.throws(() => [...records(Buffer.from([7]))], RecordError);
  const badStream = Buffer.from(good);
  badStream[9] = 3;
  assert.throws(() => [...records(badStream)], /bad stream 3/);
  const line = lineRecord('x\n');
  assert.throws(() => [...records(Buffer.concat([line, line.subarray(0, 3)]))], /output record at 7: cut short/);
});

test('utf8Whole keeps back only a character the next read completes', () => {
  const b = (s: string) => Buffer.from(s);
  assert.equal(utf8Whole(b('abc')), 3);
  assert.equal(utf8Whole(b('')), 0);
  const e = b('aé'); // é is 2 bytes
  assert.equal(utf8Whole(e), 3);
  assert.equal(utf8Whole(e.subarray(0, 2)), 1);
  const emoji = b('a😀'); // 4 bytes
  for (let n = 2; n < 5; n++) assert.equal(utf8Whole(emoji.subarray(0, n)), 1);
  assert.equal(utf8Whole(emoji), 5);
  assert.equal(utf8Whole(Buffer.from([0x61, 0xff])), 2); // not UTF-8: nothing to wait for
  assert.equal(utf8Whole(Buffer.from([0x80, 0x80, 0x80, 0x80])), 4); // continuation bytes only
});
