/**
 * DNS from real programs, in network namespaces: dnsmasq (Debian's dnsmasq-base) answers A, CNAME,
 * TXT, MX, SRV and NXDOMAIN, and a TXT too big for 512 bytes (truncated over UDP, then over TCP);
 * dig asks over UDP and TCP; a forwarder that drops the first copy of each query makes dig
 * retransmit, and a script replays one query datagram. tcpdump captures the client's side, and the
 * capture is read back: every lookup is one entry with what dig printed, retransmissions included.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { DnsEntry } from '../../src/remote-agent/dissect/dns/entry.ts';
import { Capture, NODE } from '../helpers/capture.ts';
import { dissectDnsCapture } from '../helpers/dns-read.ts';
import { BIG_TXT, CLIENT_IP, dig, DNS_FIXTURES, PROXY_IP, SERVER_IP, startDnsmasq } from '../helpers/dnsmasq.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { entriesOf } from '../helpers/entries-of.ts';
import { requireBuild } from '../helpers/tap.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['dnsmasq', 'dig', 'tcpdump']) ?? requireBuild());

test('dig to dnsmasq over UDP and TCP, captured in a namespace and read back: one entry per lookup', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server } = await startDnsmasq(scope);
    const proxy = server.spawn(NODE, [join(DNS_FIXTURES, 'drop-first-proxy.mjs'), PROXY_IP, SERVER_IP]);
    await new Promise<void>((resolve, reject) => {
      proxy.stdout?.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      proxy.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
    });
    const dir = mkdtempSync(join(tmpdir(), 'ks-dns-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'dns.pcap');
    const capture = await Capture.start(client, 'eth0', file);

    assert.match(await dig(client, [`@${SERVER_IP}`, 'a.x.test', 'A']), /a\.x\.test\.\s+0\s+IN\s+A\s+10\.1\.2\.3/);
    assert.match(await dig(client, ['+tcp', `@${SERVER_IP}`, 'tcp.x.test', 'A']), /IN\s+A\s+10\.1\.2\.3/);
    assert.match(await dig(client, [`@${SERVER_IP}`, 'alias.x.test', 'A']), /CNAME\s+web\.x\.test\./);
    assert.match(await dig(client, [`@${SERVER_IP}`, 'txt.x.test', 'TXT']), /"hello world" "v=spf1 -all"/);
    assert.match(await dig(client, [`@${SERVER_IP}`, 'mail.x.test', 'MX']), /MX\s+10 mx1\.x\.test\./);
    assert.match(await dig(client, [`@${SERVER_IP}`, '_http._tcp.x.test', 'SRV']), /SRV\s+1 2 8080 web\.x\.test\./);
    assert.match(await dig(client, [`@${SERVER_IP}`, 'nope.nx.test', 'A']), /status: NXDOMAIN/);
    // Plain DNS (no EDNS) over UDP: the big TXT comes back truncated; +ignore keeps that answer.
    assert.match(await dig(client, ['+noedns', '+ignore', `@${SERVER_IP}`, 'big.x.test', 'TXT']), /flags: qr aa tc/);
    // Without +ignore dig asks again over TCP and gets all of it.
    assert.match(await dig(client, ['+noedns', `@${SERVER_IP}`, 'big.x.test', 'TXT']), new RegExp(BIG_TXT[4]!));
    // The forwarder drops the first copy: dig retransmits (the same id and question) and gets the answer.
    const retried = await client.exec('dig', ['+tries=3', '+time=1', `@${PROXY_IP}`, 'retry.x.test', 'A']);
    assert.match(retried.stdout.toString('utf8'), /IN\s+A\s+10\.1\.2\.3/, retried.stderr);
    const replay = await client.exec(NODE, [join(DNS_FIXTURES, 'replay-query.mjs'), SERVER_IP, 'replay.x.test']);
    assert.equal(replay.stdout.toString('utf8').trim(), '2', `both copies of the replayed query were answered: ${replay.stderr}`);
    await capture.stop();

    const { entries, stats } = dissectDnsCapture(file);
    const byName = (name: string, type = 'A'): DnsEntry[] => entries.filter((e) => e.request.questions[0]?.name === name && e.request.questions[0]?.type === type);
    const one = (name: string, type = 'A', transport = 'udp'): DnsEntry => {
      const found = byName(name, type).filter((e) => e.protocol.version === transport);
      assert.equal(found.length, 1, `one ${transport} entry for ${name} ${type}: ${JSON.stringify(found.map((e) => e.id))}`);
      return found[0]!;
    };
    t.diagnostic(entries.map((e) => `${e.id} ${e.protocol.version} ${e.request.questions[0]?.name} ${e.request.questions[0]?.type} -> ${e.response?.rcodeName ?? 'none'}`).join('\n'));

    const a = one('a.x.test');
    assert.deepEqual([a.src.ip, a.dst.ip, a.dst.port, a.response?.answers[0]?.ip, a.error], [CLIENT_IP, SERVER_IP, 53, '10.1.2.3', null]);
    assert.ok(a.elapsedTime > 0);
    assert.equal(one('tcp.x.test', 'A', 'tcp').response?.answers[0]?.ip, '10.1.2.3');
    assert.deepEqual(one('alias.x.test').response?.answers.map((r) => r.cname ?? r.ip), ['web.x.test', '10.1.2.4']);
    assert.deepEqual(one('txt.x.test', 'TXT').response?.answers[0]?.txts, ['hello world', 'v=spf1 -all']);
    assert.deepEqual(one('mail.x.test', 'MX').response?.answers[0]?.mx, { preference: 10, name: 'mx1.x.test' });
    assert.deepEqual(one('_http._tcp.x.test', 'SRV').response?.answers[0]?.srv, { priority: 1, weight: 2, port: 8080, name: 'web.x.test' });
    const nx = one('nope.nx.test');
    assert.deepEqual([nx.response?.rcodeName, nx.response?.code], ['NXDOMAIN', 'Non-Existent Domain']);

    const big = byName('big.x.test', 'TXT');
    const truncated = big.filter((e) => e.protocol.version === 'udp');
    assert.equal(truncated.length, 2, 'two truncated UDP answers (with and without +ignore)');
    for (const e of truncated) assert.equal(e.response?.flags.truncated, true);
    const full = big.filter((e) => e.protocol.version === 'tcp');
    assert.equal(full.length, 1);
    assert.deepEqual(full[0]!.response?.answers[0]?.txts, BIG_TXT);

    const retry = one('retry.x.test');
    assert.ok(retry.response !== null && retry.elapsedTime >= 900, `answered, timed from the first copy (${retry.elapsedTime} ms)`);
    const replayed = one('replay.x.test');
    assert.equal(replayed.request.id, 0x4242);
    assert.ok(replayed.response !== null);

    assert.equal(entries.length, 12, 'no other entries: retransmissions and replays are not counted twice');
    assert.deepEqual([stats.orphanResponses, stats.unpairedRequests, stats.dissectionErrors, stats.internalErrors], [0, 0, 0, 0]);
    assert.deepEqual({ ...stats.undissected.datagrams }, {}, 'every datagram dissected');

    // The same capture through the CLI: `read -o json` gives the same lookups, and a KFL filter on
    // DNS's variables selects one of them.
    const read = await runShark(['read', '-o', 'json', file]);
    assert.equal(read.code, 0, read.stderr);
    const fromCli = entriesOf(parseNdjson<Entry>(read.stdout), 'dns');
    assert.deepEqual(fromCli.map((e) => e.id).sort(), entries.map((e) => e.id).sort());
    const filtered = await runShark(['read', '-o', 'json', file, '--filter', 'dns and dns_questions == "mail.x.test" and "MX" in dns_question_types']);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.deepEqual(entriesOf(parseNdjson<Entry>(filtered.stdout), 'dns').map((e) => e.response?.answers[0]?.mx?.name), ['mx1.x.test']);
    assert.match(filtered.stderr, /12 seen, 1 matched the filter/);
  } finally {
    await scope.close();
  }
});
