/**
 * Bugs are not bad input: a real TypeError in a dissector, met on a real capture read the way
 * `kubectl shark read` reads it, is counted in `internalErrors` (not as malformed), reported once
 * with its stack, and drops only the connections it happened on; a ProtocolViolation a dissector
 * throws is bad input and counted as such.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatSummary } from '../../cmd/read.ts';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { readCaptures, type ReadOptions, type ReadResult } from '../../src/pipeline/read-capture.ts';
import type { Dissector, DissectorStream } from '../../src/remote-agent/dissect/dissector.ts';
import { DATAGRAM_SNIFFERS, type ProtocolSniffer } from '../../src/remote-agent/dissect/guess/index.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';
import { ProtocolViolation } from '../../src/remote-agent/thrown-errors.ts';
import type { Direction } from '../../src/remote-agent/tcp/stream.ts';
import { readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const CAPTURE = 'http/espn-browse-multiconn.pcapng';
/** The connections to this host meet the injected failure; the others must not notice. */
const CURSED_HOST = 'a.espncdn.com';
const CURSED_BYTES = Buffer.from(`Host: ${CURSED_HOST}\r\n`, 'latin1');

/**
 * The HTTP/1 dissector with a failure on client bytes naming CURSED_HOST: `fail()` is called there,
 * before the bytes reach the real parser.
 */
function cursedHttp1(fail: () => void): Dissector {
  return {
    id: 'http/1-cursed',
    protocol: 'http',
    ports: http1Dissector.ports,
    sniff: (prefix, direction) => http1Dissector.sniff(prefix, direction),
    open(conn, ctx): DissectorStream {
      const inner = http1Dissector.open(conn, ctx);
      return {
        data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
          if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(CURSED_BYTES)) fail();
          inner.data(dir, bytes, tsUs);
        },
        gap: (dir, lost, tsUs) => inner.gap(dir, lost, tsUs),
        end: (dir, tsUs) => inner.end(dir, tsUs),
        close: (reason, tsUs) => inner.close(reason, tsUs),
        oldestPendingUs: () => inner.oldestPendingUs(),
      };
    },
  };
}

/** A genuine bug: a lookup table that misses a key, dereferenced without a check. */
function typeErrorBug(): void {
  const sizes = new Map<string, { bytes: number }>();
  sizes.get(CURSED_HOST)!.bytes++;
}

async function read(options: ReadOptions): Promise<{ entries: HttpEntry[]; result: ReadResult }> {
  const file = join(sharedPcapsDir(), CAPTURE);
  const entries: HttpEntry[] = [];
  const result = await readCaptures([{ label: file, chunks: createReadStream(file) }], (e) => isHttpEntry(e) && entries.push(e), options);
  return { entries, result };
}

const hostOf = (e: HttpEntry): string => Object.entries(e.request.headers).find(([name]) => name.toLowerCase() === 'host')?.[1] ?? '';
// The whole entry: the same connections are opened in both runs, so even ids and sizes must agree.
const keyOf = (e: HttpEntry): string => JSON.stringify(e);

/** tshark's count of the capture's TCP connections to CURSED_HOST. */
function cursedConnections(): number {
  const truth = readTruth<{ host: string; tcp_stream: number }>(sharedPcapsDir(), CAPTURE.replace(/\.pcapng$/, '.truth.json'));
  return new Set(truth.filter((r) => r.host === CURSED_HOST).map((r) => r.tcp_stream)).size;
}

