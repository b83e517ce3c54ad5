import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readVector, vectorsDir } from '../helpers/paths.js';
import {
  EventlogError,
  EventlogEvent,
  JobException,
  encodeEvent,
  encodeEventlog,
  formatEventText,
  parseEvent,
  parseEventlog,
} from '../../src/job/eventlog.js';

const dir = path.join(vectorsDir, 'eventlogs');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.eventlog'));

test('there are eventlog vectors', () => {
  assert.ok(files.length >= 20, `found ${files.length}`);
});

for (const f of files) {
  test(`${f}: parses and re-encodes byte for byte`, () => {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const entries = parseEventlog(text);
    const lines = text.split('\n').slice(0, -1);
    assert.equal(entries.length, lines.length);
    // same objects as a plain JSON parse
    entries.forEach((e, i) => assert.deepEqual(e, JSON.parse(lines[i]!)));
    // jansson-style %.17g timestamps make the text identical
    assert.equal(encodeEventlog(entries), text);
    entries.forEach((e, i) => assert.equal(encodeEvent(e), lines[i] + '\n'));
  });
}

test('kvs eventlogs are identical to the -f json output', () => {
  for (const f of files.filter((x) => x.endsWith('.kvs.eventlog'))) {
    const base = f.replace('.kvs.eventlog', '.eventlog');
    assert.equal(fs.readFileSync(path.join(dir, f), 'utf8'), fs.readFileSync(path.join(dir, base), 'utf8'));
  }
});

test('default text format matches `flux job eventlog` output in summary.json', () => {
  const summary = readVector<Record<string, any>>('eventlogs/summary.json');
  for (const [name, row] of Object.entries(summary)) {
    if (name.startsWith('_')) continue;
    const entries = parseEventlog(fs.readFileSync(path.join(dir, `${name}.eventlog`), 'utf8'));
    const text = entries.map((e) => formatEventText(e) + '\n').join('');
    assert.equal(text, row.eventlog_text_default_format, name);
  }
});

test('encodeEvent: key order, omitted context, reals always have a dot', () => {
  assert.equal(encodeEvent({ timestamp: 1, name: 'x' }), '{"timestamp":1.0,"name":"x"}\n');
  assert.equal(
    encodeEvent({ timestamp: 1712345678.123456, name: 'finish', context: { status: 0 } }),
    '{"timestamp":1712345678.123456,"name":"finish","context":{"status":0}}\n',
  );
  assert.equal(
    encodeEvent({ context: { b: 'é', a: [1, 2.5] }, name: 'n', timestamp: 0.5 }),
    '{"timestamp":0.5,"name":"n","context":{"b":"é","a":[1,2.5]}}\n',
  );
  assert.equal(encodeEvent({ timestamp: 1e20, name: 'big' }), '{"timestamp":1e20,"name":"big"}\n');
  // round trip of arbitrary timestamps
  for (let i = 0; i < 2000; i++) {
    const ts = 1.7e9 + Math.random() * 1e8;
    assert.equal(parseEvent(encodeEvent({ timestamp: ts, name: 'e' })).timestamp, ts);
  }
  assert.throws(() => encodeEvent({ timestamp: 1, name: '' }), EventlogError);
  assert.throws(() => encodeEvent({ timestamp: NaN, name: 'x' }), EventlogError);
});

test('parse errors name the bad line (errno EINVAL)', () => {
  const good = '{"timestamp":1.0,"name":"a"}\n';
  const cases: Array<[string, RegExp]> = [
    [good + '{"timestamp":2.0,"name":"b"}', /^eventlog line 2: last entry is not terminated by a newline$/],
    [good + 'not json\n', /^eventlog line 2: invalid JSON/],
    [good + '\n', /^eventlog line 2: empty entry$/],
    ['[1]\n', /^eventlog line 1: entry is not a JSON object$/],
    ['{"name":"a"}\n', /^eventlog line 1: missing "timestamp"$/],
    ['{"timestamp":"1","name":"a"}\n', /"timestamp" must be a number/],
    ['{"timestamp":1}\n', /missing "name"/],
    ['{"timestamp":1,"name":""}\n', /"name" must not be empty/],
    ['{"timestamp":1,"name":3}\n', /"name" must be a string/],
    [good + good + '{"timestamp":1,"name":"c","context":[]}\n', /^eventlog line 3: "context" must be a JSON object$/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseEventlog(text),
      (e: unknown) => {
        assert.ok(e instanceof EventlogError);
        assert.equal(e.errno, 22);
        assert.match(e.message, re);
        return true;
      },
    );
  }
  assert.deepEqual(parseEventlog(''), []);
  assert.equal(new EventlogError('x', 4).line, 4);
});

test('EventlogEvent mirrors Python EventLogEvent', () => {
  const ev = new EventlogEvent('{"timestamp":1.5,"name":"start"}\n');
  assert.equal(ev.name, 'start');
  assert.equal(ev.timestamp, 1.5);
  assert.deepEqual(ev.context, {});
  assert.deepEqual(ev.toJSON(), { timestamp: 1.5, name: 'start' });
  assert.equal(ev.encode(), '{"timestamp":1.5,"name":"start"}\n');
  const fin = new EventlogEvent({ timestamp: 2, name: 'finish', context: { status: 256 } });
  assert.deepEqual(fin.context, { status: 256 });
  assert.equal(String(fin), '2.000000 finish status=256');
});

test('JobException mirrors Python JobException', () => {
  const text = fs.readFileSync(path.join(dir, 'timelimit.eventlog'), 'utf8');
  const exc = parseEventlog(text).find((e) => e.name === 'exception')!;
  const je = new JobException(exc);
  assert.ok(je instanceof Error);
  assert.equal(je.type, 'timeout');
  assert.equal(je.note, 'resource allocation expired');
  assert.equal(je.severity, 0);
  assert.equal(je.timestamp, exc.timestamp);
  assert.equal(je.toString(), 'job.exception: type=timeout: resource allocation expired');
  assert.equal(je.message, je.toString());
  const cancel = new JobException(
    new EventlogEvent({ timestamp: 1, name: 'exception', context: { type: 'cancel', severity: 0, note: '' } }),
  );
  assert.equal(`${cancel}`, 'job.exception: type=cancel: ');
});

test('encodeEvent: contexts with and without reals encode as jansson would, nested too', () => {
  const ctx = (line: string) => line.slice(line.indexOf(',"context":') + 11, -2);
  assert.equal(
    ctx(encodeEvent({ timestamp: 1, name: 'x', context: { a: 1, b: 'é"', c: [1, null, true], d: { e: -0 } } })),
    '{"a":1,"b":"é\\"","c":[1,null,true],"d":{"e":0}}',
  );
  assert.equal(
    ctx(encodeEvent({ timestamp: 1, name: 'x', context: { a: [1, { r: 0.1 }], t: 2.5 } })),
    '{"a":[1,{"r":0.10000000000000001}],"t":2.5}',
  );
  assert.equal(ctx(encodeEvent({ timestamp: 1, name: 'x', context: { u: undefined, n: 3 } })), '{"n":3}');
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string(),
        fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer())),
      ),
      (c) => {
        assert.equal(ctx(encodeEvent({ timestamp: 1, name: 'x', context: c })), JSON.stringify(c));
      },
    ),
    { numRuns: 500 },
  );
});
