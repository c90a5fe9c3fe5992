/**
 * Redaction in the live agent: requests and responses carry unique secrets in headers (Bearer,
 * X-Api-Key, a session cookie next to theme=dark), query parameters, nested JSON bodies,
 * Set-Cookie, urlencoded and multipart forms. Three agents capture the same traffic:
 * - default flags: not one secret in the raw stdout bytes, the harmless neighbours all there;
 * - --no-redact: every secret is there (the traffic really carried them), REDACTION_OFF warning;
 * - --redact-keys=page,view: those query parameters are redacted as well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { agentTopology, runClientList } from './agent-fixtures/topology.ts';
import type { RequestSpec } from './agent-fixtures/client.ts';

const skip = requireNetns([]) ?? false;
const REDACTED = '[REDACTED]';
const BOUNDARY = '----ks-boundary-7f3a';

/** One secret per place it travels, so a leak names its place. */
function makeSecrets(): Record<string, string> {
  const places = ['bearer', 'apiKeyHeader', 'authCookie', 'apiKeyQuery', 'clientSecretQuery', 'jsonPassword', 'jsonToken', 'jsonChunkedKey', 'setCookie', 'formPassword', 'multipartPassword'];
  return Object.fromEntries(places.map((p) => [p, `S3CRET-${randomBytes(12).toString('hex')}`]));
}

function requests(s: Record<string, string>): RequestSpec[] {
  const json = JSON.stringify({
    // Not "user": that name is itself on the default list (its whole value would go).
    account: { password: s.jsonPassword, name: 'neighbour-ok' },
    items: [{ token: s.jsonToken, qty: 3 }],
  });
  const multipart = [
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="comment"',
    '',
    'neighbour-multipart-ok',
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="password"',
    '',
    s.multipartPassword,
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n');
  return [
    {
      method: 'GET',
      target: '/r/1/redact/headers',
      headers: { Authorization: `Bearer ${s.bearer}`, 'X-Api-Key': s.apiKeyHeader, Cookie: `auth_token=${s.authCookie}; theme=dark` },
    },
    { method: 'GET', target: `/r/2/redact/query?api_key=${s.apiKeyQuery}&page=2` },
    { method: 'GET', target: `/r/3/redact/query?client_secret=${s.clientSecretQuery}&view=full` },
    { method: 'POST', target: '/r/4/redact/json', body: { text: json, contentType: 'application/json' } },
    {
      method: 'POST',
      target: '/r/5/redact/json-chunked',
      body: { text: JSON.stringify({ data: { apiKey: s.jsonChunkedKey, note: 'neighbour-chunked-ok' } }), contentType: 'application/json', chunked: true, pieces: 3 },
    },
    { method: 'GET', target: '/r/6/redact/set-cookie', headers: { 'X-Session-Token': s.setCookie } },
    { method: 'POST', target: '/r/7/redact/form', body: { text: `password=${s.formPassword}&remember=yes`, contentType: 'application/x-www-form-urlencoded' } },
    { method: 'POST', target: '/r/8/redact/multipart', body: { text: multipart, contentType: `multipart/form-data; boundary=${BOUNDARY}` } },
  ];
}

const NEIGHBOURS = ['neighbour-ok', 'theme', 'page', 'remember', 'yes', 'qty', 'neighbour-multipart-ok', 'neighbour-chunked-ok', 'view'];

function entryAt(agent: AgentProcess, path: string): Entry {
  const found = agent.entries().filter((e) => e.request.path === path);
  assert.equal(found.length, 1, `${agent.args.join(' ')}: entries for ${path}`);
  return found[0]!;
}

function leaks(raw: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, v]) => raw.includes(v))
    .map(([k]) => k);
}

