/**
 * Conformance with tshark on public HTTP/1.x captures (shared/pcaps): every request/response pair
 * that tshark makes must appear among our entries with the same client, server, method, URI and
 * status, and the same body sizes where tshark reports them. Prints per file how many matched.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry } from '../../src/model/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** A tshark HTTP record (pdml_truth.py, "http" kind) or WebSocket handshake ("websocket" kind). */
interface TruthRecord {
  readonly kind?: string;
  readonly src_ip?: string;
  readonly src_port?: number;
  readonly dst_ip?: string;
  readonly dst_port?: number;
  readonly client_ip?: string;
  readonly client_port?: number;
  readonly server_ip?: string;
  readonly server_port?: number;
  readonly method: string | null;
  readonly uri: string | null;
  readonly status: number | null;
  readonly request_body_size?: number | null;
  readonly response_body_size?: number | null;
  readonly response_body_decoded_size?: number | null;
}

interface Transaction {
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  readonly method: string;
  readonly uri: string;
  readonly status: number | null;
  readonly record: TruthRecord;
}

function toTransaction(r: TruthRecord): Transaction | undefined {
  if (r.method === null || r.method === undefined) return undefined; // tshark saw only a response
  if (r.kind !== undefined && r.kind !== 'handshake') return undefined; // WebSocket data frames
  return {
    clientIp: (r.client_ip ?? r.src_ip)!,
    clientPort: (r.client_port ?? r.src_port)!,
    serverIp: (r.server_ip ?? r.dst_ip)!,
    serverPort: (r.server_port ?? r.dst_port)!,
    method: r.method,
    uri: r.uri ?? '',
    status: r.status,
    record: r,
  };
}

function sameExchange(t: Transaction, e: HttpEntry): boolean {
  return (
    e.src.ip === t.clientIp &&
    e.src.port === t.clientPort &&
    e.dst.ip === t.serverIp &&
    e.dst.port === t.serverPort &&
    e.request.method === t.method &&
    e.request.url === t.uri
  );
}

/** Why a tshark pair may be missing or different, named per file; empty means 100% is required. */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

const dir = sharedPcapsDir();
const HTTP1_FILES = readIndex(dir)
  .filter((r) => r.protocol === 'http' || r.protocol === 'websocket')
  .map((r) => r.file);

test('tshark conformance on HTTP/1.x captures', async (t) => {
  assert.ok(HTTP1_FILES.length >= 11, 'the corpus lists the HTTP/1.x captures');
  const summary: string[] = [];
  for (const file of HTTP1_FILES) {
    await t.test(file, async () => {
      const index = readIndex(dir).find((r) => r.file === file)!;
      const truth = readTruth<TruthRecord>(dir, index.truth).map(toTransaction).filter((x) => x !== undefined);
      // The HTTP entries: the WebSocket messages after an upgrade are websocket-tshark.test.ts's business.
      const { entries, result } = await readEntries([join(dir, file)]);
      assert.equal(result.stats.packets, index.packets, 'every frame read');
      const unused = new Set(entries);
      const problems: string[] = [];
      const unpairedByTshark: string[] = [];
      let matched = 0;
      for (const tx of truth) {
        const candidates = [...unused].filter((e) => sameExchange(tx, e));
        const entry = candidates.find((e) => (e.response?.status ?? null) === tx.status) ?? candidates[0];
        if (!entry) {
          problems.push(`missing ${tx.method} ${tx.uri} -> ${tx.status} (${tx.clientIp}:${tx.clientPort})`);
          continue;
        }
        unused.delete(entry);
        if (tx.status === null) {
          // tshark did not pair this request (its response lost a segment, so tshark's reassembly
          // never completed it). Not a tshark pair: we only require the request to be there, and
          // whatever we report for the response must say it is incomplete.
          unpairedByTshark.push(`${tx.method} ${tx.uri} -> ours ${entry.response?.status ?? 'none'} (${entry.error?.msg ?? 'no error'})`);
          if (entry.response !== null) assert.ok(entry.error !== null, `${tx.uri}: a response tshark could not reassemble is marked incomplete`);
          continue;
        }
        const status = entry.response?.status ?? null;
        if (status !== tx.status) {
          problems.push(`${tx.method} ${tx.uri}: status ${status}, tshark ${tx.status}`);
          continue;
        }
        const r = tx.record;
        if (entry.response && typeof r.response_body_size === 'number' && entry.response.bodySize !== r.response_body_size) {
          problems.push(`${tx.method} ${tx.uri}: response bodySize ${entry.response.bodySize}, tshark ${r.response_body_size}`);
          continue;
        }
        if (entry.response && typeof r.response_body_decoded_size === 'number' && entry.response.content.size !== r.response_body_decoded_size) {
          problems.push(`${tx.method} ${tx.uri}: content.size ${entry.response.content.size}, tshark ${r.response_body_decoded_size}`);
          continue;
        }
        if (typeof r.request_body_size === 'number' && entry.request.bodySize !== r.request_body_size) {
          problems.push(`${tx.method} ${tx.uri}: request bodySize ${entry.request.bodySize}, tshark ${r.request_body_size}`);
          continue;
        }
        matched++;
      }
      const pairs = truth.length - unpairedByTshark.length;
      const line =
        `${file}: ${matched}/${pairs} tshark pairs matched, ${entries.length} entries` +
        (unpairedByTshark.length > 0 ? `; requests tshark left unpaired: ${unpairedByTshark.join(', ')}` : '');
      summary.push(line);
      t.diagnostic(line);
      const exception = EXCEPTIONS[file];
      if (exception === undefined) {
        assert.deepEqual(problems, [], `${file} differs from tshark`);
      } else {
        t.diagnostic(`${file}: exception: ${exception}; ${problems.join('; ')}`);
      }
    });
  }
  process.stdout.write(`# conformance summary\n${summary.map((l) => `#   ${l}`).join('\n')}\n`);
});

test('HTTP/1.1 upgrade to h2c: handed to HTTP/2 (no 101 entry), and the HTTP/2 that follows is not parsed as HTTP/1', async () => {
  const { entries, result } = await readEntries([join(dir, 'http2/h2c-upgrade-wireshark-wiki.pcap')]);
  // http2-tshark.test.ts checks the HTTP/2 entries; here: the upgrade request is stream 1's, once.
  assert.deepEqual(
    entries.map((e) => [e.request.method, e.request.url, e.response?.status, e.protocol.version]),
    [
      ['GET', '/robots.txt', 200, '2.0'],
      ['GET', '/humans.txt', 404, '2.0'],
    ],
  );
  assert.equal(entries[0]!.src.ip, '10.9.0.2');
  assert.equal(result.stats.dissectionErrors, 0);
});
