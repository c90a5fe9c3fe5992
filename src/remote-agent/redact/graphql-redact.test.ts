import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactBodyText } from './body-redact.ts';
import { redactGraphql } from './graphql-redact.ts';
import { NameMatcher } from './name-matcher.ts';

const { isSensitive } = new NameMatcher();
const R = '"[REDACTED]"';
const gql = (text: string): string => redactGraphql(text, isSensitive);

test('inline arguments and input-object fields with sensitive names', () => {
  assert.equal(gql('mutation { login(username: "ann", password: "p1") { token } }'), `mutation { login(username: ${R}, password: ${R}) { token } }`);
  assert.equal(
    gql('mutation {\n  createUser(input: {email: "a@b.c", password: "p2", age: 3}) { id }\n}'),
    `mutation {\n  createUser(input: {email: "a@b.c", password: ${R}, age: 3}) { id }\n}`,
  );
  assert.equal(gql('{ r(data: {profile: {nick: "n"}, auth: {pwd: "p3", list: [1, "]"]}}) { id } }'), `{ r(data: {profile: {nick: "n"}, auth: ${R}}) { id } }`);
  assert.equal(gql('{ a(pin: -12.5e3, secret: ENUM_VALUE, token: null, apiKey: ["k1", "k2"]) }'), `{ a(pin: -12.5e3, secret: ${R}, token: ${R}, apiKey: ${R}) }`);
});

test('block strings, escapes and comments', () => {
  assert.equal(gql('mutation { set(secret: """multi\nline \\""" still""", label: "x") }'), `mutation { set(secret: ${R}, label: "x") }`);
  assert.equal(gql('{ a(note: "say \\"password: x\\"", token: "t") }'), `{ a(note: "say \\"password: x\\"", token: ${R}) }`);
  assert.equal(gql('{ a(token: # comment (\n "t") }'), `{ a(token: # comment (\n ${R}) }`);
});

test('aliases, selections, variables and their definitions', () => {
  assert.equal(gql('{ token: viewer { password } }'), '{ token: viewer { password } }', 'outside parentheses "name:" is an alias');
  assert.equal(gql('mutation L($password: String!) { login(password: $password) { ok } }'), 'mutation L($password: String!) { login(password: $password) { ok } }',
    'a variable reference is not a value (the variables are JSON)');
  assert.equal(gql('query Q($token: String = "t0", $n: Int = 1) { a }'), `query Q($token: String = ${R}, $n: Int = 1) { a }`, 'a default value of a sensitive variable');
  assert.equal(gql('{ a @include(if: $secret) }'), '{ a @include(if: $secret) }');
});

test('cut or invalid documents never keep a present secret', () => {
  const doc = 'mutation { login(user: {name: "n"}, password: "SECRETVALUE123", x: 1) { ok } }';
  for (let cut = 0; cut <= doc.length; cut++) {
    const out = gql(doc.slice(0, cut));
    for (let len = 4; len <= 14; len++) assert.ok(!out.includes('SECRETVALUE123'.slice(0, len)), `cut at ${cut}: ${out}`);
  }
  for (const bad of ['', '(', ')))', 'a(b:', 'a(token:', '{"', '"""', 'x(password: """abc', '$', '$a:']) assert.doesNotThrow(() => gql(bad));
  assert.equal(gql('a(token: "x'), `a(token: ${R}`);
});

test('in JSON bodies the "query" string is read as GraphQL, also batched or cut', () => {
  const body = JSON.stringify({ query: 'mutation { login(password: "p4") { token } }', variables: { password: 'p5' }, operationName: 'L' });
  const out = redactBodyText(body, 'application/json', isSensitive);
  assert.deepEqual(JSON.parse(out), { query: 'mutation { login(password: "[REDACTED]") { token } }', variables: { password: '[REDACTED]' }, operationName: 'L' });
  const batch = JSON.stringify([{ query: '{ a: search(apiKey: "k", term: "t") { id } }' }]);
  assert.equal(JSON.parse(redactBodyText(batch, 'application/json', isSensitive))[0].query, '{ a: search(apiKey: "[REDACTED]", term: "t") { id } }');
  const cut = body.slice(0, body.indexOf('p4') + 1);
  assert.ok(!redactBodyText(cut, 'application/json', isSensitive).includes('"p'), 'a cut query string');
  assert.equal(redactBodyText('mutation { a(secret: "s") }', 'application/graphql', isSensitive), `mutation { a(secret: ${R}) }`);
  const once = redactBodyText(body, 'application/json', isSensitive);
  assert.equal(redactBodyText(once, 'application/json', isSensitive), once, 'idempotent');
});

test('hostile input stays linear', () => {
  for (const text of ['('.repeat(100_000), 'a(b: ['.repeat(30_000), 'x(token: {'.repeat(20_000), '"'.repeat(100_000), '"""'.repeat(30_000)]) {
    const start = process.hrtime.bigint();
    assert.doesNotThrow(() => gql(text));
    assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 500, text.slice(0, 10));
  }
});
