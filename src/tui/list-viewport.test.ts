import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_VIEWPORT, moveViewport, reconcileViewport } from './list-viewport.ts';

test('follow mode pins the selection to the newest row as rows arrive', () => {
  assert.deepEqual(reconcileViewport(INITIAL_VIEWPORT, 5, 10), { selected: 4, top: 0, follow: true });
  assert.deepEqual(reconcileViewport(INITIAL_VIEWPORT, 50, 10), { selected: 49, top: 40, follow: true });
});

test('an upward move pauses follow and later arrivals leave the selection alone', () => {
  const paused = moveViewport(INITIAL_VIEWPORT, 'up', 50, 10);
  assert.deepEqual(paused, { selected: 48, top: 40, follow: false });
  assert.deepEqual(reconcileViewport(paused, 80, 10), paused);
});

test('down at the bottom keeps following; G and f resume follow', () => {
  assert.equal(moveViewport(INITIAL_VIEWPORT, 'down', 50, 10).follow, true);
  const top = moveViewport(INITIAL_VIEWPORT, 'top', 50, 10);
  assert.deepEqual(top, { selected: 0, top: 0, follow: false });
  assert.deepEqual(moveViewport(top, 'bottom', 50, 10), { selected: 49, top: 40, follow: true });
  assert.deepEqual(moveViewport(top, 'follow', 50, 10), { selected: 49, top: 40, follow: true });
});

test('pages move by the height and the selection stays visible', () => {
  const top = moveViewport(INITIAL_VIEWPORT, 'top', 50, 10);
  const down = moveViewport(top, 'pageDown', 50, 10);
  assert.deepEqual(down, { selected: 10, top: 10, follow: false });
  assert.deepEqual(moveViewport(down, 'pageUp', 50, 10), { selected: 0, top: 0, follow: false });
  const scrolled = moveViewport(moveViewport(top, 'down', 50, 3), 'down', 50, 3);
  assert.deepEqual(moveViewport(scrolled, 'down', 50, 3), { selected: 3, top: 1, follow: false });
});

test('a filter that shrinks the view clamps the selection; an empty view is safe', () => {
  const paused = { selected: 40, top: 35, follow: false };
  assert.deepEqual(reconcileViewport(paused, 8, 10), { selected: 7, top: 0, follow: false });
  assert.deepEqual(reconcileViewport(paused, 0, 10), { selected: 0, top: 0, follow: false });
  assert.deepEqual(moveViewport(paused, 'up', 0, 10), { selected: 0, top: 0, follow: false });
});
