/**
 * An agent with --tls stops within its second (docs/tap.md: agents exit within 1 s) even with a
 * Go binary hooked: tens of return probes, whose removal the kernel does synchronously in close(2)
 * (~70 ms per uprobe perf event). The agent stops events at once, does not wait for the kernel, and
 * leaves nothing behind: its programs and links are gone soon after it exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NoticeFrame } from '../../src/remote-agent/wire/protocol.ts';
import { Scope, requireNetns, waitForPort } from '../helpers/netns.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { buildGoTls, requireGo } from '../helpers/go-tls.ts';
import { skipFor, missingCommand } from '../helpers/requirements.ts';
import { until } from '../helpers/until.ts';

const skip = skipFor(requireNetns([]) ?? requireGo() ?? missingCommand('bpftool', 'Debian bpftool'));

function linkIds(): Set<number> {
  const r = spawnSync('bpftool', ['-j', 'link', 'list'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return new Set((JSON.parse(r.stdout || '[]') as { id: number }[]).map((l) => l.id));
}

test('agent --tls with a Go server hooked: stop answers bye and exits within 1 s, and its links are gone after', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const dir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-tls-stop-`));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const goBinary = buildGoTls(dir);
    const ns = await scope.netns('tstop');
    ns.spawn(goBinary, ['server', '127.0.0.1:9443']);
    await waitForPort(ns, '127.0.0.1', 9443);
    const before = linkIds();
    const agent = startAgent(ns, ['--tls', '--iface', 'any'], { dir: prepareAgentDir(scope), scope });
    await agent.ready();
    const hooked = await agent.waitUntil(
      () => agent.frames.find((f): f is NoticeFrame => f.type === 'warning' && (f.code as string) === 'TLS_HOOKED' && f.message.includes('(go-tls)')),
      30_000,
      'the Go server hooked',
    );
    t.diagnostic(hooked.message);
    const mine = [...linkIds()].filter((id) => !before.has(id));
    assert.ok(mine.length > 3, `the agent holds ${mine.length} links`);

    const exit = await agent.stop(5000);
    t.diagnostic(`stopped in ${exit.latencyMs} ms`);
    assert.equal(exit.code, 0, agent.stderr);
    assert.ok(agent.frames.some((f) => f.type === 'bye'), 'bye written');
    assert.ok(exit.latencyMs < 1000, `the agent took ${exit.latencyMs} ms to stop`);
    await until('the kernel freed the agent\'s links', () => {
      const now = linkIds();
      return mine.every((id) => !now.has(id)) ? true : undefined;
    }, 10_000);
  } finally {
    await scope.close();
  }
});
