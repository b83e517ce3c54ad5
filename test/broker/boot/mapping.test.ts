import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeOfRanks, parseProcessMapping } from '../../../src/broker/boot/mapping.js';

test('PMI_process_mapping as an RFC 34 task map, and the node of each rank', () => {
  assert.deepEqual(parseProcessMapping('(vector,(0,1,3))'), [[0, 1, 3, 1]]);
  assert.deepEqual(nodeOfRanks([[0, 1, 3, 1]], 3), [0, 0, 0]);
  assert.deepEqual(parseProcessMapping('(vector,(0,3,1))'), [[0, 3, 1, 1]]);
  assert.deepEqual(nodeOfRanks([[0, 3, 1, 1]], 3), [0, 1, 2]);
  const two = parseProcessMapping(' (vector, (0,2,2), (2,1,1)) ')!;
  assert.deepEqual(two, [
    [0, 2, 2, 1],
    [2, 1, 1, 1],
  ]);
  assert.deepEqual(nodeOfRanks(two, 5), [0, 0, 1, 1, 2]);
});

test('what is not a mapping is undefined', () => {
  for (const bad of ['', 'vector', '(vector,)', '(vector,(0,0,1))', '(vector,(0,1))', '(vector,(0,1,3)', '(0,1,3)']) {
    assert.equal(parseProcessMapping(bad), undefined, bad);
  }
});
