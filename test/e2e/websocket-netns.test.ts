/**
 * Real WebSocket traffic between two network namespaces: an echo server and a client written here
 * with the `ws` package, with permessage-deflate off, on (context takeover) and on without context
 * takeover. Text, binary, a message sent in two fragments, a JSON message with a password, a ping
 * (answered by ws's automatic pong) and a close with a code, each echoed. Captured with tcpdump and
 * read back with `kubectl shark read -o json`, and dissected live by the agent (`agent.js capture`
 * in the server's namespace). Every message must come out with its opcode, text, fragments,
 * compression and close code, linked to the upgrade entry; the password must be redacted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { isWebSocketEntry, type WebSocketEntry } from '../../src/remote-agent/dissect/websocket/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT, readWithCli } from '../helpers/capture.ts';
import { Scope, addAddress, addVeth, requireNetns, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const SERVER_IP = '10.96.0.2';
const CLIENT_IP = '10.96.0.1';
/** Port per permessage-deflate mode of the echo server. */
const MODES = { off: 8080, takeover: 8081, 'no-takeover': 8082 } as const;
type Mode = keyof typeof MODES;

/** The echo server: every message back as it came (text or binary); ws answers pings itself. */
const SERVER = `
import { WebSocketServer } from 'ws';
const [port, mode] = process.argv.slice(1);
const perMessageDeflate = mode === 'off' ? false : { threshold: 0, serverNoContextTakeover: mode === 'no-takeover', clientNoContextTakeover: mode === 'no-takeover' };
const wss = new WebSocketServer({ host: '0.0.0.0', port: Number(port), perMessageDeflate });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
`;

/** The client: one message at a time, each waiting for its echo, then ping and close. */
const CLIENT = `
import WebSocket from 'ws';
const [url, mode] = process.argv.slice(1);
const ws = new WebSocket(url, { perMessageDeflate: mode === 'off' ? false : { threshold: 0 } });
await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
const echo = () => new Promise((resolve) => ws.once('message', resolve));
ws.send('hello text'); await echo();
ws.send(Buffer.from([0, 1, 2, 255]), { binary: true }); await echo();
ws.send('frag-', { fin: false }); ws.send('ment', { fin: true }); await echo();
ws.send(JSON.stringify({ item: 'pen', password: 'hunter2' })); await echo();
ws.ping('are you there'); await new Promise((resolve) => ws.once('pong', resolve));
ws.close(4001, 'bye'); await new Promise((resolve) => ws.once('close', resolve));
console.log('done');
`;

/** [direction, opcode, text, frames, compressed, close code] of one message. */
type Row = [string, string, string, number, boolean, number | null];

function expectedRows(mode: Mode): Row[] {
  const z = mode !== 'off';
  const both = (opcode: string, text: string, frames: [number, number] = [1, 1], compressed = z): Row[] => [
    ['c', opcode, text, frames[0], compressed, null],
    ['s', opcode, text, frames[1], compressed, null],
  ];
  return [
    ...both('text', 'hello text'),
    ...both('binary', Buffer.from([0, 1, 2, 255]).toString('base64')),
    ...both('text', 'frag-ment', [2, 1]),
    ...both('text', '{"item":"pen","password":"[REDACTED]"}'),
    ['c', 'ping', 'are you there', 1, false, null],
    ['s', 'pong', 'are you there', 1, false, null],
    ['c', 'close', 'bye', 1, false, 4001],
    ['s', 'close', 'bye', 1, false, 4001],
  ];
}

/** The WebSocket messages of the connection to `port`, and its upgrade entry. */
function rowsOf(entries: readonly Entry[], port: number): { upgrade: Entry; rows: Row[]; messages: WebSocketEntry[] } {
  const upgrade = entries.filter(isHttpEntry).find((e) => e.dst.port === port);
  assert.ok(upgrade !== undefined, `an upgrade entry for port ${port}`);
  assert.equal(upgrade.response?.status, 101);
  const messages: WebSocketEntry[] = entries.filter(isWebSocketEntry).filter((e) => e.dst.port === port);
  for (const m of messages) {
    assert.equal(m.upgradeId, upgrade.id, `${m.id} links to its upgrade`);
    assert.equal(m.error, null, `${m.id}: ${m.error?.msg}`);
  }
  const rows = messages.map((e): Row => {
    const m = (e.request ?? e.response)!;
    return [e.request !== null ? 'c' : 's', m.opcode, m.payload.text, m.frames, m.compressed, m.closeCode ?? null];
  });
  return { upgrade, rows, messages };
}

async function session(client: Netns, mode: Mode): Promise<void> {
  const r = await client.exec(NODE, ['--input-type=module', '-e', CLIENT, `ws://${SERVER_IP}:${MODES[mode]}/chat`, mode], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString('utf8').trim(), 'done');
}

async function setUp(scope: Scope): Promise<{ client: Netns; server: Netns }> {
  const client = await scope.netns('wscli');
  const server = await scope.netns('wssrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  for (const [mode, port] of Object.entries(MODES)) {
    server.spawn(NODE, ['--input-type=module', '-e', SERVER, String(port), mode], { cwd: REPO_ROOT });
  }
  for (const port of Object.values(MODES)) await waitForPort(client, SERVER_IP, port);
  return { client, server };
}

const skip = skipFor(requireNetns(['tcpdump']));

test('ws echo sessions captured by tcpdump and read back: every message, deflate off, on, on without takeover', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server } = await setUp(scope);
    const dir = prepareAgentDir(scope);
    const capture = await Capture.start(server, 'eth0', join(dir, 'ws.pcap'));
    for (const mode of Object.keys(MODES) as Mode[]) await session(client, mode);
    await capture.stop();
    const read = await readWithCli(capture.file);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(read.stderr.trim());
    assert.match(read.stderr, /0 internal errors|^(?![\s\S]*internal error)/);
    const modes = Object.keys(MODES) as Mode[];
    assert.deepEqual(
      Object.fromEntries(modes.map((mode) => [mode, rowsOf(read.all, MODES[mode]).rows])),
      Object.fromEntries(modes.map((mode) => [mode, expectedRows(mode)])),
    );
  } finally {
    await scope.close();
  }
});

test('live agent in the server namespace: the same messages as entry frames, redacted', { skip, timeout: 180_000 }, async () => {
  const scope = new Scope();
  try {
    const { client, server } = await setUp(scope);
    const dir = prepareAgentDir(scope);
    const agent = startAgent(server, ['--iface', 'eth0'], { dir, scope });
    await agent.ready();
    for (const mode of ['off', 'takeover'] as const) await session(client, mode);
    const expected = expectedRows('off').length + expectedRows('takeover').length + 2;
    await agent.waitFor(() => agent.allEntries().length >= expected, 20_000, `${expected} entries`);
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    assert.equal(agent.internalError, null);
    const modes = ['off', 'takeover'] as const;
    assert.deepEqual(
      Object.fromEntries(modes.map((mode) => [mode, rowsOf(agent.allEntries(), MODES[mode]).rows])),
      Object.fromEntries(modes.map((mode) => [mode, expectedRows(mode)])),
    );
  } finally {
    await scope.close();
  }
});