test('agent redaction: no secret leaves the agent by default; --no-redact and --redact-keys', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    const redacting = startAgent(topo.server, ['--iface', 'any'], { dir, scope, keepRaw: true });
    const open = startAgent(topo.server, ['--iface', 'any', '--no-redact'], { dir, scope, keepRaw: true });
    const themed = startAgent(topo.server, ['--iface', 'any', '--redact-keys=page,view'], { dir, scope, keepRaw: true });
    const agents = [redacting, open, themed];
    const hellos = await Promise.all(agents.map((a) => a.ready()));

    const secrets = makeSecrets();
    const specs = requests(secrets);
    const report = await runClientList(topo, specs, 1);
    assert.deepEqual(
      report.requests.filter((r) => !r.completed || r.status !== 200).map((r) => `${r.target}: ${r.status} ${r.error ?? ''}`),
      [],
      'every request succeeds',
    );
    const paths = specs.map((s) => s.target.split('?')[0]!);
    for (const agent of agents) {
      await agent.waitUntil(() => (paths.every((p) => agent.entries().some((e) => e.request.path === p)) ? true : undefined), 15_000, `entries for all ${paths.length} requests`);
      const exit = await agent.stop();
      assert.equal(exit.code, 0);
    }

    await t.test('default flags: no secret in the raw stdout, the neighbours are there', () => {
      assert.equal(hellos[0]!.redaction.enabled, true);
      assert.ok(hellos[0]!.redaction.keys.includes('password'));
      assert.equal(redacting.notices('REDACTION_OFF').length, 0);
      const raw = redacting.rawStdout().toString('utf8');
      assert.deepEqual(leaks(raw, secrets), [], 'secrets in the stdout of the redacting agent');
      assert.deepEqual(NEIGHBOURS.filter((n) => !raw.includes(n)), [], 'harmless values missing from the output');
      t.diagnostic(`${raw.length} bytes of stdout, ${redacting.entries().length} entries, ${raw.split(REDACTED).length - 1} "${REDACTED}" markers, 0 of ${Object.keys(secrets).length} secrets`);

      const headers = entryAt(redacting, '/r/1/redact/headers').request;
      assert.equal(headers.headers.Authorization, REDACTED);
      assert.equal(headers.headers['X-Api-Key'], REDACTED);
      assert.equal(headers.cookies.auth_token, REDACTED);
      assert.equal(headers.cookies.theme, REDACTED, 'every cookie value, the name stays');
      const query = entryAt(redacting, '/r/2/redact/query').request;
      assert.equal(query.queryString.api_key, REDACTED);
      assert.equal(query.queryString.page, '2');
      assert.equal(query.url, `/r/2/redact/query?api_key=${REDACTED}&page=2`);
      const json = entryAt(redacting, '/r/4/redact/json');
      assert.deepEqual(JSON.parse(json.request.postData!.text), { account: { password: REDACTED, name: 'neighbour-ok' }, items: [{ token: REDACTED, qty: 3 }] });
      assert.deepEqual(JSON.parse(json.response!.content.text), JSON.parse(json.request.postData!.text), 'the echoed response body is redacted alike');
      const form = entryAt(redacting, '/r/7/redact/form');
      assert.equal(form.request.postData!.text, `password=${REDACTED}&remember=yes`);
      const setCookie = entryAt(redacting, '/r/6/redact/set-cookie').response!;
      t.diagnostic(`Set-Cookie as sent out: headers ${JSON.stringify(setCookie.headers['Set-Cookie'])}, cookies ${JSON.stringify(setCookie.cookies)}`);
    });

    await t.test('--no-redact: every secret is in the output, REDACTION_OFF is the second frame', () => {
      assert.equal(hellos[1]!.redaction.enabled, false);
      assert.deepEqual(hellos[1]!.redaction.keys, []);
      const second = open.frames[1];
      assert.ok(second?.type === 'warning' && second.code === 'REDACTION_OFF', `second frame: ${JSON.stringify(second)}`);
      const raw = open.rawStdout().toString('utf8');
      const found = leaks(raw, secrets);
      assert.deepEqual(Object.keys(secrets).filter((k) => !found.includes(k)), [], 'secrets the unredacted output lacks (the traffic must carry them all)');
      assert.equal(raw.includes(REDACTED), false);
      t.diagnostic(`all ${found.length} secrets present without redaction`);
    });

    await t.test('--redact-keys=page,view: those query parameters are redacted too', () => {
      assert.ok(hellos[2]!.redaction.keys.includes('page') && hellos[2]!.redaction.keys.includes('view'));
      const raw = themed.rawStdout().toString('utf8');
      assert.deepEqual(leaks(raw, secrets), []);
      assert.equal(entryAt(themed, '/r/2/redact/query').request.queryString.page, REDACTED);
      assert.equal(entryAt(themed, '/r/3/redact/query').request.queryString.view, REDACTED);
      assert.equal(entryAt(redacting, '/r/3/redact/query').request.queryString.view, 'full', 'not without the key');
      assert.ok(raw.includes('neighbour-ok'));
    });
  } finally {
    await scope.close();
  }
});
