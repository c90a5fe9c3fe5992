/**
 * The redaction corpus captured live (root): the bundled agent runs in the server's network
 * namespace on its real interface while python3 and curl in the client namespace send all 110
 * corpus exchanges (fresh secret markers every run) to the corpus server. Two agents capture the
 * same traffic:
 * - default flags: not one of the 134 secrets (nor a base64 form of one) in the raw stdout bytes,
 *   every neighbour in its case's entry;
 * - --no-redact: every secret is there (the traffic really carried them), and every size field
 *   (requestSize, responseSize, headersSize, bodySize, content.size) equals the redacted entry's.
 * The same corpus read from its vendored capture without root: redaction-corpus-read.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { buildCorpus, countByClass } from '../fixtures/redaction-corpus/corpus.ts';
import { corpusTopology, driveCorpus, failedSends } from '../fixtures/redaction-corpus/drive.ts';
import { absentSecrets, findLeaks, leakTable, lostNeighbours, missingEntries, sizeDifferences } from '../fixtures/redaction-corpus/verify.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['curl', 'python3']));

test('live agent: no corpus secret leaves the agent, neighbours and sizes intact', { skip, timeout: 300_000 }, async (t) => {
  const seed = `live-${randomBytes(8).toString('hex')}`;
  const cases = buildCorpus(seed);
  const secrets = cases.reduce((n, c) => n + c.secrets.length, 0);
  const scope = new Scope();
  try {
    const topo = await corpusTopology(scope, seed);
    const dir = prepareAgentDir(scope);
    const redacting = startAgent(topo.server, ['--iface=eth0'], { dir, scope, keepRaw: true });
    const open = startAgent(topo.server, ['--iface=eth0', '--no-redact'], { dir, scope, keepRaw: true });
    const agents: AgentProcess[] = [redacting, open];
    const [hello] = await Promise.all(agents.map((a) => a.ready()));
    assert.equal(hello!.redaction.enabled, true);

    const sent = await driveCorpus(topo, cases);
    assert.deepEqual(failedSends(cases, sent), [], 'every case got its listed answer');
    for (const agent of agents) {
      await agent.waitUntil(() => (missingEntries(agent.entries(), cases).length === 0 ? true : undefined), 30_000, `entries for all ${cases.length} cases`);
      const exit = await agent.stop();
      assert.equal(exit.code, 0);
    }

    const raw = redacting.rawStdout().toString('utf8');
    const leaks = findLeaks(raw, cases);
    t.diagnostic(`seed ${seed}: ${cases.length} cases ${JSON.stringify(countByClass(cases))}, ${secrets} secrets`);
    t.diagnostic(leakTable(leaks, cases).join('; '));
    t.diagnostic(`${raw.length} bytes of redacting agent stdout, ${redacting.entries().length} entries`);
    assert.deepEqual(leaks.map((l) => `${l.id} ${l.secret} (form ${l.form})`), [], 'secrets in the stdout of the redacting agent');
    assert.deepEqual(lostNeighbours(redacting.entries(), cases), [], 'neighbours redacted away');
    assert.equal(redacting.notices('REDACTION_OFF').length, 0);

    const plainRaw = open.rawStdout().toString('utf8');
    assert.deepEqual(absentSecrets(plainRaw, cases), [], 'secrets the --no-redact output lacks (the traffic must carry them all)');
    assert.deepEqual(sizeDifferences(redacting.entries(), open.entries(), cases), [], 'size fields changed by redaction');
  } finally {
    await scope.close();
  }
});
