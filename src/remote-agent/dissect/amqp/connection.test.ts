import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as w from '../../../../test/helpers/amqp-wire.ts';
import { c, fakeConn, longestData, play, recorder, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import type { AmqpEntry } from './entry.ts';
import { amqpDissector } from './index.ts';
import { sniffAmqp } from './sniff.ts';
import { MAX_PENDING } from './connection.ts';

const SERVER = { ip: '10.0.0.2', port: 5672 } as const;

function run(steps: readonly Step[], how: Chunking = { kind: 'whole' }, options: { maxBodyBytes?: number; responseTimeoutUs?: number; joined?: boolean } = {}) {
  const r = recorder(options);
  const stream = amqpDissector.open(fakeConn({ b: SERVER, aIsClientKnown: options.joined !== true }), r.ctx);
  play(stream, steps, how);
  stream.close('fin', 10_000_000);
  return { entries: r.all as unknown as AmqpEntry[], stats: r.stats };
}

/** What an entry says, for comparing runs cut differently. */
function summary(e: AmqpEntry): string {
  const q = e.request;
  const a = e.response;
  const what = q.queue ?? q.exchange ?? q.virtualHost ?? '';
  const body = q.body === undefined ? '' : ` body ${q.body.size}:${q.body.text.slice(0, 12)}${q.body.truncated === true ? '…' : ''}`;
  const ans = a === null ? 'none' : `${a.method}${a.replyCode !== undefined ? ` ${a.replyCode}` : ''}${a.body !== undefined ? ` body ${a.body.size}` : ''}`;
  return `${e.id} ch${q.channel} ${q.sender} ${q.method} ${what}${body} -> ${ans} [${e.requestSize}/${e.responseSize}]${e.error === null ? '' : ` ${e.error.type}`}`;
}

/** Every way to cut each data step gives the same entries. */
function everyCut(steps: readonly Step[]): string[] {
  const whole = run(steps).entries.map(summary);
  const longest = longestData(steps);
  for (let at = 1; at < longest; at += Math.max(1, Math.floor(longest / 97))) assert.deepEqual(run(steps, { kind: 'split', at }).entries.map(summary), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }).entries.map(summary), whole, 'byte by byte');
  return whole;
}

const OPENING: Step[] = [
  c(w.PROTOCOL_HEADER, 0),
  s(w.connectionStart(), 100),
  c(w.startOkPlain('alice', 's3cret-pw'), 200),
  s(w.tune(), 300),
  c(w.concat(w.tuneOk(), w.connectionOpen('/shop')), 400),
  s(w.connectionOpenOk(), 500),
  c(w.channelOpen(1), 600),
  s(w.channelOpenOk(1), 700),
];

test('the opening: Start/Start-Ok, Tune/Tune-Ok from the server, Open and Channel.Open from the client, at every cut', () => {
  assert.deepEqual(everyCut(OPENING), [
    '7-0 ch0 server connection start  -> connection start-ok [' + (w.connectionStart().length) + '/' + w.startOkPlain('alice', 's3cret-pw').length + ']',
    '7-1 ch0 server connection tune  -> connection tune-ok [20/20]',
    `7-2 ch0 client connection open /shop -> connection open-ok [${w.connectionOpen('/shop').length}/13]`,
    '7-3 ch1 client channel open  -> channel open-ok [13/16]',
  ]);
  const start = run(OPENING).entries[0]!;
  assert.equal(start.response?.user, 'alice');
  assert.equal(start.response?.mechanism, 'PLAIN');
  assert.deepEqual(start.request.serverProperties, { product: 'RabbitMQ', version: '3.10.8', capabilities: { publisher_confirms: true } });
  assert.deepEqual([start.src.port, start.dst.port], [40000, 5672]);
});

