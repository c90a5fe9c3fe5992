import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameMatcher } from './name-matcher.ts';
import { redactWebSocketProtocols } from './websocket-protocol.ts';

const { isSensitive } = new NameMatcher();
const ws = (value: string): string => redactWebSocketProtocols(value, isSensitive);

test('bearer tokens in subprotocols: the Kubernetes form and pairs after a sensitive name', () => {
  assert.equal(ws('base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJMU5pSjk, v4.channel.k8s.io'), 'base64url.bearer.authorization.k8s.io.[REDACTED], v4.channel.k8s.io');
  assert.equal(ws('v5.channel.k8s.io,base64url.bearer.authorization.k8s.io.abc'), 'v5.channel.k8s.io,base64url.bearer.authorization.k8s.io.[REDACTED]');
  assert.equal(ws('bearer.tok123'), 'bearer.[REDACTED]');
  assert.equal(ws('access_token, eyJhbGci.x.y'), 'access_token, [REDACTED]');
  assert.equal(ws('wamp.2.json, Authorization, t0k'), 'wamp.2.json, Authorization, [REDACTED]');
  for (const kept of ['v4.channel.k8s.io', 'graphql-transport-ws', 'graphql-ws, subscriptions-transport-ws', 'mqtt', 'wamp.2.json', 'unbearer.x', '']) assert.equal(ws(kept), kept);
  const once = ws('base64url.bearer.authorization.k8s.io.abc, access_token, t');
  assert.equal(ws(once), once, 'idempotent');
});
