/**
 * The API server goes away in the middle of a tap (issue 10, item 12), with the real CLI against the
 * sandbox, whose API server is stopped (connections refused, every watch and exec stream dropped:
 * the agents die with their streams) and started again on the same address.
 *
 * Before: each pod spent its five retries (about 16 s) on the dead server and was given up for good,
 * the tap idled with zero pods and Ctrl-C exited 0. Now: the tap says so (a warning frame in -o json,
 * the header in the TUI), waits without giving up, reports "resumed" only once a list is answered
 * (not when the port merely accepts connections again), taps the same pods again, and exits 0 when
 * they all came back, 12 when it ends while they are still failed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { demoShopFixture, requireSandbox, startSandbox, type Sandbox } from '../sandbox/index.ts';
import { assertNoAgents, coreApiOf, requireBuild, startTap, type TapLine } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-outage skipped: ${skip}\n`);

/** Longer than the old give-up time (retries of 0.5 + 1 + 2 + 4 + 8 s after the streams broke). */
const OUTAGE_MS = 25_000;

let sandbox: Sandbox;
let frontEnd = '';
const pods: [string, string][] = [];

before(async () => {
  if (skip) return;
  sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
  for (const p of (await coreApiOf(sandbox).listNamespacedPod({ namespace: 'shop' })).items) {
    pods.push(['shop', p.metadata!.name!]);
    if (p.metadata!.name!.startsWith('front-end-')) frontEnd = p.metadata!.name!;
  }
});

after(async () => {
  if (!skip) await sandbox.stop();
});

function frame(code: string): (l: TapLine) => boolean {
  return (l) => (l.value as { code?: string }).code === code;
}

function isEntry(l: TapLine): boolean {
  return l.value.type === undefined;
}

test('the API server away for 25 s, then back: a warning, "resumed" only once lists are answered, entries from the same pod again, exit 0', { skip }, async () => {
  const tap = startTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json'], 180_000);
  try {
    await tap.until('entries', () => tap.entries().length >= 3, 30_000);
    const stoppedAt = Date.now();
    await sandbox.stopApi();
    await sleep(OUTAGE_MS);
    assert.equal(tap.child.exitCode, null, 'the tap goes on');
    assert.doesNotMatch(tap.stderr, /gave up/, 'no pod is given up while the API server is away');
    assert.doesNotMatch(tap.stderr, /resumed|answers again/, 'nothing resumed while nothing answers');
    const warning = tap.lines.find(frame('API_UNREACHABLE'))?.value as unknown as { type: string; message: string; since: string } | undefined;
    assert.ok(warning, `no API_UNREACHABLE frame; stderr:\n${tap.stderr}`);
    assert.equal(warning.type, 'warning');
    assert.match(warning.message, /^API server https:\/\/127\.0\.0\.1:\d+ unreachable since \d\d:\d\d:\d\d UTC \((ECONNREFUSED|ECONNRESET)\); retrying, the pods wait for it$/);
    assert.ok(Math.abs(Date.parse(warning.since) - stoppedAt) < 10_000, warning.since);

    // The port answers again, but every request gets 503: connections alone are no resumption.
    sandbox.faults.apiUnavailable = true;
    await sandbox.startApi();
    await sleep(10_000);
    assert.equal(tap.lines.filter(frame('API_RESUMED')).length, 0, `resumed while every list got 503:\n${tap.stderr}`);
    assert.doesNotMatch(tap.stderr, /resumed|answers again/);

    const answeringAt = Date.now();
    sandbox.faults.apiUnavailable = false;
    await tap.until('the API_RESUMED frame', () => tap.lines.some(frame('API_RESUMED')), 20_000);
    const resumedIndex = tap.lines.findIndex(frame('API_RESUMED'));
    const resumed = tap.lines[resumedIndex]!;
    assert.ok(resumed.at >= answeringAt);
    const notice = resumed.value as unknown as { type: string; message: string; since: string; downMs: number };
    assert.equal(notice.type, 'notice');
    assert.equal(notice.since, warning.since);
    assert.ok(notice.downMs >= OUTAGE_MS + 10_000, `downMs ${notice.downMs}`);
    assert.match(notice.message, /^API server https:\/\/127\.0\.0\.1:\d+ answers again after \d+ s \(unreachable since \d\d:\d\d:\d\d UTC\): tapping the pods again$/);
    assert.ok(tap.lines.findIndex(frame('API_UNREACHABLE')) < resumedIndex, 'the warning, then the resumed notice');

    // Entries again, from a new agent run in the same pod.
    await tap.until('entries after the outage', () => tap.lines.slice(resumedIndex).filter(isEntry).length >= 3, 30_000);
    const later = tap.lines.slice(resumedIndex).filter(isEntry).map((l) => l.value);
    for (const e of later) assert.match(e.id, new RegExp(`^shop/${frontEnd}/r2\\.`), e.id);
    assert.equal(tap.lines.slice(tap.lines.findIndex(frame('API_UNREACHABLE')), resumedIndex).filter(isEntry).length, 0, 'nothing while it was away');

    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`shop/${frontEnd}\\s+ended`));
    assert.doesNotMatch(res.stderr, /whose capture failed/);
  } finally {
    sandbox.faults.apiUnavailable = false;
    await sandbox.startApi();
    if (tap.child.exitCode === null) tap.child.kill('SIGKILL');
  }
  await assertNoAgents(sandbox, pods);
});

test('a tap stopped while the API server is away ends with its pods failed: exit 12, the pods named', { skip }, async () => {
  const tap = startTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json'], 120_000);
  try {
    await tap.until('entries', () => tap.entries().length >= 2, 30_000);
    await sandbox.stopApi();
    // Past the old give-up time: the pod still waits (it would have been given up and forgotten).
    await sleep(20_000);
    const res = await tap.interrupt();
    assert.equal(res.code, 12, res.stderr);
    assert.ok(tap.lines.some(frame('API_UNREACHABLE')));
    assert.match(res.stderr, new RegExp(`shop/${frontEnd}\\s+failed\\s+\\d+\\s+\\d+\\s+\\d+\\s+API server unreachable since \\d\\d:\\d\\d:\\d\\d UTC \\(ECONNREFUSED\\); not back before the tap stopped`));
    assert.match(res.stderr, new RegExp(`the tap ended with 1 pod whose capture failed: shop/${frontEnd}`));
    assert.doesNotMatch(res.stderr, /gave up/);
  } finally {
    await sandbox.startApi();
    if (tap.child.exitCode === null) tap.child.kill('SIGKILL');
  }
  await assertNoAgents(sandbox, pods);
});
