import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4, message, query, response, T } from '../../../../test/helpers/dns-wire.ts';
import { recorder } from '../http1/testing.ts';
import { dnsDescriptor } from './descriptor.ts';
import type { DnsEntry } from './entry.ts';
import { DnsExchanges } from './exchanges.ts';

/** Entries made the way the dissector makes them: real messages through the pair stage. */
function exchange(...messages: [dir: 0 | 1, bytes: Uint8Array][]): DnsEntry[] {
  const r = recorder();
  const x = new DnsExchanges(r.ctx, { idPrefix: 'u0', transport: 'udp', a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.53', port: 53 } });
  messages.forEach(([dir, bytes], i) => x.message(dir, bytes, 1_000_000 + i * 1000));
  x.close({ type: 'timeout', msg: 'no response before the capture ended' });
  return r.entries as unknown as DnsEntry[];
}

const [ok] = exchange([0, query(1, 'api.shop.test')], [1, response(1, 'api.shop.test', T.A, [{ name: 'api.shop.test', type: T.A, rdata: ipv4('10.1.2.3') }])]);
const [nx] = exchange([0, query(2, 'nope.shop.test', T.AAAA)], [1, response(2, 'nope.shop.test', T.AAAA, [], 3)]);
const [lost] = exchange([0, query(3, 'lost.shop.test', T.MX)]);
const [tc] = exchange([0, query(4, 'big.shop.test', T.TXT)], [1, message({ id: 4, response: true, flags: 0x0380, questions: [{ name: 'big.shop.test', type: T.TXT }] })]);

test('row: verb is the opcode, target the question, outcome the rcode; errors are rcode != 0 or no answer', () => {
  assert.deepEqual(dnsDescriptor.summarize(ok!), { verb: 'Query', target: 'api.shop.test A', outcome: 'NOERROR', outcomeClass: 'success', isError: false });
  assert.deepEqual(dnsDescriptor.summarize(nx!), { verb: 'Query', target: 'nope.shop.test AAAA', outcome: 'NXDOMAIN', outcomeClass: 'client-error', isError: true });
  assert.deepEqual(dnsDescriptor.summarize(lost!), { verb: 'Query', target: 'lost.shop.test MX', outcome: '', outcomeClass: 'none', isError: true });
  assert.equal(dnsDescriptor.summarize(tc!).outcome, 'NOERROR (truncated)');
  assert.equal(nx!.response?.code, 'Non-Existent Domain', "Kubeshark's text stays in response.code");
});

test('detail: header, questions and one table per non-empty record section, with KFL selectors', () => {
  const sections = dnsDescriptor.represent(ok!);
  assert.deepEqual(sections.map((s) => s.title), ['DNS', 'Questions', 'Answers']);
  const [dns, questions, answers] = sections;
  assert.ok(dns?.kind === 'table' && questions?.kind === 'table' && answers?.kind === 'table');
  assert.deepEqual(dns.rows.find((r) => r.label === 'Response code'), { label: 'Response code', value: 'NOERROR (No Error)', selector: 'response.code' });
  assert.deepEqual(dns.rows.find((r) => r.label === 'Response size'), { label: 'Response size', value: '60 B' });
  assert.deepEqual(questions.rows, [{ label: 'api.shop.test', value: 'IN A', selector: 'request.questions[0].name' }]);
  assert.deepEqual(answers.rows, [{ label: 'api.shop.test', value: '300 IN A 10.1.2.3', selector: 'response.answers[0].name' }]);
  assert.deepEqual(dnsDescriptor.represent(lost!).map((s) => s.title), ['DNS', 'Questions']);
});

test('dedup key: id and question (case-insensitive); edge label; KFL word and variables', () => {
  assert.equal(dnsDescriptor.dedupKey(ok!), '1|api.shop.test A IN');
  assert.equal(dnsDescriptor.edgeLabel(ok!), 'DNS');
  assert.equal(dnsDescriptor.kfl.words[0]!.matches(ok!.protocol), true);
  assert.equal(dnsDescriptor.kfl.words[0]!.matches({ name: 'http', version: '1.1', abbr: 'HTTP' }), false);
  const value = (name: string, e: unknown): unknown => {
    const v = dnsDescriptor.kfl.variables.find((x) => x.name === name)!;
    return v.kind === 'computed' ? v.get(e) : undefined;
  };
  assert.deepEqual(value('dns_questions', ok), ['api.shop.test']);
  assert.deepEqual(value('dns_answers', ok), ['10.1.2.3']);
  assert.deepEqual(value('dns_question_types', nx), ['AAAA']);
  assert.deepEqual([value('dns_request', lost), value('dns_response', lost), value('dns_response', ok)], [true, false, true]);
  assert.deepEqual([value('dns_request_length', ok), value('dns_response_length', ok), value('dns_total_size', ok)], [31, 60, 91]);
  const http = { protocol: { name: 'http' }, request: { method: 'GET' } };
  assert.deepEqual([value('dns_questions', http), value('dns_request', http), value('dns_total_size', http)], [[], false, 0], 'defaults elsewhere');
});

test('redaction leaves DNS as it is, in a new object', () => {
  const redacted = dnsDescriptor.redact(ok!, { headers: (h) => h, body: (_m, t) => t, url: (u) => u, params: (p) => ({ ...p }) });
  assert.notEqual(redacted, ok);
  assert.deepEqual(redacted, ok);
});