test('a TypeError in a dissector is an internal error: counted apart from malformed, reported once with its stack, other connections unharmed', async () => {
  const clean = await read({});
  const cursed = await read({ dissectors: [cursedHttp1(typeErrorBug)] });
  const connections = cursedConnections();
  assert.ok(connections >= 2, `the capture has ${connections} connections to ${CURSED_HOST}: the test needs two to see one report for several errors`);

  const stats = cursed.result.stats;
  assert.equal(stats.internalErrors, connections, 'one internal error per connection: the first drops it, its later bytes go nowhere');
  assert.equal(clean.result.stats.internalErrors, 0);
  // Not bad input: the malformed and protocol-violation counters are the clean run's.
  assert.equal(stats.malformed, clean.result.stats.malformed);
  assert.equal(stats.dissectionErrors, clean.result.stats.dissectionErrors);

  const reports = cursed.result.warnings.filter((w) => w.code === 'INTERNAL_ERROR');
  assert.equal(reports.length, 1, `one report for one throw site: ${JSON.stringify(reports)}`);
  const message = reports[0]!.message;
  assert.match(message, /^internal error \(a bug: please report\) in stream handler data: TypeError: /);
  assert.match(message, / \| at typeErrorBug \(.*internal-errors\.test\.ts:\d+:\d+\)/, 'the stack names the throw site');
  assert.doesNotMatch(message, /[\u0000-\u001f\u007f-\u009f]/, 'one line, no control characters');
  assert.match(formatSummary(stats), new RegExp(`, ${connections} internal errors \\(a bug: please report\\)`));
  assert.doesNotMatch(formatSummary(clean.result.stats), /internal errors/);

  // The capture went on: every entry of the other connections is there, the same as without the bug.
  const others = (entries: HttpEntry[]): string[] => entries.filter((e) => hostOf(e) !== CURSED_HOST).map(keyOf).sort();
  assert.ok(others(clean.entries).length >= 20);
  assert.deepEqual(others(cursed.entries), others(clean.entries));
  assert.equal(cursed.entries.filter((e) => hostOf(e) === CURSED_HOST).length, 0, 'the cursed connections were dropped at their first request');
});

test('a ProtocolViolation thrown by a dissector is bad input: a dissection error, no internal error, no report', async () => {
  const clean = await read({});
  const violating = await read({
    dissectors: [
      cursedHttp1(() => {
        throw new ProtocolViolation('http/1-cursed', `no requests to ${CURSED_HOST} expected`);
      }),
    ],
  });
  const stats = violating.result.stats;
  assert.equal(stats.internalErrors, 0);
  assert.equal(stats.dissectionErrors, clean.result.stats.dissectionErrors + cursedConnections());
  assert.equal(stats.malformed, clean.result.stats.malformed);
  assert.deepEqual(violating.result.warnings.filter((w) => w.code === 'INTERNAL_ERROR'), []);
  assert.doesNotMatch(formatSummary(stats), /internal errors/);
});

test('a protocol guess that throws on a UDP flow is an internal error, reported once; the flow is counted as unknown, the rest of the capture is named as before', async () => {
  const file = join(import.meta.dirname, '../fixtures/undissected/dns.pcap');
  const readDns = async (datagramSniffers?: readonly ProtocolSniffer[]): Promise<ReadResult> =>
    // Without the DNS datagram dissector: the flows go to the guess, the stage under test.
    readCaptures([{ label: file, chunks: createReadStream(file) }], () => {}, { datagramDissectors: [], ...(datagramSniffers === undefined ? {} : { datagramSniffers }) });
  const clean = await readDns();
  const dnsFlows = clean.stats.undissected.udpFlows['dns'] ?? 0;
  assert.ok(dnsFlows >= 1, `the DNS capture has ${dnsFlows} UDP flows: the test needs one`);
  // A sniffer with a real bug on the first flow only: it keeps state it never set up for the rest.
  let flowsSeen = 0;
  const buggy: ProtocolSniffer = {
    ...DATAGRAM_SNIFFERS[0]!,
    sniff(prefix, direction) {
      flowsSeen++;
      if (flowsSeen === 1) typeErrorBug();
      return DATAGRAM_SNIFFERS[0]!.sniff(prefix, direction);
    },
  };
  const cursed = await readDns([buggy]);
  assert.equal(cursed.stats.internalErrors, 1);
  assert.equal(clean.stats.internalErrors, 0);
  const reports = cursed.warnings.filter((w) => w.code === 'INTERNAL_ERROR');
  assert.equal(reports.length, 1);
  assert.match(reports[0]!.message, /^internal error \(a bug: please report\) in udp datagram guess: TypeError: /);
  assert.equal(cursed.stats.undissected.udpFlows['unknown'], 1, 'the flow the bug met is unknown');
  assert.equal(cursed.stats.undissected.udpFlows['dns'] ?? 0, dnsFlows - 1, 'the other flows are still named');
  assert.deepEqual(cursed.stats.undissected.connections, clean.stats.undissected.connections, 'DNS over TCP is still named');
});