test('publish with properties and a body in several frames, deliver and ack: one-way entries; the body joined, its size exact', () => {
  const body = 'x'.repeat(300) + 'END';
  const steps: Step[] = [
    ...OPENING,
    c(w.publish(1, 'orders', 'order.created', body, { contentType: 'text/plain', deliveryMode: 2, headers: { 'x-retry': 3, trace: { id: 'abc' } }, correlationId: 'c-1', timestamp: 1700000000 }, 100), 800),
    c(w.HEARTBEAT, 850),
    s(w.deliver(1, 'ctag-1', 7, 'orders', 'order.created', 'hello'), 900),
    c(w.ack(1, 7), 1000),
  ];
  const got = everyCut(steps).slice(4);
  assert.deepEqual(got, [
    `7-4 ch1 client basic publish orders body 303:xxxxxxxxxxxx -> none [${w.publish(1, 'orders', 'order.created', body, { contentType: 'text/plain', deliveryMode: 2, headers: { 'x-retry': 3, trace: { id: 'abc' } }, correlationId: 'c-1', timestamp: 1700000000 }, 100).length}/0]`,
    `7-5 ch1 server basic deliver orders body 5:hello -> none [${w.deliver(1, 'ctag-1', 7, 'orders', 'order.created', 'hello').length}/0]`,
    '7-6 ch1 client basic ack  -> none [21/0]',
  ]);
  const [pub, del] = run(steps).entries.slice(4);
  assert.equal(pub!.request.body?.text, body);
  assert.deepEqual(pub!.request.properties, { contentType: 'text/plain', headers: { 'x-retry': 3, trace: { id: 'abc' } }, deliveryMode: 2, correlationId: 'c-1', timestamp: 1700000000 });
  assert.equal(pub!.request.body?.mimeType, 'text/plain');
  assert.deepEqual([pub!.request.routingKey, pub!.request.mandatory], ['order.created', false]);
  assert.deepEqual([del!.request.consumerTag, del!.request.deliveryTag, del!.request.redelivered], ['ctag-1', 7, false]);
});

test('bodies are kept up to maxBodyBytes, the size stays exact', () => {
  const body = Buffer.alloc(5000, 0x61);
  const { entries } = run([...OPENING, c(w.publish(1, '', 'q', body, {}, 1024), 800)], { kind: 'whole' }, { maxBodyBytes: 1500 });
  const b = entries[4]!.request.body!;
  assert.deepEqual([b.size, b.text.length, b.truncated], [5000, 1500, true]);
});

test('channels are multiplexed: requests on two channels answered out of order pair per channel', () => {
  const steps: Step[] = [
    ...OPENING,
    c(w.channelOpen(2), 800),
    s(w.channelOpenOk(2), 810),
    c(w.concat(w.queueDeclare(1, 'a'), w.queueDeclare(2, 'b')), 900),
    // Content of two channels interleaved frame by frame is allowed across channels.
    s(w.concat(w.queueDeclareOk(2, 'b', 5, 1), w.queueDeclareOk(1, 'a', 0, 0)), 1000),
  ];
  const got = everyCut(steps).slice(5);
  // Each pair leaves when its answer comes: channel 2's first.
  const d = w.queueDeclare(1, 'a').length;
  const ok = w.queueDeclareOk(1, 'a').length;
  assert.deepEqual(got, [`7-6 ch2 client queue declare b -> queue declare-ok [${d}/${ok}]`, `7-5 ch1 client queue declare a -> queue declare-ok [${d}/${ok}]`]);
  const b = run(steps).entries.find((e) => e.request.queue === 'b')!;
  assert.deepEqual([b.response?.messageCount, b.response?.consumerCount], [5, 1]);
});

test('a passive declare of a missing queue: the Channel.Close 404 answers it, and is an entry with its Close-Ok', () => {
  const steps: Step[] = [...OPENING, c(w.queueDeclare(1, 'nope', { passive: true }), 800), s(w.close(1, 404, "NOT_FOUND - no queue 'nope' in vhost '/'", 50, 10), 900), c(w.closeOk(1), 1000)];
  const got = everyCut(steps).slice(4);
  assert.deepEqual(got, [
    `7-4 ch1 client queue declare nope -> channel close 404 [${w.queueDeclare(1, 'nope', { passive: true }).length}/${w.close(1, 404, "NOT_FOUND - no queue 'nope' in vhost '/'", 50, 10).length}]`,
    `7-5 ch1 server channel close  -> channel close-ok [${w.close(1, 404, "NOT_FOUND - no queue 'nope' in vhost '/'", 50, 10).length}/12]`,
  ]);
  const [failed, close] = run(steps).entries.slice(4);
  assert.deepEqual([failed!.response?.byClose, failed!.response?.failedMethod, failed!.error], [true, 'queue declare', null]);
  assert.equal(close!.request.replyText, "NOT_FOUND - no queue 'nope' in vhost '/'");
});

