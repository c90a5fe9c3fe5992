import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdPairing, type UnansweredReason } from './by-id.ts';

interface Req {
  readonly id: number;
  readonly question: string;
}

function setup(limits: Partial<{ maxPending: number; timeoutUs: number; maxAnswered: number }> = {}) {
  const counters = { unpairedRequests: 0, orphanResponses: 0 };
  const unanswered: [string, UnansweredReason, number][] = [];
  const pairing = new IdPairing<number, Req>(
    { maxPending: 100, timeoutUs: 1000, maxAnswered: 8, ...limits },
    counters,
    (r) => r.question,
    (r, reason, startUs) => unanswered.push([r.question, reason, startUs]),
  );
  return { pairing, counters, unanswered };
}

test('responses in any order take their request by id; an unknown id is an orphan', () => {
  const { pairing, counters } = setup();
  pairing.request(1, { id: 1, question: 'a' }, 10);
  pairing.request(2, { id: 2, question: 'b' }, 20);
  assert.deepEqual(pairing.response(2, 30), { kind: 'paired', request: { id: 2, question: 'b' }, startUs: 20 });
  assert.deepEqual(pairing.response(1, 40), { kind: 'paired', request: { id: 1, question: 'a' }, startUs: 10 });
  assert.deepEqual(pairing.response(3, 50), { kind: 'orphan' });
  assert.equal(counters.orphanResponses, 1);
  assert.equal(pairing.size, 0);
});

test('retransmissions (same id, same request) are one call, and a second answer is a duplicate, not an orphan', () => {
  const { pairing, counters, unanswered } = setup();
  assert.equal(pairing.request(5, { id: 5, question: 'a' }, 10), 'new');
  assert.equal(pairing.request(5, { id: 5, question: 'a' }, 500), 'retransmission');
  assert.equal(pairing.oldestPendingUs(), 10, 'the first sending starts the call');
  assert.equal(pairing.response(5, 600).kind, 'paired');
  assert.equal(pairing.request(5, { id: 5, question: 'a' }, 610), 'retransmission', 'a copy after the answer');
  assert.deepEqual(pairing.response(5, 620), { kind: 'duplicate' });
  assert.equal(counters.orphanResponses, 0);
  assert.deepEqual(unanswered, []);
  assert.equal(pairing.request(5, { id: 5, question: 'other' }, 630), 'new', 'same id, another request: a new call');
});

test('an id reused for another request before the answer: the first is handed back as superseded', () => {
  const { pairing, counters, unanswered } = setup();
  pairing.request(9, { id: 9, question: 'a' }, 10);
  assert.equal(pairing.request(9, { id: 9, question: 'b' }, 20), 'new');
  assert.deepEqual(unanswered, [['a', 'superseded', 10]]);
  assert.equal(counters.unpairedRequests, 1);
  assert.equal(pairing.response(9, 30).kind, 'paired');
});

test('capture-time expiry, the cap, and close hand requests back once each, oldest first', () => {
  const { pairing, counters, unanswered } = setup({ maxPending: 2, timeoutUs: 100 });
  pairing.request(1, { id: 1, question: 'a' }, 0);
  pairing.request(2, { id: 2, question: 'b' }, 50);
  pairing.request(3, { id: 3, question: 'c' }, 60);
  assert.deepEqual(unanswered, [['a', 'evicted', 0]], 'past the cap the oldest goes');
  pairing.expire(155);
  assert.deepEqual(unanswered.at(-1), ['b', 'timeout', 50]);
  assert.equal(pairing.oldestPendingUs(), 60);
  assert.deepEqual(pairing.response(3, 159), { kind: 'paired', request: { id: 3, question: 'c' }, startUs: 60 }, 'an answer at the edge still pairs');
  pairing.request(4, { id: 4, question: 'd' }, 200);
  pairing.closeAll();
  assert.deepEqual(unanswered.at(-1), ['d', 'closed', 200]);
  assert.equal(counters.unpairedRequests, 3);
  assert.equal(pairing.oldestPendingUs(), Infinity);
  pairing.closeAll();
  assert.equal(unanswered.length, 3, 'nothing is handed back twice');
});

test('memory is bounded: answered fingerprints are capped, and forgotten after the timeout', () => {
  const { pairing } = setup({ maxAnswered: 2, timeoutUs: 100 });
  for (let id = 0; id < 5; id++) {
    pairing.request(id, { id, question: 'q' }, id);
    pairing.response(id, id);
  }
  assert.equal(pairing.request(4, { id: 4, question: 'q' }, 10), 'retransmission', 'recent answers are remembered');
  assert.equal(pairing.request(0, { id: 0, question: 'q' }, 10), 'new', 'older ones are not (cap 2)');
  pairing.response(0, 10);
  assert.equal(pairing.request(0, { id: 0, question: 'q' }, 500), 'new', 'nor after the timeout');
});

test('withdraw takes a waiting request away uncounted (it moved elsewhere); it then pairs nowhere here', () => {
  const { pairing, counters, unanswered } = setup();
  pairing.request(1, { id: 1, question: 'a' }, 10);
  assert.deepEqual(pairing.withdraw(1), { request: { id: 1, question: 'a' }, startUs: 10 });
  assert.equal(pairing.withdraw(1), undefined);
  pairing.closeAll();
  assert.deepEqual([unanswered, counters.unpairedRequests], [[], 0]);
});
