import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../../../model/entry.ts';
import { compileKfl } from '../../../kfl/index.ts';
import { fakeConn, play, recorder, c, s } from '../../../../test/helpers/http1-connection.ts';
import { EntryRedactor } from '../../redact/entry-redactor.ts';
import { redisDescriptor, secretArgs } from './descriptor.ts';
import type { RedisEntry } from './entry.ts';
import { redisDissector } from './index.ts';

function cmd(...words: string[]): string {
  return `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
}

function entries(client: string, server: string): RedisEntry[] {
  const r = recorder();
  const stream = redisDissector.open(fakeConn({ b: { ip: '10.0.0.6', port: 6379 } }), r.ctx);
  play(stream, [c(client, 0), s(server, 1000)]);
  stream.close('fin', 2000);
  return r.all as unknown as RedisEntry[];
}

test('the list row: command, key and value, outcome by reply type; errors by their code', () => {
  const [set, get, err, missing] = entries(cmd('SET', 'cart:42', 'x', 'EX', '10') + cmd('GET', 'cart:42') + cmd('INCR', 'cart:42') + cmd('GET', 'gone'), '+OK\r\n$1200\r\n' + 'a'.repeat(1200) + '\r\n-ERR value is not an integer or out of range\r\n$-1\r\n');
  assert.deepEqual(redisDescriptor.summarize(set!), {
    verb: 'SET', target: 'cart:42 x EX 10', outcome: 'OK', outcomeClass: 'success', isError: false,
    verbQuery: 'redis and request.command == "SET"', targetQuery: 'redis and request.key == "cart:42"', outcomeQuery: 'redis and response.type == "Simple String"',
  });
  assert.equal(set!.request!.keyword, 'EX');
  const g = redisDescriptor.summarize(get!);
  assert.equal(g.outcome, '1.2 KiB');
  assert.equal(g.payloadBytes, 1200);
  const e = redisDescriptor.summarize(err!);
  assert.equal(e.outcome, 'ERR');
  assert.equal(e.isError, true);
  assert.equal(e.outcomeClass, 'client-error');
  assert.equal(e.outcomeQuery, 'redis and response.errorCode == "ERR"');
  assert.equal(redisDescriptor.summarize(missing!).outcome, '(nil)');
  assert.equal(redisDescriptor.edgeLabel(set!), 'REDIS');
  assert.equal(redisDescriptor.dedupKey(get!), 'GET|cart:42|1');
  const sections = redisDescriptor.represent(set!);
  assert.deepEqual(sections[0], { kind: 'heading', title: 'Command', text: 'SET cart:42 x EX 10' });
});

test('AUTH, HELLO ... AUTH, MIGRATE AUTH2, CONFIG SET requirepass, ACL SETUSER >pass: the secrets are redacted', () => {
  assert.deepEqual(secretArgs('AUTH', ['pw']), [0]);
  assert.deepEqual(secretArgs('AUTH', ['user', 'pw']), [1]);
  assert.deepEqual(secretArgs('HELLO', ['3', 'AUTH', 'user', 'pw', 'SETNAME', 'x']), [3]);
  assert.deepEqual(secretArgs('MIGRATE', ['h', '6379', 'k', '0', '10', 'AUTH2', 'u', 'pw']), [7]);
  assert.deepEqual(secretArgs('CONFIG', ['SET', 'maxmemory', '1', 'requirepass', 'pw']), [4]);
  assert.deepEqual(secretArgs('ACL', ['SETUSER', 'bob', 'on', '>pw', '~*']), [3]);
  const list = entries(
    cmd('AUTH', 'hunter2') + cmd('HELLO', '3', 'AUTH', 'bob', 'hunter3') + cmd('CONFIG', 'GET', 'requirepass'),
    '+OK\r\n%1\r\n+proto\r\n:3\r\n*2\r\n$11\r\nrequirepass\r\n$7\r\nhunter4\r\n',
  );
  const redactor = new EntryRedactor();
  const out = list.map((e) => redactor.redact(e) as RedisEntry);
  const text = JSON.stringify(out);
  for (const secret of ['hunter2', 'hunter3', 'hunter4']) assert.ok(!text.includes(secret), `${secret} is not shown`);
  assert.deepEqual(out[0]!.request!.args, ['[REDACTED]']);
  assert.equal(out[0]!.request!.key, '[REDACTED]');
  assert.deepEqual(out[1]!.request!.args, ['3', 'AUTH', 'bob', '[REDACTED]']);
  assert.equal(out[1]!.request!.value, 'AUTH bob [REDACTED]');
});

test('a push links to its SUBSCRIBE entry; relinkIds follows renamed ids', () => {
  const list = entries(cmd('SUBSCRIBE', 'news'), '*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n');
  const push = list[1]!;
  assert.equal(push.subscriptionId, list[0]!.id);
  const row = redisDescriptor.summarize(push);
  assert.equal(row.verb, 'message');
  assert.equal(row.target, 'news');
  assert.equal(row.isError, false);
  redisDescriptor.relinkIds!(push, (id) => `pod-a/${id}`);
  assert.equal(push.subscriptionId, `pod-a/${list[0]!.id}`);
  const detail = redisDescriptor.represent(push);
  assert.ok(detail.some((sct) => sct.kind === 'table' && sct.title === 'Push' && sct.rows.some((r) => r.label === 'Subscription entry')));
});

test('KFL: the word redis, Kubeshark paths and the KFL2 redis_* variables', () => {
  const [set, get] = entries(cmd('SET', 'k'.repeat(100), 'v') + cmd('GET', 'other'), '+OK\r\n$1\r\nv\r\n');
  const matches = (q: string, e: RedisEntry): boolean => {
    const f = compileKfl(q);
    if (!f.ok) throw new Error(`${q}: ${f.error.display}`);
    return f.filter.test(e as unknown as Entry);
  };
  assert.ok(matches('redis', set!));
  assert.ok(matches('request.command == "SET"', set!));
  assert.ok(!matches('request.command == "SET"', get!));
  assert.ok(matches('redis_type == "GET"', get!));
  assert.ok(matches('redis_command == "GET other"', get!));
  assert.ok(matches(`redis_key == "${'k'.repeat(64)}"`, set!));
  assert.ok(matches(`redis_request_size == ${set!.requestSize} && redis_response_size == 5 && redis_total_size == ${set!.requestSize + 5}`, set!));
  assert.ok(matches('response.type == "Bulk String"', get!));
});
