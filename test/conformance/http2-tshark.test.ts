/**
 * Conformance with tshark on the public HTTP/2 and gRPC captures (test/fixtures/pcaps/http2): every
 * stream tshark reports (pdml_truth.py, "http2" kind: one record per TCP connection and stream id)
 * must be exactly one of our entries, with the same client, server, stream id, method, path,
 * status, gRPC status, service, method and message counts, and DATA byte sums (tshark sums `http2.length` of the DATA frames; ours is
 * `bodySize`, which is the same when no frame is padded), and we must emit no entry tshark does not
 * have. The h2c capture's stream 1 takes its request from the HTTP/1.1 upgrade request
 * (`request_via: "http/1.1-upgrade"`) and is one entry, not a 101 entry and an HTTP/2 one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** A tshark HTTP/2 stream (test/fixtures/pcaps/README.md). */
interface StreamTruth {
  readonly stream_id: number;
  readonly client_ip: string;
  readonly client_port: number;
  readonly server_ip: string;
  readonly server_port: number;
  readonly request_via: 'h2-headers' | 'http/1.1-upgrade';
  readonly method: string | null;
  readonly path: string | null;
  readonly status: number | null;
  readonly grpc_status: number | string | null;
  readonly request_data_bytes: number;
  readonly response_data_bytes: number;
  readonly is_grpc: boolean;
  readonly grpc_service: string | null;
  readonly grpc_method: string | null;
  readonly request_grpc_messages: number;
  readonly response_grpc_messages: number;
}

const dir = sharedPcapsDir();
const HTTP2_FILES = readIndex(dir)
  .filter((r) => r.protocol === 'http2')
  .map((r) => r.file);

function sameStream(t: StreamTruth, e: HttpEntry): boolean {
  return (
    e.http2?.streamId === t.stream_id &&
    e.src.ip === t.client_ip &&
    e.src.port === t.client_port &&
    e.dst.ip === t.server_ip &&
    e.dst.port === t.server_port
  );
}

/** What differs between tshark's stream and our entry ('' when nothing). */
function differences(t: StreamTruth, e: HttpEntry): string[] {
  const out: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    if (ours !== theirs) out.push(`${what} ${String(ours)}, tshark ${String(theirs)}`);
  };
  check('method', e.request.method, t.method);
  check('path', e.request.url, t.path);
  check('status', e.response?.status ?? null, t.status);
  check('request bodySize', e.request.bodySize, t.request_data_bytes);
  check('response bodySize', e.response?.bodySize ?? 0, t.response_data_bytes);
  check('httpVersion', e.response?.httpVersion ?? null, t.status === null ? null : 'HTTP/2.0');
  check('protocol', e.protocol.version, '2.0');
  if (t.request_via === 'h2-headers') check('request.headers[":path"]', e.request.headers[':path'], t.path);
  else check('request.httpVersion', e.request.httpVersion, 'HTTP/1.1');
  if (e.grpc !== undefined || t.is_grpc) {
    check('abbr', e.protocol.abbr, t.is_grpc ? 'gRPC' : 'HTTP/2');
    check('grpc.status', e.grpc?.status ?? null, t.grpc_status);
    check('grpc.service', e.grpc?.service ?? null, t.grpc_service);
    check('grpc.method', e.grpc?.method ?? null, t.grpc_method);
    check('grpc.requestMessageCount', e.grpc?.requestMessageCount ?? 0, t.request_grpc_messages);
    check('grpc.responseMessageCount', e.grpc?.responseMessageCount ?? 0, t.response_grpc_messages);
  }
  return out;
}

test('tshark conformance on HTTP/2 and gRPC captures: every stream exactly once, nothing more', async (t) => {
  assert.ok(HTTP2_FILES.length >= 6, 'the corpus lists the HTTP/2 captures');
  const summary: string[] = [];
  for (const file of HTTP2_FILES) {
    await t.test(file, async () => {
      const index = readIndex(dir).find((r) => r.file === file)!;
      const truth = readTruth<StreamTruth>(dir, index.truth);
      assert.ok(truth.length > 0, `${file}: tshark reports streams`);
      const { entries, result } = await readEntries([join(dir, file)]);
      assert.equal(result.stats.packets, index.packets, 'every frame read');
      const problems: string[] = [];
      const unused = new Set(entries);
      let matched = 0;
      for (const tx of truth) {
        const candidates = entries.filter((e) => sameStream(tx, e));
        if (candidates.length !== 1) {
          problems.push(`stream ${tx.stream_id} ${tx.method} ${tx.path}: ${candidates.length} entries`);
          continue;
        }
        const entry = candidates[0]!;
        unused.delete(entry);
        const diff = differences(tx, entry);
        if (diff.length > 0) problems.push(`stream ${tx.stream_id} ${tx.method} ${tx.path}: ${diff.join('; ')}`);
        else matched++;
      }
      for (const extra of unused) problems.push(`extra entry ${extra.id} ${extra.request.method} ${extra.request.url} -> ${extra.response?.status ?? 'none'}`);
      const line = `${file}: ${matched}/${truth.length} tshark streams matched, ${entries.length} entries`;
      summary.push(line);
      t.diagnostic(line);
      assert.deepEqual(problems, [], `${file} differs from tshark`);
      assert.equal(result.stats.protocols['http']?.lost ?? 0, 0, `${file}: no stream lost`);
    });
  }
  process.stdout.write(`# conformance summary\n${summary.map((l) => `#   ${l}`).join('\n')}\n`);
});

test('h2c upgrade: stream 1 is one entry, its request the HTTP/1.1 upgrade request and its response HTTP/2', async () => {
  const { entries } = await readEntries([join(dir, 'http2/h2c-upgrade-wireshark-wiki.pcap')]);
  const first = entries.find((e) => e.http2?.streamId === 1);
  assert.ok(first, 'stream 1 has an entry');
  assert.equal(entries.filter((e) => e.response?.status === 101).length, 0, 'no 101 entry');
  assert.equal(first.request.httpVersion, 'HTTP/1.1');
  assert.equal(first.request.headers['Upgrade'] ?? first.request.headers['upgrade'], 'h2c');
  assert.equal(first.response?.httpVersion, 'HTTP/2.0');
  assert.equal(first.response?.status, 200);
  assert.equal(first.response?.statusText, 'OK');
  assert.equal(first.id, '0-0', 'the upgrade request keeps its HTTP/1 entry id');
  const second = entries.find((e) => e.http2?.streamId === 3);
  assert.equal(second?.id, '0-1', 'the streams after it continue the numbering');
  assert.ok(first.elapsedTime > 0, 'response start minus request start');
});