test('Get answered by Get-Ok (with content) or Get-Empty; a no-wait declare stands alone; Tx and Confirm pair', () => {
  const steps: Step[] = [
    ...OPENING,
    c(w.get(1, 'jobs'), 800),
    s(w.getOk(1, 3, '', 'jobs', 2, '{"job":1}', { contentType: 'application/json' }), 900),
    c(w.get(1, 'jobs'), 1000),
    s(w.getEmpty(1), 1100),
    c(w.queueDeclare(1, 'fire', { noWait: true }), 1200),
    c(w.method(1, 90, 10), 1300),
    s(w.method(1, 90, 11), 1400),
    c(w.method(1, 85, 10, w.bits(false)), 1500),
    s(w.method(1, 85, 11), 1600),
    c(w.method(1, 40, 40, w.short(0), w.shortstr('dst'), w.shortstr('src'), w.shortstr('k'), w.bits(false), w.table({})), 1700),
    s(w.method(1, 40, 51), 1800),
  ];
  const got = run(steps).entries.slice(4).map(summary);
  assert.deepEqual(got, [
    `7-4 ch1 client basic get jobs -> basic get-ok body 9 [${w.get(1, 'jobs').length}/${w.getOk(1, 3, '', 'jobs', 2, '{"job":1}', { contentType: 'application/json' }).length}]`,
    `7-5 ch1 client basic get jobs -> basic get-empty [${w.get(1, 'jobs').length}/${w.getEmpty(1).length}]`,
    `7-6 ch1 client queue declare fire -> none [${w.queueDeclare(1, 'fire', { noWait: true }).length}/0]`,
    '7-7 ch1 client tx select  -> tx select-ok [12/12]',
    '7-8 ch1 client confirm select  -> confirm select-ok [13/12]',
    `7-9 ch1 client exchange unbind  -> exchange unbind-ok [${w.method(1, 40, 40, w.short(0), w.shortstr('dst'), w.shortstr('src'), w.shortstr('k'), w.bits(false), w.table({})).length}/12]`,
  ]);
});

test('a request never answered leaves after the timeout; one answered late still pairs', () => {
  const steps: Step[] = [...OPENING, c(w.queueDeclare(1, 'slow'), 800), c(w.HEARTBEAT, 5_000_000)];
  const { entries, stats } = run(steps, { kind: 'whole' }, { responseTimeoutUs: 1_000_000 });
  const slow = entries.find((e) => e.request.queue === 'slow')!;
  assert.deepEqual([slow.response, slow.error?.type], [null, 'timeout']);
  assert.equal(stats.unpairedRequests, 1);
});

test('a flood of unanswered requests keeps the waiting bounded', () => {
  const declares: Buffer[] = [];
  for (let i = 0; i < MAX_PENDING + 200; i++) declares.push(w.queueDeclare(1 + (i % 2000), `q${i}`));
  const { entries, stats } = run([...OPENING, c(w.concat(...declares), 800)]);
  assert.equal(entries.length, 4 + MAX_PENDING + 200, 'every request is an entry, answered or not');
  assert.ok(stats.unpairedRequests >= MAX_PENDING + 200);
});

