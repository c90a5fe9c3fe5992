/**
 * `kubectl shark tap` on WebSocket in the sandbox cluster: an echo server pod and a client pod,
 * both running the `ws` package (test/e2e/fixtures/ws-peer.mjs), both tapped. Each connection's
 * upgrade comes out as an HTTP entry and each message as a WebSocket entry linked to it, once
 * (the two sightings merged by the descriptors' dedup keys), between the two pods, with the
 * password in a JSON message redacted in the agent.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { isHttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { isWebSocketEntry, type WebSocketEntry } from '../../src/remote-agent/dissect/websocket/entry.ts';
import { requireBuild, startTap } from '../helpers/tap.ts';
import { requireSandbox, startSandbox, type Sandbox, type SandboxFixture } from '../sandbox/index.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
const PEER = fileURLToPath(new URL('./fixtures/ws-peer.mjs', import.meta.url));
const SERVER_IP = '10.244.0.80';

const FIXTURE: SandboxFixture = {
  namespaces: [{ name: 'ws' }],
  pods: [
    {
      namespace: 'ws',
      name: 'echo',
      labels: { app: 'echo' },
      ip: SERVER_IP,
      containers: [{ name: 'echo', image: 'node:24-slim', command: ['node', PEER, 'server', '8080'] }],
    },
    {
      namespace: 'ws',
      name: 'chat',
      labels: { app: 'chat' },
      containers: [{ name: 'chat', image: 'node:24-slim', command: ['node', PEER, 'client', `ws://${SERVER_IP}:8080/echo`] }],
    },
  ],
};

let sandbox: Sandbox;

before(async () => {
  if (!skip) sandbox = await startSandbox(FIXTURE);
});

after(async () => {
  if (!skip) await sandbox.stop();
});

test('tap -n ws: WebSocket messages between two pods, linked to their upgrade, each once, passwords redacted', { skip }, async (t) => {
  const tap = startTap(sandbox, ['-n', 'ws', '-o', 'json']);
  const messages = (): WebSocketEntry[] => tap.allEntries().filter(isWebSocketEntry);
  try {
    await tap.until('three rounds of messages', () => messages().length >= 3 * 7, 45_000);
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
  const entries = tap.allEntries();
  const upgrades = new Map(entries.filter(isHttpEntry).filter((e) => e.response?.status === 101).map((e) => [e.id, e]));
  const ws = messages();
  t.diagnostic(ws.slice(0, 8).map((e) => `${e.id} ${e.src.name} -> ${e.dst.name} ${JSON.stringify(e.request ?? e.response)}`).join('\n'));
  assert.ok(upgrades.size >= 3, `${upgrades.size} upgrades`);
  for (const e of ws) {
    assert.match(e.src.name, /^chat/);
    assert.match(e.dst.name, /^echo/);
    assert.equal(e.dst.port, 8080);
    assert.ok(upgrades.has(e.upgradeId), `message ${e.id} links to its upgrade (${e.upgradeId})`);
  }
  const texts = ws.map((e) => (e.request ?? e.response)!).filter((m) => m.opcode === 'text').map((m) => m.payload.text);
  assert.ok(texts.some((x) => /^hello \d+$/.test(x)), texts.join(' | '));
  const withPassword = texts.filter((x) => x.includes('"password"'));
  assert.ok(withPassword.length > 0, texts.join(' | '));
  for (const x of withPassword) assert.doesNotMatch(x, /hunter2/, 'redacted in the agent');
  // Both pods see every message: merged, each comes out once. Round n's greeting goes out once
  // and comes back once; a sighting from each end would make four.
  const perRound = new Map<string, number>();
  for (const x of texts) if (/^hello \d+$/.test(x)) perRound.set(x, (perRound.get(x) ?? 0) + 1);
  assert.ok([...perRound.values()].every((n) => n <= 2), JSON.stringify([...perRound]));
  assert.ok([...perRound.values()].filter((n) => n === 2).length >= 2, JSON.stringify([...perRound]));
});
