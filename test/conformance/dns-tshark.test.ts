/**
 * Conformance with tshark on the public DNS captures (test/fixtures/pcaps/dns): every query/response
 * pair tshark makes must be one of our entries, over the same transport between the same client and
 * server, with the same id, question name, type and class, rcode, section counts, and answers (name,
 * type, TTL and the data tshark shows for the type). Prints per file how many matched.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { typeName } from '../../src/remote-agent/dissect/dns/codes.ts';
import type { DnsEntry, DnsRecord } from '../../src/remote-agent/dissect/dns/entry.ts';
import { dissectDnsCapture } from '../helpers/dns-read.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** A tshark DNS transaction (pdml_truth.py, "dns" kind). */
interface TruthRecord {
  readonly transport: 'udp' | 'tcp';
  readonly frame_query: number | null;
  readonly time_query: number | null;
  readonly frame_response: number | null;
  readonly src_ip: string;
  readonly src_port: number;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly id: number;
  readonly opcode: number;
  readonly qname: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly rcode: number | null;
  readonly answer_count: number | null;
  readonly authority_count: number | null;
  readonly additional_count: number | null;
  readonly answers: readonly { name: string | null; type: string; ttl: number; data: string | null }[] | null;
}

/** Why a tshark pair may be missing or different, named per file; empty means 100% is required. */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

/** tshark's data field for a record of this type (pdml_truth.py ANS_DATA), from our record. */
function dataOf(r: DnsRecord): string | null {
  return r.ip ?? r.cname ?? r.ptr ?? r.ns ?? r.mx?.name ?? r.txts?.[0] ?? r.soa?.mname ?? r.srv?.name ?? null;
}

/** tshark writes ANY as "*"; other mnemonics are the IANA ones, as ours. */
function tsharkType(type: string): string {
  return type === '*' ? 'ANY' : type;
}

function differences(t: TruthRecord, e: DnsEntry): string[] {
  const out: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    if (ours !== theirs) out.push(`${what}: ours ${JSON.stringify(ours)}, tshark ${JSON.stringify(theirs)}`);
  };
  const q = e.request.questions[0];
  check('opcode', e.request.opCode, t.opcode === 0 ? 'Query' : `opcode ${t.opcode}`);
  check('question type', q?.type, typeName(t.qtype));
  check('question class', q?.class, t.qclass === 1 ? 'IN' : `CLASS${t.qclass}`);
  if (t.transport === 'udp' && t.time_query !== null) {
    // Over TCP tshark dates a message by the segment that completes it; we by its first byte.
    check('query time (ms)', e.timestamp, Math.floor(Math.round(t.time_query * 1e6) / 1000));
  }
  if (t.frame_response === null) {
    check('response', e.response, null);
    return out;
  }
  const r = e.response;
  if (r === null) return [...out, 'no response'];
  check('rcode', r.rcode, t.rcode);
  check('answers', r.answers.length, t.answer_count);
  check('authorities', r.authorities.length, t.authority_count);
  check('additionals', r.additionals.length, t.additional_count);
  (t.answers ?? []).forEach((a, i) => {
    const ours = r.answers[i];
    if (ours === undefined) return;
    // tshark 4.0 has no dns.resp.name for SRV records (it shows service, proto and name apart).
    if (a.name !== null) check(`answer ${i} name`, ours.name, a.name);
    check(`answer ${i} type`, ours.type, tsharkType(a.type));
    check(`answer ${i} ttl`, ours.ttl, a.ttl);
    if (a.data !== null) check(`answer ${i} data`, dataOf(ours), a.data);
  });
  return out;
}

const dir = sharedPcapsDir();
const DNS_FILES = readIndex(dir).filter((r) => r.protocol === 'dns');

test('tshark conformance on DNS captures', async (t) => {
  assert.ok(DNS_FILES.length >= 5, 'the corpus lists the DNS captures');
  const summary: string[] = [];
  for (const index of DNS_FILES) {
    await t.test(index.file, () => {
      const truth = readTruth<TruthRecord>(dir, index.truth);
      const { entries, stats } = dissectDnsCapture(join(dir, index.file));
      assert.equal(stats.packets, index.packets, 'every frame read');
      assert.equal(stats.internalErrors, 0, 'no internal errors');
      const unused = new Set(entries);
      const problems: string[] = [];
      let pairs = 0;
      let matched = 0;
      for (const tx of truth) {
        if (tx.frame_query === null) continue; // an answer without its query: not a pair
        pairs++;
        const entry = [...unused].find(
          (e) =>
            e.protocol.version === tx.transport &&
            e.src.ip === tx.src_ip &&
            e.src.port === tx.src_port &&
            e.dst.ip === tx.dst_ip &&
            e.dst.port === tx.dst_port &&
            e.request.id === tx.id &&
            e.request.questions[0]?.name === tx.qname,
        );
        if (entry === undefined) {
          problems.push(`missing ${tx.transport} id ${tx.id} ${tx.qname} (${tx.src_ip}:${tx.src_port})`);
          continue;
        }
        unused.delete(entry);
        const diff = differences(tx, entry);
        if (diff.length > 0) problems.push(`id ${tx.id} ${tx.qname}: ${diff.join('; ')}`);
        else matched++;
      }
      const line = `${index.file}: ${matched}/${pairs} tshark pairs matched, ${entries.length} entries`;
      summary.push(line);
      t.diagnostic(line);
      const exception = EXCEPTIONS[index.file];
      if (exception === undefined) {
        assert.deepEqual(problems, [], `${index.file} differs from tshark`);
        assert.equal(entries.length, pairs, 'no entry beyond tshark pairs');
        assert.equal(stats.undissected.datagrams['dns'] ?? 0, 0, 'no DNS datagram left undissected');
        assert.equal(stats.undissected.connections['dns'] ?? 0, 0, 'no DNS connection left undissected');
      } else {
        t.diagnostic(`${index.file}: exception: ${exception}; ${problems.join('; ')}`);
      }
    });
  }
  process.stdout.write(`# conformance summary\n${summary.map((l) => `#   ${l}`).join('\n')}\n`);
});
