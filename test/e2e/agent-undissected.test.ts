/**
 * The agent's stats frames carry what it saw but did not dissect, by guessed protocol: from a
 * capture file (`--pcap`, the recordings of test/fixtures/undissected/), and live, in a network
 * namespace, from real servers (openssl s_server) and clients (openssl s_client, a UDP datagram
 * from bash). DNS (dnsmasq and dig) and Redis (redis-server and redis-cli) are dissected: entries,
 * not counts. A
 * TLS connection is counted while it is still open: a tap that joins kept-alive connections must
 * not wait for them to close to say what they are.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { NODE } from '../helpers/capture.ts';
import { Scope, addAddress, addVeth, requireNetns, run, waitForPort } from '../helpers/netns.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/undissected');
const SERVER_IP = '10.95.0.2';
const CLIENT_IP = '10.95.0.1';

function finalStats(stdout: string): StatsFrame {
  const frames = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string });
  const final = frames.find((f): f is StatsFrame => f.type === 'stats' && (f as StatsFrame).final === true);
  assert.ok(final, `a final stats frame in:\n${stdout}`);
  return final;
}

test('agent --pcap: the final stats frame counts each recording by protocol', () => {
  const dir = prepareAgentDir();
  try {
    const expected: Record<string, object> = {
      'tls.pcap': { connections: { tls: 2 }, datagrams: {}, udpFlows: {} },
      // DNS, HTTP/2, Redis and PostgreSQL are dissected now: dig over UDP and TCP, curl and nghttp over
      // h2c, and redis-cli's SET and GET are two entries each; psql's two sessions seven (startup,
      // SSLRequest, query, Terminate).
      'redis.pcap': { connections: {}, datagrams: {}, udpFlows: {} },
      'postgresql.pcap': { connections: {}, datagrams: {}, udpFlows: {} },
      'dns.pcap': { connections: {}, datagrams: {}, udpFlows: {} },
      'h2c.pcap': { connections: {}, datagrams: {}, udpFlows: {} },
    };
    for (const [file, undissected] of Object.entries(expected)) {
      const r = spawnSync(NODE, ['agent.js', 'capture', '--pcap', join(FIXTURES, file)], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const final = finalStats(r.stdout);
      assert.deepEqual(final.undissected, undissected, file);
      assert.equal(final.entries, file === 'dns.pcap' || file === 'h2c.pcap' || file === 'redis.pcap' ? 2 : file === 'postgresql.pcap' ? 7 : 0, file);
    }
  } finally {
    spawnSync('rm', ['-rf', dir]);
  }
});

const skip = skipFor(requireNetns(['openssl', 'redis-server', 'redis-cli', 'dnsmasq', 'dig']));

test('live agent: TLS (still open) and a UDP datagram of no known protocol are counted in its stats frames; DNS and Redis are entries', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const client = await scope.netns('ucli');
    const server = await scope.netns('usrv');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    const dir = prepareAgentDir(scope);
    const certDir = join(dir, 'cert');
    await run('mkdir', [certDir]);
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=shop.test', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')]);
    assert.equal(made.code, 0, made.stderr);
    server.spawn('openssl', ['s_server', '-quiet', '-accept', '4433', '-cert', join(certDir, 'cert.pem'), '-key', join(certDir, 'key.pem'), '-www']);
    server.spawn('redis-server', ['--bind', SERVER_IP, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
    server.spawn('dnsmasq', ['--no-daemon', '--no-resolv', '--no-hosts', '--user=root', '--bind-interfaces', `--listen-address=${SERVER_IP}`, '--port=53', '--address=/shop.test/10.95.0.9']);
    for (const port of [4433, 6379, 53]) await waitForPort(client, SERVER_IP, port);

    const agent = startAgent(server, ['--iface', 'eth0', '--stats-interval', '250'], { dir, scope });
    await agent.ready();
    // A TLS session that stays open (s_client waits on its stdin, which stays open).
    const tls = client.spawn('openssl', ['s_client', '-quiet', '-connect', `${SERVER_IP}:4433`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const redis = await client.exec('redis-cli', ['-h', SERVER_IP, 'SET', 'cart:42', '{"items":3}']);
    assert.equal(redis.code, 0, redis.stderr);
    const dns = await client.exec('dig', ['+short', '+tries=1', `@${SERVER_IP}`, 'catalogue.shop.test', 'A']);
    assert.equal(dns.stdout.toString('utf8').trim(), '10.95.0.9', dns.stderr);
    const udp = await client.exec('bash', ['-c', `echo hello > /dev/udp/${SERVER_IP}/9999`]);
    assert.equal(udp.code, 0, udp.stderr);

    const stats = (await agent.waitFor(
      (f) => f.type === 'stats' && f.undissected?.connections['tls'] === 1 && f.undissected.datagrams['unknown'] === 1 && f.entries === 2,
      15_000,
      'a stats frame counting 1 TLS connection, 1 unknown datagram, and the DNS and Redis entries',
    )) as StatsFrame;
    t.diagnostic(`stats.undissected: ${JSON.stringify(stats.undissected)}`);
    assert.equal(tls.exitCode, null, 'the TLS connection is still open when it is counted');
    assert.deepEqual(stats.undissected!.udpFlows, { unknown: 1 });
    assert.deepEqual(agent.entries(0, 'dns').map((e) => e.request.questions[0]?.name), ['catalogue.shop.test']);
    assert.deepEqual(agent.entries(0, 'redis').map((e) => `${e.request?.command} ${e.request?.key} -> ${e.response?.value}`), ['SET cart:42 -> OK']);
    assert.equal(stats.undissected!.connections['redis'], undefined, 'Redis is not counted as undissected');
    assert.ok(agent.frames.some((f) => f.type === 'hello' && f.capabilities.includes('undissected-counts')), 'the capability is advertised');
    tls.stdin?.end();
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    const final = agent.lastStats()!;
    assert.equal(final.final, true);
    assert.equal(final.undissected!.connections['tls'], 1, 'counted once, not again when it closed');
  } finally {
    await scope.close();
  }
});
