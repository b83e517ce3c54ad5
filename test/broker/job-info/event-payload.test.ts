import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, request, response, withPayloadWriter, withTextPayload } from '../../../src/protocol/codec.js';
import { MsgFlag } from '../../../src/protocol/types.js';
import { EventPayload } from '../../../src/broker/job-info/event-payload.js';

const req = request(
  'job-info.eventlog-watch',
  { id: 1, path: 'guest.output', flags: 0 },
  {
    matchtag: 7,
    flags: MsgFlag.STREAMING,
  },
);

test('an eventlog-watch response written by EventPayload is byte for byte the one JSON.stringify makes', () => {
  const lines = [
    '{"timestamp":1.5,"name":"header","context":{"version":1}}\n',
    JSON.stringify({ timestamp: 2, name: 'data', context: { stream: 'stdout', rank: '0', data: 'y\n'.repeat(5000) } }) +
      '\n',
    JSON.stringify({
      timestamp: 3,
      name: 'data',
      context: { stream: 'stderr', rank: '0', data: 'é€😀 "q" \\ \u0001' },
    }) + '\n',
    // longer than the writer's reused buffer takes: a buffer of its own
    JSON.stringify({
      timestamp: 4,
      name: 'data',
      context: { stream: 'stdout', rank: '0', data: 'ü'.repeat(300_000) },
    }) + '\n',
    'short\n',
  ];
  for (const line of lines) {
    const viaWriter = encodeMessage(withPayloadWriter(response(req), new EventPayload(line)));
    const viaText = encodeMessage(withTextPayload(response(req), JSON.stringify({ event: line })));
    assert.ok(viaWriter.equals(viaText), `line of ${line.length} characters`);
  }
});
