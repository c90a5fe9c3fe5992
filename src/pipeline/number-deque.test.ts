import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NumberDeque } from './number-deque.ts';

test('push, shift and at across growth and wrap-around', () => {
  const d = new NumberDeque(2);
  const model: number[] = [];
  for (let i = 0; i < 1000; i++) {
    d.push(i);
    model.push(i);
    if (i % 3 === 0) assert.equal(d.shift(), model.shift());
  }
  assert.equal(d.length, model.length);
  for (let i = 0; i < model.length; i++) assert.equal(d.at(i), model[i]);
  assert.equal(d.front(), model[0]);
  assert.equal(d.at(-1), undefined);
  assert.equal(d.at(model.length), undefined);
  assert.deepEqual([...d.sortedCopy()], model);
});

test('sortedCopy of a wrapped-around deque', () => {
  const d = new NumberDeque(8);
  for (const v of [1, 2, 3, 4, 5, 6]) d.push(v);
  for (let i = 0; i < 5; i++) d.shift();
  for (const v of [30, 10, 20, 0]) d.push(v); // head 5: the contents wrap past the end
  assert.deepEqual([...d.sortedCopy()], [0, 6, 10, 20, 30]);
  for (let i = 0; i < 6; i++) d.push(100 + i); // growth while wrapped keeps the order
  assert.deepEqual(Array.from({ length: d.length }, (_, i) => d.at(i)), [6, 30, 10, 20, 0, 100, 101, 102, 103, 104, 105]);
});

test('empty deque, clear and sortedCopy', () => {
  const d = new NumberDeque();
  assert.equal(d.shift(), undefined);
  assert.equal(d.front(), undefined);
  for (const v of [5, 1, 4, 2]) d.push(v);
  d.shift();
  assert.deepEqual([...d.sortedCopy()], [1, 2, 4]);
  d.clear();
  assert.equal(d.length, 0);
  d.push(9);
  assert.equal(d.at(0), 9);
});