test('credentials: PLAIN and AMQPLAIN responses name the user; redaction hides the password', async () => {
  const { amqpDescriptor } = await import('./descriptor.ts');
  const redactor = { redacted: '[REDACTED]', redactField: () => {} } as unknown as Parameters<typeof amqpDescriptor.redact>[1];
  for (const startOk of [w.startOkPlain('bob', 'hunter2-secret'), w.startOkAmqplain('bob', 'hunter2-secret')]) {
    const { entries } = run([c(w.PROTOCOL_HEADER, 0), s(w.connectionStart(), 100), c(startOk, 200)]);
    const start = entries[0]!;
    assert.equal(start.response?.user, 'bob');
    assert.match(start.response?.response ?? '', /hunter2/, 'kept until redaction');
    const redacted = amqpDescriptor.redact(start, redactor);
    assert.doesNotMatch(JSON.stringify(redacted), /hunter2/);
    assert.equal(redacted.response?.response, '[REDACTED]');
    assert.equal(redacted.response?.user, 'bob');
  }
});

test('joined midway: the first bytes are the tail of a frame; frames are found again, no violation', () => {
  const tail = w.publish(1, 'x', 'y', 'lost body').subarray(9);
  const steps: Step[] = [c(w.concat(tail, w.publish(1, 'ev', 'k', 'seen')), 0), s(w.deliver(1, 't', 1, 'ev', 'k', 'seen'), 100)];
  const { entries, stats } = run(steps, { kind: 'whole' }, { joined: true });
  assert.deepEqual(entries.map(summary), [
    `7-0 ch1 client basic publish ev body 4:seen -> none [${w.publish(1, 'ev', 'k', 'seen').length}/0]`,
    `7-1 ch1 server basic deliver ev body 4:seen -> none [${w.deliver(1, 't', 1, 'ev', 'k', 'seen').length}/0]`,
  ]);
  assert.equal(stats.dissectionErrors, 0);
});

test('a frame without its end octet is a violation; frames after it are found again', () => {
  const bad = Buffer.from(w.queueDeclare(1, 'bad'));
  bad[bad.length - 1] = 0x00;
  const steps: Step[] = [...OPENING, c(bad, 800), c(w.publish(1, 'ok', 'k', 'body'), 900)];
  const { entries, stats } = run(steps);
  assert.ok(stats.dissectionErrors >= 1);
  assert.ok(entries.some((e) => e.request.exchange === 'ok'), 'the publish after it is an entry');
  assert.ok(!entries.some((e) => e.request.queue === 'bad'));
});

test('field tables: every type, nesting bounded, __proto__ a plain key', () => {
  let deep: w.TableValue = { leaf: 1 };
  for (let i = 0; i < 20; i++) deep = { d: deep };
  const args = w.table({ s: 'str', i: -5, big: 2 ** 40, f: 1.5, t: true, v: null, a: [1, 'two', [3]], deep, ['__proto__']: 'x' });
  const frame = w.method(1, 50, 10, w.short(0), w.shortstr('t'), w.bits(false, false, false, false, false), args);
  const { entries } = run([...OPENING, c(frame, 800), s(w.queueDeclareOk(1, 't'), 900)]);
  const a = entries[4]!.request.arguments!;
  assert.deepEqual([a['s'], a['i'], a['big'], a['f'], a['t'], a['v'], a['a']], ['str', -5, 2 ** 40, 1.5, true, null, [1, 'two', [3]]]);
  assert.equal(Object.getPrototypeOf(a), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(a, '__proto__')?.value, 'x');
  assert.match(JSON.stringify(a['deep']), /nested too deep/);
});

test('sniff: the protocol header, or frames found midway; not text', () => {
  assert.equal(sniffAmqp(w.PROTOCOL_HEADER), 'match');
  assert.equal(sniffAmqp(w.PROTOCOL_HEADER.subarray(0, 5)), 'more');
  assert.equal(sniffAmqp(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 'no');
  assert.equal(sniffAmqp(w.concat(Buffer.from('garbage..'), w.ack(1, 5))), 'match');
  assert.equal(sniffAmqp(w.ack(1, 5).subarray(0, 10)), 'more');
  assert.equal(sniffAmqp(Buffer.from([1, 0, 1, 0, 0, 0, 13, 0x99, 0x99, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0xce])), 'no', 'no such method');
});
