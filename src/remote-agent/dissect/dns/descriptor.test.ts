import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4, message, query, response, T } from '../../../../test/helpers/dns-wire.ts';
import { recorder } from '../../../../test/helpers/http1-connection.ts';
import type { PayloadRedactor } from '../../../model/protocol-descriptor.ts';
import { dnsDescriptor } from './descriptor.ts';
import type { DnsEntry } from './entry.ts';
import { DnsExchanges } from './exchanges.ts';

/** Entries made the way the dissector makes them: real messages through the pair stage. */
function exchange(...messages: [dir: 0 | 1, bytes: Uint8Array][]): DnsEntry[] {
  const r = recorder();
  const x = new DnsExchanges(r.ctx, { idPrefix: 'u0', transport: 'udp', a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.53', port: 53 } });
  messages.forEach(([dir, bytes], i) => x.message(dir, bytes, 1_000_000 + i * 1000));
  x.close({ type: 'timeout', msg: 'no response before the capture ended' });
  return r.all as unknown as DnsEntry[];
}

const [ok] = exchange([0, query(1, 'api.shop.test')], [1, response(1, 'api.shop.test', T.A, [{ name: 'api.shop.test', type: T.A, rdata: ipv4('10.1.2.3') }])]);
const [nx] = exchange([0, query(2, 'nope.shop.test', T.AAAA)], [1, response(2, 'nope.shop.test', T.AAAA, [], 3)]);
const [lost] = exchange([0, query(3, 'lost.shop.test', T.MX)]);
const [tc] = exchange([0, query(4, 'big.shop.test', T.TXT)], [1, message({ id: 4, response: true, flags: 0x0380, questions: [{ name: 'big.shop.test', type: T.TXT }] })]);

const row = (e: DnsEntry | undefined) => {
  const { verb, target, outcome, outcomeClass, isError } = dnsDescriptor.summarize(e!);
  return { verb, target, outcome, outcomeClass, isError };
};

test('row: verb is the opcode, target the question, outcome the rcode; errors are rcode != 0 or no answer', () => {
  assert.deepEqual(row(ok), { verb: 'Query', target: 'api.shop.test A', outcome: 'NOERROR', outcomeClass: 'success', isError: false });
  assert.deepEqual(row(nx), { verb: 'Query', target: 'nope.shop.test AAAA', outcome: 'NXDOMAIN', outcomeClass: 'client-error', isError: true });
  assert.deepEqual(row(lost), { verb: 'Query', target: 'lost.shop.test MX', outcome: '', outcomeClass: 'none', isError: true });
  assert.equal(dnsDescriptor.summarize(tc!).outcome, 'NOERROR (truncated)');
  assert.equal(nx!.response?.code, 'Non-Existent Domain', "Kubeshark's text stays in response.code");
});

test('detail: a heading per side and tables per section (empty ones are not drawn), with KFL selectors', () => {
  const sections = dnsDescriptor.represent(ok!);
  assert.deepEqual(sections.map((s) => `${s.kind}:${s.title}${s.kind === 'table' ? `(${s.rows.length})` : ''}`), [
    'heading:Query', 'table:Header(3)', 'table:Questions(1)', 'table:Records(0)', 'table:Additionals(0)',
    'heading:Response', 'table:Header(2)', 'table:Answers(1)', 'table:Authorities(0)', 'table:Additionals(0)',
  ]);
  assert.deepEqual(sections[0], { kind: 'heading', title: 'Query', text: 'Query api.shop.test A' });
  assert.deepEqual(sections[5], { kind: 'heading', title: 'Response', text: 'NOERROR (No Error)', outcomeClass: 'success' });
  const table = (i: number) => {
    const s = sections[i];
    assert.ok(s?.kind === 'table');
    return s.rows;
  };
  assert.deepEqual(table(2), [{ label: 'api.shop.test', value: 'IN A', selector: 'request.questions[0].name' }]);
  assert.deepEqual(table(7), [{ label: 'api.shop.test', value: '300 IN A 10.1.2.3', selector: 'response.answers[0].name' }]);
  assert.deepEqual(dnsDescriptor.represent(lost!).at(-1), { kind: 'heading', title: 'Response', text: 'no response', outcomeClass: 'server-error', absent: true });
  assert.equal(dnsDescriptor.represent(tc!)[5]?.kind === 'heading' && dnsDescriptor.represent(tc!)[5]?.title, 'Response');
});

test('row queries select the same verb, question and outcome', () => {
  const row = dnsDescriptor.summarize(nx!);
  assert.equal(row.verbQuery, 'dns and request.opCode == "Query"');
  assert.equal(row.targetQuery, 'dns and request.questions[0].name == "nope.shop.test" and request.questions[0].type == "AAAA"');
  assert.equal(row.outcomeQuery, 'dns and response.code == "Non-Existent Domain"');
  assert.equal(dnsDescriptor.summarize(lost!).outcomeQuery, undefined);
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
  assert.deepEqual([value('dns_questions', http), value('dns_request', http), value('dns_total_size', http)], [null, null, null], 'nil elsewhere');
});

test('redaction leaves DNS as it is', () => {
  const before = JSON.stringify(ok);
  const redactor: PayloadRedactor = {
    redacted: '[REDACTED]',
    redactField: () => assert.fail('no DNS field is redacted'),
    forRequestTarget: () => redactor,
    headers: (h) => ({ ...h }),
    body: (_m, t) => t,
    url: (u) => u,
    params: (p) => ({ ...p }),
  };
  assert.equal(JSON.stringify(dnsDescriptor.redact(ok!, redactor)), before);
});
