import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EntryError } from '../../../model/entry-envelope.ts';
import { FifoPairing, type FifoLimits, type FifoSlot } from './fifo.ts';

/** What left the queue, in order: `request -> response` or `request -> (error type)`. */
function harness(limits: Partial<FifoLimits> = {}) {
  const counters = { unpairedRequests: 0, orphanResponses: 0 };
  const out: string[] = [];
  const errors: (EntryError | null)[] = [];
  const pairs = new FifoPairing<string, string>({ maxPending: 100, timeoutUs: 1000, ...limits }, counters, (slot: FifoSlot<string, string>, missing) => {
    out.push(`${slot.ordinal}:${slot.request} -> ${slot.response ?? `(${missing?.type})`}`);
    errors.push(missing);
  });
  /** A request sent whole at `us`. */
  const send = (req: string, us: number): FifoSlot<string, string> => {
    const slot = pairs.request(req, us);
    pairs.requestDone(slot, us);
    return slot;
  };
  /** The next response, started and completed at once. */
  const reply = (res: string): void => {
    const slot = pairs.nextUnanswered();
    if (slot === undefined) return pairs.orphan();
    pairs.answer(slot);
    pairs.respond(slot, res);
  };
  return { pairs, counters, out, errors, send, reply };
}

test('pipelined: responses answer requests in order, and pairs leave in request order', () => {
  const h = harness();
  h.send('GET /a', 10);
  h.send('GET /b', 11);
  h.send('GET /c', 12);
  assert.equal(h.pairs.pending, 3);
  assert.equal(h.pairs.oldestPendingUs(), 10);
  h.reply('200 a');
  h.reply('200 b');
  assert.deepEqual(h.out, ['0:GET /a -> 200 a', '1:GET /b -> 200 b']);
  assert.equal(h.pairs.oldestPendingUs(), 12);
  h.reply('200 c');
  assert.deepEqual(h.out.slice(2), ['2:GET /c -> 200 c']);
  assert.equal(h.pairs.oldestPendingUs(), Infinity);
  assert.deepEqual(h.counters, { unpairedRequests: 0, orphanResponses: 0 });
});

test('a later pair complete first waits for the one before it; a request still arriving holds its place', () => {
  const h = harness();
  const first = h.pairs.request('POST /upload', 0); // body still in flight
  h.send('GET /next', 5);
  // The server answers the first request early (e.g. 413), then the second.
  const answered = h.pairs.nextUnanswered()!;
  assert.equal(answered, first);
  h.pairs.answer(answered);
  h.pairs.respond(answered, '413');
  h.reply('200 next');
  assert.deepEqual(h.out, [], 'the first request is not complete yet: nothing leaves');
  h.pairs.requestDone(first, 20);
  assert.deepEqual(h.out, ['0:POST /upload -> 413', '1:GET /next -> 200 next']);
});

test('expiry in capture time: a complete request unanswered past the timeout leaves with a timeout error', () => {
  const h = harness({ timeoutUs: 1000 });
  h.send('GET /slow', 100);
  const answeredLate = h.pairs.request('GET /answered', 150);
  h.pairs.requestDone(answeredLate, 150);
  h.pairs.expire(1100);
  assert.deepEqual(h.out, [], 'exactly the timeout is not past it');
  h.pairs.expire(1101);
  assert.deepEqual(h.out, ['0:GET /slow -> (timeout)']);
  assert.deepEqual(h.errors[0], { type: 'timeout', msg: 'no response within 0.001 s' });
  // A request whose response has started does not time out, however long its body takes.
  h.pairs.answer(h.pairs.nextUnanswered()!);
  h.pairs.expire(1_000_000);
  assert.equal(h.out.length, 1);
  // A request not received whole has no timeout yet either.
  h.pairs.request('PUT /partial', 200);
  h.pairs.expire(2_000_000);
  assert.equal(h.pairs.pending, 2);
  assert.equal(h.counters.unpairedRequests, 1);
});

