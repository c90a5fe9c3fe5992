/**
 * The live agent on DNS: in the server's namespace, it captures dig's lookups to dnsmasq (UDP and
 * TCP, an NXDOMAIN, a truncated answer) and sends them as entry frames; a KFL filter on DNS's own
 * variables is pushed down to it and selects only the lookups it names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DnsEntry } from '../../src/remote-agent/dissect/dns/entry.ts';
import type { FilterAppliedFrame, StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { CLIENT_IP, dig, SERVER_IP, startDnsmasq } from '../helpers/dnsmasq.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['dnsmasq', 'dig']));

function dnsEntries(agent: AgentProcess, from = 0): DnsEntry[] {
  return agent.entries(from, 'dns');
}

test('live agent: dig to dnsmasq over UDP and TCP are DNS entry frames; a DNS filter is pushed down', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server } = await startDnsmasq(scope);
    const dir = prepareAgentDir(scope);
    const agent = startAgent(server, ['--iface', 'eth0', '--stats-interval', '250'], { dir, scope });
    const hello = await agent.ready();
    assert.ok(hello.protocols?.includes('dns'), `the hello frame lists dns: ${JSON.stringify(hello.protocols)}`);

    await dig(client, [`@${SERVER_IP}`, 'a.x.test', 'A']);
    await dig(client, ['+tcp', `@${SERVER_IP}`, 'mail.x.test', 'MX']);
    await dig(client, [`@${SERVER_IP}`, 'nope.nx.test', 'AAAA']);
    await dig(client, ['+noedns', '+ignore', `@${SERVER_IP}`, 'big.x.test', 'TXT']);
    await agent.waitUntil(() => (dnsEntries(agent).length >= 4 ? true : undefined), 15_000, 'four DNS entry frames');
    const seen = dnsEntries(agent);
    t.diagnostic(seen.map((e) => `${e.id} ${e.protocol.version} ${e.request.questions[0]?.name} -> ${e.response?.rcodeName}`).join('\n'));
    const byName = new Map(seen.map((e) => [e.request.questions[0]?.name, e]));
    const a = byName.get('a.x.test');
    assert.deepEqual([a?.protocol.version, a?.src.ip, a?.dst.ip, a?.dst.port, a?.response?.answers[0]?.ip], ['udp', CLIENT_IP, SERVER_IP, 53, '10.1.2.3']);
    assert.deepEqual([byName.get('mail.x.test')?.protocol.version, byName.get('mail.x.test')?.response?.answers[0]?.mx?.name], ['tcp', 'mx1.x.test']);
    assert.equal(byName.get('nope.nx.test')?.response?.code, 'Non-Existent Domain');
    assert.equal(byName.get('big.x.test')?.response?.flags.truncated, true);
    assert.equal(seen.length, 4, 'one entry per lookup');

    // Only lookups of a.x.test from the acknowledgement on: a query on DNS's KFL2 variables.
    const from = agent.frames.length;
    const query = 'dns and dns_questions == "a.x.test"';
    agent.sendControl({ type: 'filter', query });
    const ack = await agent.waitFor((f): f is FilterAppliedFrame => f.type === 'filter', 5000, 'the filter acknowledgement', from);
    assert.equal(ack.query, query);
    const after = agent.frames.indexOf(ack);
    await dig(client, [`@${SERVER_IP}`, 'mail.x.test', 'MX']);
    await dig(client, [`@${SERVER_IP}`, 'a.x.test', 'A']);
    await dig(client, [`@${SERVER_IP}`, 'txt.x.test', 'TXT']);
    await agent.waitUntil(() => (dnsEntries(agent, after).length >= 1 ? true : undefined), 15_000, 'the a.x.test entry after the filter');
    const stats = await agent.waitFor((f): f is StatsFrame => f.type === 'stats' && f.filtered >= 2, 10_000, 'stats counting 2 filtered entries', after);
    assert.deepEqual(dnsEntries(agent, after).map((e) => e.request.questions[0]?.name), ['a.x.test']);
    assert.equal(stats.internalErrors ?? 0, 0);
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    assert.deepEqual({ ...agent.lastStats()!.undissected!.datagrams }, {}, 'no DNS datagram left undissected');
  } finally {
    await scope.close();
  }
});
