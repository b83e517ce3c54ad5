import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonStringLength, writeJsonString } from '../../src/protocol/json-string.js';

/** The literal written from the UTF-8 bytes of `s`, and its announced length. */
function literal(s: string): { text: string; length: number } {
  const src = Buffer.from(s, 'utf8');
  const dst = Buffer.alloc(6 * src.length + 2);
  const end = writeJsonString(src, 0, src.length, dst, 0);
  return { text: dst.toString('utf8', 0, end), length: jsonStringLength(src, 0, src.length) };
}

test('writeJsonString: every ASCII character is written as JSON.stringify writes it', () => {
  for (let c = 0; c < 128; c++) {
    const s = `a${String.fromCharCode(c)}b`;
    const r = literal(s);
    assert.equal(r.text, JSON.stringify(s), `character ${c}`);
    assert.equal(r.length, Buffer.byteLength(r.text), `length of character ${c}`);
  }
});

test('writeJsonString: an eventlog line with quotes, escapes and multi-byte characters', () => {
  const line = JSON.stringify({ name: 'data', context: { data: 'é€😀 "q" \\ \n\t\u0001 end' } }) + '\n';
  const r = literal(line);
  assert.equal(r.text, JSON.stringify(line));
  assert.equal(JSON.parse(r.text), line);
});

test('writeJsonString: any well-formed text comes out as JSON.stringify of it (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      fc.pre(!/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))); // no lone surrogate
      const r = literal(s);
      return r.text === JSON.stringify(s) && r.length === Buffer.byteLength(r.text);
    }),
    { numRuns: 2000 },
  );
});

test('writeJsonString: a range of a larger buffer, at an offset of the destination', () => {
  const src = Buffer.from('xx"é\\yy', 'utf8');
  const dst = Buffer.alloc(32, 0x2e);
  const end = writeJsonString(src, 2, src.length - 2, dst, 3);
  assert.equal(dst.toString('utf8', 0, end + 1), '..."\\"é\\\\".');
  assert.equal(jsonStringLength(src, 2, src.length - 2), end - 3);
});