test('cap: the oldest unanswered request leaves one-sided and counted when one more arrives', () => {
  const h = harness({ maxPending: 3 });
  h.send('r0', 0);
  h.pairs.answer(h.pairs.nextUnanswered()!); // r0's response is in flight: not a victim
  h.send('r1', 1);
  h.send('r2', 2);
  h.send('r3', 3);
  assert.deepEqual(h.out, ['1:r1 -> (pair-not-found)']);
  assert.deepEqual(h.errors[0], { type: 'pair-not-found', msg: 'more than 3 requests waiting for a response' });
  assert.equal(h.pairs.pending, 3, 'never more than the cap');
  assert.equal(h.counters.unpairedRequests, 1);
  for (let i = 4; i < 1000; i++) h.send(`r${i}`, i);
  assert.equal(h.pairs.pending, 3);
  assert.equal(h.counters.unpairedRequests, 997);
});

test('orphans: a response with no request waiting is counted and not emitted', () => {
  const h = harness();
  h.reply('200 joined midway');
  h.reply('200 again');
  assert.deepEqual(h.out, []);
  assert.equal(h.counters.orphanResponses, 2);
  h.send('GET /after', 10);
  h.reply('200 after');
  assert.deepEqual(h.out, ['0:GET /after -> 200 after']);
});

test('close: complete pairs leave whole, the rest one-sided with why', () => {
  const h = harness();
  const done = h.pairs.request('GET /done', 0);
  h.pairs.answer(done);
  h.pairs.respond(done, '200'); // its request was cut by the close
  h.send('GET /waiting', 1);
  h.pairs.close('rst');
  assert.deepEqual(h.out, ['0:GET /done -> 200', '1:GET /waiting -> (connection)']);
  assert.deepEqual(h.errors, [null, { type: 'connection', msg: 'connection closed (rst) before the response' }]);
  const end = harness();
  end.send('GET /x', 0);
  end.pairs.close('end-of-capture');
  assert.deepEqual(end.errors, [{ type: 'connection', msg: 'capture ended before the response' }]);
  assert.equal(end.pairs.pending, 0);
});

/** A response started at `us` for the next unanswered request, completed at once. */
function replyAt(h: ReturnType<typeof harness>, res: string, us: number): void {
  const slot = h.pairs.nextUnanswered();
  if (slot === undefined) return h.pairs.orphan();
  h.pairs.answer(slot, us);
  h.pairs.respond(slot, res);
}

test('responses lost in a gap, client waits for each response: the requests before the last one sent leave marked lost', () => {
  const h = harness();
  h.send('GET /1', 10);
  replyAt(h, '200 1', 11);
  h.send('GET /2', 20); // its response falls in the gap
  h.send('GET /3', 30);
  h.pairs.responsesLost(31);
  replyAt(h, '200 3', 31);
  h.send('GET /4', 40);
  replyAt(h, '200 4', 41);
  assert.deepEqual(h.out, ['0:GET /1 -> 200 1', '1:GET /2 -> (dissection)', '2:GET /3 -> 200 3', '3:GET /4 -> 200 4']);
  assert.equal(h.errors[1]?.msg, 'response lost in a capture gap');
  assert.equal(h.counters.unpairedRequests, 1);
});

test('responses lost in a gap, pipelining client: the queue is left as it is (no guess)', () => {
  const h = harness();
  h.send('GET /1', 10);
  h.send('GET /2', 11);
  replyAt(h, '200 1', 12); // /2 was sent before this response began: pipelining
  h.send('GET /3', 13);
  h.pairs.responsesLost(20);
  replyAt(h, '200 2', 20);
  replyAt(h, '200 3', 21);
  assert.deepEqual(h.out, ['0:GET /1 -> 200 1', '1:GET /2 -> 200 2', '2:GET /3 -> 200 3']);
});
