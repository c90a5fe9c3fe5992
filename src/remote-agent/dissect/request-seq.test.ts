/**
 * The request's TCP sequence number (EntryMeta.requestSeq), from reassembly through the registry
 * and the HTTP/1 parser: it is the sequence number of the request line's first byte, whatever the
 * ISNs (wrap-around included), however the bytes are cut into segments, and whether the capture
 * saw the connection from its SYN or joined it at any later segment. Two captures of one
 * connection therefore name each call alike, which is what cross-pod de-duplication relies on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { newCaptureStats } from '../stats.ts';
import { TcpAssembler } from '../tcp/assembler.ts';
import { ACK, handshake, SegmentFeeder, type TestSegment } from '../tcp/test-streams.ts';
import { DEFAULT_DISSECT_OPTIONS } from './dissector.ts';
import type { HttpEntry } from './http1/entry.ts';
import { DissectorRegistry } from './registry.ts';

const PSH_ACK = 0x18;

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly status: number | null;
  readonly requestSeq: number | undefined;
}

/** Runs segments through reassembly, the registry and HTTP/1, as a capture pipeline does. */
function observe(segments: readonly TestSegment[]): Seen[] {
  const stats = newCaptureStats();
  const seen: Seen[] = [];
  const registry = new DissectorRegistry({
    options: DEFAULT_DISSECT_OPTIONS,
    stats,
    emit: (e, meta) => {
      const entry = e as HttpEntry;
      seen.push({ method: entry.request.method, url: entry.request.url, status: entry.response?.status ?? null, requestSeq: meta.requestSeq });
    },
  });
  const assembler = new TcpAssembler(registry, stats);
  new SegmentFeeder().feed(assembler, segments);
  assembler.closeAll(1e9);
  return seen;
}

interface Call {
  readonly method: string;
  readonly bodyBytes: number;
  readonly responseBytes: number;
  readonly chunked: boolean;
}

interface Conversation {
  /** Data segments after the handshake, in the order sent. */
  readonly segments: TestSegment[];
  /** Per call: its request line's sequence number and the index of its first segment. */
  readonly calls: Array<{ readonly method: string; readonly url: string; readonly seq: number; readonly firstSegment: number }>;
}

// Body text never holds an HTTP start line, so a capture joining inside a body cannot see one.
const bodyText = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => 'abcdefgh ij\nklmnop'[(i * 7 + seed) % 18]).join('');

function conversation(isnC: number, isnS: number, calls: readonly Call[], cuts: readonly number[]): Conversation {
  let cSeq = (isnC + 1) >>> 0;
  let sSeq = (isnS + 1) >>> 0;
  let cut = 0;
  const segments: TestSegment[] = [];
  const out: Conversation['calls'] = [];
  // Each message starts a segment (one write per message); inside it, segments are cut anywhere.
  const send = (from: 'c' | 's', text: string): void => {
    const bytes = Buffer.from(text, 'latin1');
    for (let off = 0; off < bytes.length; ) {
      const n = Math.min(bytes.length - off, cuts[cut++ % cuts.length]!);
      const data = bytes.subarray(off, off + n);
      if (from === 'c') {
        segments.push({ from, seq: cSeq, ack: sSeq, flags: PSH_ACK, data });
        cSeq = (cSeq + n) >>> 0;
      } else {
        segments.push({ from, seq: sSeq, ack: cSeq, flags: PSH_ACK, data });
        sSeq = (sSeq + n) >>> 0;
      }
      off += n;
    }
  };
  calls.forEach((call, i) => {
    const url = `/r/${i}?n=${call.bodyBytes}`;
    const body = bodyText(call.bodyBytes, i);
    out.push({ method: call.method, url, seq: cSeq, firstSegment: segments.length });
    send('c', `${call.method} ${url} HTTP/1.1\r\nHost: shop\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const answer = bodyText(call.responseBytes, i + 1);
    if (call.chunked) {
      send('s', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${answer.length.toString(16)}\r\n${answer}\r\n0\r\n\r\n`);
    } else {
      send('s', `HTTP/1.1 200 OK\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`);
    }
  });
  // The client acknowledges the last response, so a late capture knows it was received.
  segments.push({ from: 'c', seq: cSeq, ack: sSeq, flags: ACK });
  return { segments, calls: out };
}

const callArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  bodyBytes: fc.integer({ min: 0, max: 300 }),
  responseBytes: fc.integer({ min: 1, max: 300 }),
  chunked: fc.boolean(),
});
// ISNs anywhere, and often close enough to 2^32 that the connection wraps around.
const isnArb = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xfffffc00, max: 0xffffffff }));

test('requestSeq is the request line\'s sequence number, seen from the SYN or joined at any segment', () => {
  fc.assert(
    fc.property(
      isnArb,
      isnArb,
      fc.array(callArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.option(fc.nat(), { nil: undefined }),
      (isnC, isnS, calls, cuts, joinPick, retransmitPick) => {
        const conv = conversation(isnC, isnS, calls, cuts);
        const truth = new Map(conv.calls.map((c) => [`${c.method} ${c.url}`, c.seq]));

        // From the SYN: every call, each with its request line's sequence number.
        const whole = observe([...handshake(isnC, isnS), ...conv.segments]);
        assert.deepEqual(
          whole.map((s) => [s.method, s.url, s.requestSeq]),
          conv.calls.map((c) => [c.method, c.url, c.seq]),
        );

        // Joined at segment k (mid-message included), a segment seen twice (a retransmission).
        const k = joinPick % conv.segments.length;
        const view = conv.segments.slice(k);
        if (retransmitPick !== undefined) {
          const i = retransmitPick % view.length;
          view.splice(i + 1, 0, view[i]!);
        }
        const late = observe(view);
        for (const s of late) {
          const key = `${s.method} ${s.url}`;
          assert.ok(truth.has(key), `joined at segment ${k}: ${key} is not a call that was made`);
          assert.equal(s.requestSeq, truth.get(key), `joined at segment ${k}: ${key}`);
        }
        // Joined between two calls: every later call is seen whole, with its response. (Joined
        // inside a response, the parser of that direction resynchronises at the next status line
        // that starts a line, which may be later: a limit of any mid-stream capture.)
        if (conv.calls.some((c) => c.firstSegment === k)) {
          const after = conv.calls.filter((c) => c.firstSegment >= k).map((c) => `${c.method} ${c.url}`);
          const complete = late.filter((s) => s.status === 200).map((s) => `${s.method} ${s.url}`);
          assert.deepEqual(complete, after, `joined at segment ${k}`);
        }
      },
    ),
    { numRuns: 1500 },
  );
});
