/**
 * Never a wrong header, on real HPACK (Huffman strings, dynamic tables): every HTTP/2 capture of
 * the corpus is read again joined midway (its first k packets dropped, for every k) and with one
 * packet lost (each packet in turn). Whatever we emit then must agree with tshark's truth for the
 * whole capture (method, path, status and grpc-status of the same stream); what we cannot read is counted lost,
 * not guessed. A stream tshark does not have is never invented.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { readCaptures } from '../../src/pipeline/read-capture.ts';
import { assertNoInternalErrors } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { joinCapture, splitCapture } from '../robustness/capture-records.ts';

interface StreamTruth {
  readonly stream_id: number;
  readonly request_via: string;
  readonly client_port: number;
  readonly server_port: number;
  readonly method: string | null;
  readonly path: string | null;
  readonly status: number | null;
  readonly grpc_status: number | string | null;
}

const dir = sharedPcapsDir();
const FILES = readIndex(dir).filter((r) => r.protocol === 'http2');

async function read(bytes: Uint8Array): Promise<{ entries: HttpEntry[]; lost: number }> {
  const all: Entry[] = [];
  const result = await readCaptures([{ label: 'cut', chunks: (async function* () { yield bytes; })() }], (e) => all.push(e));
  assertNoInternalErrors(result, 'a cut capture');
  return { entries: all.filter(isHttpEntry), lost: result.stats.protocols['http']?.lost ?? 0 };
}

/** What in `entries` disagrees with the truth (a stream the truth lacks, a different field). */
function wrong(entries: readonly HttpEntry[], truth: readonly StreamTruth[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.http2 === undefined) {
      // The h2c upgrade request, when its 101 was lost: an HTTP/1 request, unanswered.
      const upgrade = truth.find((x) => x.request_via === 'http/1.1-upgrade' && x.client_port === e.src.port);
      if (upgrade === undefined || e.request.method !== upgrade.method || e.request.url !== upgrade.path || e.response !== null) out.push(`${e.id}: an HTTP/1 entry ${e.request.method} ${e.request.url}`);
      continue;
    }
    const t = truth.find((x) => x.stream_id === e.http2!.streamId && x.client_port === e.src.port && x.server_port === e.dst.port);
    if (t === undefined) {
      out.push(`${e.id}: stream ${e.http2.streamId} that tshark does not have`);
      continue;
    }
    if (e.request.method !== t.method || e.request.url !== t.path) out.push(`${e.id}: ${e.request.method} ${e.request.url}, tshark ${t.method} ${t.path}`);
    if (e.response !== null && e.response.status !== t.status) out.push(`${e.id}: status ${e.response.status}, tshark ${t.status}`);
    const grpcStatus = e.grpc?.status ?? null;
    if (grpcStatus !== null && grpcStatus !== t.grpc_status) out.push(`${e.id}: grpc-status ${grpcStatus}, tshark ${t.grpc_status}`);
  }
  return out;
}

test('joined midway or with a packet lost: nothing we emit disagrees with tshark; the rest is counted lost', async (t) => {
  for (const index of FILES) {
    await t.test(index.file, async () => {
      const truth = readTruth<StreamTruth>(dir, index.truth);
      const split = splitCapture(new Uint8Array(readFileSync(join(dir, index.file))));
      assert.ok(split, 'a pcap or pcapng');
      const n = split.records.length;
      const problems: string[] = [];
      let emitted = 0;
      let lost = 0;
      for (let k = 1; k < n; k++) {
        const joined = await read(joinCapture(split.prefix, split.records.slice(k)));
        problems.push(...wrong(joined.entries, truth).map((p) => `first ${k} packets dropped: ${p}`));
        const holed = await read(joinCapture(split.prefix, [...split.records.slice(0, k), ...split.records.slice(k + 1)]));
        problems.push(...wrong(holed.entries, truth).map((p) => `packet ${k} dropped: ${p}`));
        emitted += joined.entries.length + holed.entries.length;
        lost += joined.lost + holed.lost;
      }
      t.diagnostic(`${index.file}: ${2 * (n - 1)} cut captures, ${emitted} entries all agreeing with tshark, ${lost} streams counted lost`);
      assert.deepEqual(problems, []);
      assert.ok(emitted > 0, 'cut captures still give entries');
    });
  }
});
