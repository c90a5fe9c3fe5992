/**
 * `kubectl shark tap` on DNS in the sandbox cluster: a resolver pod runs dnsmasq (the
 * distroless-like `sandbox.local/dnsmasq:1`: dnsmasq and its libraries only), a client pod
 * (`sandbox.local/dig:1`) asks it with dig over UDP and TCP in a loop; both pods are tapped.
 * Every lookup comes out once (the two sightings of one call merged by the DNS descriptor's dedup
 * key), as a DNS entry between the two pods, with the answer dnsmasq gives.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DnsEntry } from '../../src/remote-agent/dissect/dns/entry.ts';
import { requireBuild, startTap } from '../helpers/tap.ts';
import { requireSandbox, startSandbox, type Sandbox, type SandboxFixture } from '../sandbox/index.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
const RESOLVER_IP = '10.244.0.53';

const LOOKUPS = [
  `dig +short +tries=1 @${RESOLVER_IP} a.x.test A`,
  `dig +short +tries=1 +tcp @${RESOLVER_IP} mail.x.test MX`,
  `dig +short +tries=1 @${RESOLVER_IP} nope.nx.test A`,
].join('; ');

const FIXTURE: SandboxFixture = {
  namespaces: [{ name: 'dns' }],
  pods: [
    {
      namespace: 'dns',
      name: 'resolver',
      labels: { app: 'resolver' },
      ip: RESOLVER_IP,
      mountSource: false,
      containers: [
        {
          name: 'dnsmasq',
          image: 'sandbox.local/dnsmasq:1',
          command: ['/usr/sbin/dnsmasq', '--no-daemon', '--no-resolv', '--no-hosts', '--user=root', '--bind-interfaces', `--listen-address=${RESOLVER_IP}`, '--port=53', '--address=/x.test/10.1.2.3', '--mx-host=mail.x.test,mx1.x.test,10', '--local=/nx.test/'],
        },
      ],
    },
    {
      namespace: 'dns',
      name: 'client',
      labels: { app: 'client' },
      mountSource: false,
      containers: [{ name: 'dig', image: 'sandbox.local/dig:1', command: ['bash', '-c', `while true; do ${LOOKUPS}; sleep 0.3; done`] }],
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

test('tap -n dns: dig in one pod asking dnsmasq in another, over UDP and TCP, each lookup once', { skip }, async (t) => {
  const tap = startTap(sandbox, ['-n', 'dns', '-o', 'json']);
  const dns = (): DnsEntry[] => tap.entries('dns');
  const names = (): Set<string> => new Set(dns().map((e) => `${e.protocol.version} ${e.request.questions[0]?.name}`));
  try {
    await tap.until('each kind of lookup twice', () => dns().length >= 9 && names().size === 3, 45_000);
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
  const entries = dns();
  t.diagnostic(entries.slice(0, 6).map((e) => `${e.id} ${e.protocol.version} ${e.src.name}:${e.src.port} -> ${e.dst.name}:${e.dst.port} ${e.request.questions[0]?.name} -> ${e.response?.rcodeName}`).join('\n'));
  assert.deepEqual([...names()].sort(), ['tcp mail.x.test', 'udp a.x.test', 'udp nope.nx.test']);
  for (const e of entries) {
    assert.equal(e.dst.ip, RESOLVER_IP);
    assert.equal(e.dst.port, 53);
    assert.match(e.src.name, /^client/);
    assert.match(e.dst.name, /^resolver/);
    const name = e.request.questions[0]?.name;
    if (name === 'a.x.test') assert.equal(e.response?.answers[0]?.ip, '10.1.2.3');
    if (name === 'mail.x.test') assert.deepEqual(e.response?.answers[0]?.mx, { preference: 10, name: 'mx1.x.test' });
    if (name === 'nope.nx.test') assert.equal(e.response?.rcodeName, 'NXDOMAIN');
  }
  // Both pods see every lookup: merged, each comes out once (a lookup is its client port and id).
  const calls = entries.map((e) => `${e.protocol.version}|${e.src.port}|${e.request.id}`);
  assert.equal(new Set(calls).size, calls.length, `duplicates among ${calls.length} entries`);
});
