import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyTallies } from '../model/protocol-tally.ts';
import { lostExchangesBrief, lostExchangesLine } from './lost-exchanges.ts';

test('lostExchangesLine: HTTP/2 says why (per-connection header compression) and what to do, in one line', () => {
  const line = lostExchangesLine('shop/frontend-7d9c', 'http', 120);
  assert.equal(
    line,
    'pod shop/frontend-7d9c: 120 HTTP/2 streams not shown: their request headers could not be read (HTTP/2 compresses headers with state kept per connection, ' +
      'so connections that were open before the tap started, or that lost bytes in the capture, cannot be decoded); ' +
      'calls on connections opened from now on are shown: restart the client or wait for it to reconnect',
  );
  assert.doesNotMatch(line, /\n/);
  assert.match(lostExchangesLine('shop/a', 'http', 1), /: 1 HTTP\/2 stream not shown:/);
  assert.equal(lostExchangesLine('shop/a', 'ldap', 2), 'pod shop/a: 2 ldap exchanges not shown: not captured whole', 'another protocol: its name, no HTTP/2 story');
});

test('lostExchangesBrief: the lost of every protocol in short, "" when none', () => {
  assert.equal(lostExchangesBrief(undefined), '');
  assert.equal(lostExchangesBrief(Object.assign(emptyTallies(), { http: { entries: 5, violations: 2 } })), '');
  assert.equal(
    lostExchangesBrief(Object.assign(emptyTallies(), { http: { entries: 0, violations: 0, lost: 3 }, ldap: { entries: 0, violations: 0, lost: 1 } })),
    '3 HTTP/2 streams not shown (headers unreadable on connections open before the tap: new ones are shown); 1 ldap exchange not shown (not captured whole)',
  );
});
