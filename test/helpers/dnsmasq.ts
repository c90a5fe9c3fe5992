/**
 * A DNS server from Debian (dnsmasq-base) in a network namespace, with the records the DNS tests
 * ask for, and a client namespace on a veth pair to ask from with dig.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Scope, addAddress, addVeth, waitForPort, type Netns } from './netns.ts';
import { REPO_ROOT } from './shared-pcaps.ts';

export const CLIENT_IP = '10.97.0.1';
export const SERVER_IP = '10.97.0.2';
/** The forwarder that drops first copies (drop-first-proxy.mjs), on the server's namespace. */
export const PROXY_IP = '10.97.0.3';
export const DNS_FIXTURES = join(REPO_ROOT, 'test/fixtures/dns');

/** Five TXT strings of 200 bytes: over 1000 bytes, far past what plain UDP DNS carries (512). */
export const BIG_TXT = Array.from({ length: 5 }, (_, i) => String.fromCharCode(0x61 + i).repeat(200));

export const DNSMASQ_ARGS: readonly string[] = [
  '--no-daemon',
  '--no-resolv',
  '--no-hosts',
  '--user=root',
  '--bind-interfaces',
  `--listen-address=${SERVER_IP}`,
  '--port=53',
  '--address=/x.test/10.1.2.3',
  '--host-record=web.x.test,10.1.2.4',
  '--cname=alias.x.test,web.x.test',
  // No shell here: dnsmasq would keep quotes as part of the text.
  '--txt-record=txt.x.test,hello world,v=spf1 -all',
  `--txt-record=big.x.test,${BIG_TXT.join(',')}`,
  '--mx-host=mail.x.test,mx1.x.test,10',
  '--srv-host=_http._tcp.x.test,web.x.test,8080,1,2',
  // Names in nx.test are answered locally only: anything not defined is NXDOMAIN.
  '--local=/nx.test/',
];

export async function startDnsmasq(scope: Scope): Promise<{ client: Netns; server: Netns }> {
  const client = await scope.netns('dcli');
  const server = await scope.netns('dsrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  await addAddress(server, 'eth0', `${PROXY_IP}/24`);
  server.spawn('dnsmasq', DNSMASQ_ARGS);
  await waitForPort(client, SERVER_IP, 53);
  return { client, server };
}

export async function dig(client: Netns, args: readonly string[]): Promise<string> {
  const r = await client.exec('dig', ['+tries=1', '+time=2', ...args]);
  assert.equal(r.code, 0, `dig ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString('utf8');
}

