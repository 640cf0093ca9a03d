import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThreadLabels } from '../../src/threads/thread-labels.js';

test('threads of one name get the name, then name-2, name-3…, always the smallest free; a thread keeps its label; past the limit, none', () => {
  const labels = new ThreadLabels(4);
  assert.deepEqual([labels.labelOf(11, 'resize'), labels.labelOf(12, 'resize'), labels.labelOf(13, 'resize'), labels.labelOf(14, 'ocr')], ['resize', 'resize-2', 'resize-3', 'ocr']);
  assert.equal(labels.labelOf(12, 'resize'), 'resize-2', 'asked again, a thread keeps its label');
  assert.equal(labels.labelOf(15, 'resize'), undefined, 'four labelled threads at most');
  labels.release(11);
  labels.release(11);
  assert.equal(labels.size, 3);
  assert.equal(labels.labelOf(15, 'resize'), 'resize', 'the freed label is the smallest free');
  labels.release(12);
  assert.equal(labels.labelOf(16, 'resize'), 'resize-2');
});
