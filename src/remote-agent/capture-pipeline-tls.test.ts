/**
 * The pipeline's two sources side by side (agent --tls): packets of real captures and TLS probe
 * records of the same connections. A connection is shown once: its plaintext as entries, never also
 * counted as undissected TLS; ids of the two sources never collide.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { VENDORED_PCAPS_DIR } from '../../test/helpers/shared-pcaps.ts';
import { CapturePipeline } from './capture-pipeline.ts';
import { CaptureFileParser } from './source/capture-file.ts';
import { newCaptureStats } from './stats.ts';
import type { TlsEvent, TlsSocketTuple } from './tls/events.ts';
import { ProcSocketLookup } from './tls/proc-sockets.ts';

/**
 * TLS 1.3 from 192.168.20.65 to 162.159.138.85:443: two whole connections (ports 51066, 51071)
 * and the last three segments of an earlier one (51053), each guessed TLS.
 */
const TLS_PCAP = join(VENDORED_PCAPS_DIR, 'tls', 'tls13-ech-two-conns.pcap');
/** One HTTP/1.1 exchange (GET /gzip), the packet pipeline's entry 0-0. */
const HTTP_PCAP = join(VENDORED_PCAPS_DIR, 'http', 'get-gzip-json.pcap');

const CLIENT_OF_FIRST: TlsSocketTuple = { family: 4, localIp: '192.168.20.65', localPort: 51066, remoteIp: '162.159.138.85', remotePort: 443 };

function setup(tls: boolean) {
  const stats = newCaptureStats();
  const entries: Entry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(e) }, tls ? { tls: { sockets: new ProcSocketLookup() } } : {});
  const parser = new CaptureFileParser(pipeline, stats);
  const replay = (file: string): void => {
    parser.push(readFileSync(file));
    parser.end();
  };
  return { stats, entries, pipeline, replay };
}

/** One exchange as the hooked client's TLS library saw it (the same wall-clock era as the capture). */
function plaintextExchange(tuple: TlsSocketTuple, tsUs: number): TlsEvent[] {
  const base = { pid: process.pid, tid: process.pid, library: 'openssl' as const, connId: 0x55aa00n, fd: -1, tuple };
  const request = new TextEncoder().encode('GET /secret HTTP/1.1\r\nHost: example.test\r\n\r\n');
  const response = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  return [
    { kind: 'data', tsUs, direction: 'write', streamOffset: 0, bytes: request, ...base },
    { kind: 'data', tsUs: tsUs + 900, direction: 'read', streamOffset: 0, bytes: response, ...base },
  ];
}

test('without probes, packet capture counts the three TLS connections as undissected TLS', () => {
  const { stats, pipeline, replay } = setup(false);
  replay(TLS_PCAP);
  pipeline.finish();
  assert.deepEqual({ ...stats.undissected.connections }, { tls: 3 });
});

test('a connection the probes show is not also counted as undissected TLS, whichever source comes first', () => {
  for (const order of ['packets first', 'plaintext first'] as const) {
    const { stats, entries, pipeline, replay } = setup(true);
    const plaintext = plaintextExchange(CLIENT_OF_FIRST, 1_700_000_000_000_000);
    if (order === 'plaintext first') pipeline.tlsEvents(plaintext);
    replay(TLS_PCAP);
    if (order === 'packets first') pipeline.tlsEvents(plaintext);
    pipeline.finish();
    // The other connections were not hooked: still counted, once each.
    assert.deepEqual({ ...stats.undissected.connections }, { tls: 2 }, order);
    assert.equal(entries.length, 1, order);
    const [e] = entries;
    assert.deepEqual([e!.id, e!.tls, e!.src.ip, e!.src.port, e!.dst.port, stats.tls.connections], ['t0-0', true, '192.168.20.65', 51066, 443, 1], order);
  }
});

test('packet and plaintext entries in one capture: ids never collide, only plaintext ones are tls', () => {
  const { entries, pipeline, replay } = setup(true);
  pipeline.tlsEvents(plaintextExchange(CLIENT_OF_FIRST, 1_363_624_631_000_000));
  replay(HTTP_PCAP);
  pipeline.finish();
  const seen = entries.map((e) => `${e.id} ${e.tls}`).sort();
  assert.deepEqual(seen, ['0-0 false', 't0-0 true']);
});
