import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKfl } from '../../../kfl/index.ts';
import type { Entry } from '../../../model/entry.ts';
import * as w from '../../../../test/helpers/amqp-wire.ts';
import { c, fakeConn, play, recorder, s, type Step } from '../../../../test/helpers/http1-connection.ts';
import { EntryRedactor } from '../../redact/entry-redactor.ts';
import { amqpDescriptor as d } from './descriptor.ts';
import type { AmqpEntry } from './entry.ts';
import { amqpDissector } from './index.ts';

function session(): AmqpEntry[] {
  const steps: Step[] = [
    c(w.PROTOCOL_HEADER, 0),
    s(w.connectionStart(), 100),
    c(w.startOkPlain('alice', 'pa55-word'), 200),
    s(w.tune(), 300),
    c(w.concat(w.tuneOk(), w.connectionOpen('/')), 400),
    s(w.connectionOpenOk(), 500),
    c(w.channelOpen(1), 600),
    s(w.channelOpenOk(1), 700),
    c(w.publish(1, 'orders', 'order.created', '{"id":42,"password":"hunter2"}', { contentType: 'application/json', headers: { authorization: 'Bearer tok-123', 'x-tenant': 't1', retries: 2 } }), 800),
    c(w.queueDeclare(1, 'missing', { passive: true }), 900),
    s(w.close(1, 404, "NOT_FOUND - no queue 'missing'", 50, 10), 1000),
    c(w.closeOk(1), 1100),
  ];
  const r = recorder();
  const stream = amqpDissector.open(fakeConn({ b: { ip: '10.0.0.2', port: 5672 } }), r.ctx);
  play(stream, steps);
  stream.close('fin', 2000);
  return r.all as unknown as AmqpEntry[];
}

const byMethod = (entries: readonly AmqpEntry[], method: string): AmqpEntry => entries.find((e) => e.request.method === method)!;

test('rows: verb, target and outcome; a refused request and a non-200 Close are errors, a publish is not', () => {
  const all = session();
  const publish = d.summarize(byMethod(all, 'basic publish'));
  assert.deepEqual([publish.verb, publish.target, publish.outcome, publish.isError, publish.payloadBytes], ['basic publish', 'orders → order.created (30 B)', '', false, 30]);
  const failed = d.summarize(byMethod(all, 'queue declare'));
  assert.deepEqual([failed.target, failed.outcome, failed.outcomeClass, failed.isError], ['missing', '404 NOT_FOUND', 'client-error', true]);
  const close = d.summarize(byMethod(all, 'channel close'));
  assert.deepEqual([close.target, close.outcome, close.isError], ["NOT_FOUND - no queue 'missing'", '404 NOT_FOUND', true]);
  const open = d.summarize(byMethod(all, 'channel open'));
  assert.deepEqual([open.outcome, open.outcomeClass, open.isError], ['open-ok', 'success', false]);
  assert.equal(d.edgeLabel(byMethod(all, 'basic publish')), 'AMQP');
  const pubEntry = byMethod(all, 'basic publish');
  assert.ok(d.heldChars!(pubEntry) >= 30 + 40, 'held text counts the body and the method\'s strings');
  assert.ok(d.heldChars!(byMethod(all, 'connection start')) >= byMethod(all, 'connection start').requestSize);
  const sections = d.represent(byMethod(all, 'basic publish'));
  assert.ok(sections.some((x) => x.kind === 'body' && x.text.includes('"id":42')));
});

test('KFL: the word amqp, Kubeshark\'s amqp_* variables and the row queries select what they say', () => {
  const all = session() as unknown as Entry[];
  const select = (q: string): string[] => {
    const r = compileKfl(q);
    assert.ok(r.ok, `${q} compiles`);
    return all.filter((e) => r.filter.test(e)).map((e) => (e as AmqpEntry).request.method);
  };
  assert.equal(select('amqp').length, all.length);
  assert.deepEqual(select('amqp_method == "basic.publish"'), ['basic publish']);
  assert.deepEqual(select('amqp and request.exchange == "orders" and request.routingKey == "order.created"'), ['basic publish']);
  assert.deepEqual(select('amqp_method == "queue.declare" && response.replyCode == 404'), ['queue declare']);
  assert.deepEqual(select('amqp_response == false'), ['basic publish']);
  assert.deepEqual(select('amqp_total_size > 0 && amqp_request && amqp_summary.startsWith("connection open")'), ['connection open']);
  const pub = byMethod(all as unknown as AmqpEntry[], 'basic publish');
  const row = d.summarize(pub);
  for (const q of [row.verbQuery, row.targetQuery]) assert.ok(select(q!).includes('basic publish'), q);
  assert.deepEqual(select('dns_questions == nil && amqp_request_length == ' + String(pub.requestSize)), ['basic publish']);
});

test('redaction: the SASL response is masked (the user stays), bodies are redacted as bodies', () => {
  const all = session();
  const start = byMethod(all, 'connection start');
  assert.match(JSON.stringify(start), /pa55-word/, 'captured');
  const redactor = new EntryRedactor();
  const red = redactor.redact(start as unknown as Entry) as unknown as AmqpEntry;
  assert.doesNotMatch(JSON.stringify(red), /pa55-word/);
  assert.deepEqual([red.response?.response, red.response?.user], ['[REDACTED]', 'alice']);
  const pub = redactor.redact(byMethod(all, 'basic publish') as unknown as Entry) as unknown as AmqpEntry;
  assert.match(pub.request.body!.text, /"password":"\[REDACTED\]"/);
  assert.match(pub.request.body!.text, /"id":42/);
  assert.equal(pub.request.body!.size, 30, 'sizes describe the wire');
  assert.deepEqual(pub.request.properties?.headers, { authorization: '[REDACTED]', 'x-tenant': 't1', retries: 2 }, 'sensitive message headers masked');
  // Idempotent.
  assert.deepEqual(redactor.redact(red as unknown as Entry), red as unknown as Entry);
});
