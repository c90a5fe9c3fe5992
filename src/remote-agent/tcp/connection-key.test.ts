import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionKey } from './connection-key.ts';

describe('connectionKey', () => {
  it('is the same from both directions', () => {
    assert.equal(connectionKey('10.0.0.1', 40000, '10.0.0.2', 80), connectionKey('10.0.0.2', 80, '10.0.0.1', 40000));
  });
  it('orders equal ports by address', () => {
    assert.equal(connectionKey('10.0.0.9', 7, '10.0.0.1', 7), connectionKey('10.0.0.1', 7, '10.0.0.9', 7));
  });
  it('tells different tuples apart (no ambiguity between address and port)', () => {
    const keys = new Set([
      connectionKey('10.0.0.1', 1, '10.0.0.2', 80),
      connectionKey('10.0.0.1', 2, '10.0.0.2', 80),
      connectionKey('10.0.0.1', 1, '10.0.0.3', 80),
      connectionKey('fe80::1', 1, '10.0.0.2', 80),
    ]);
    assert.equal(keys.size, 4);
  });
});
