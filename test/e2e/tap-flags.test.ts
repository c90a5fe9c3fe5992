/**
 * `tap` flag handling, without a cluster: durations, usage errors (exit 2 before any API call),
 * kubeconfig errors, and an unreachable API server (a closed port: exit 4).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseDuration, validateTapArgs, type TapArgs } from '../../cmd/tap.ts';
import { SharkError } from '../../src/model/errors.ts';
import { requireBuild, runTap } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const dir = mkdtempSync(join(tmpdir(), 'shark-tapflags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cliSkip = skipFor(requireBuild());

const base: TapArgs = {
  podRegex: undefined,
  namespace: undefined,
  allNamespaces: false,
  selector: undefined,
  container: undefined,
  context: undefined,
  kubeconfig: undefined,
  filter: undefined,
  output: undefined,
  duration: undefined,
  count: undefined,
  image: 'node:24-slim',
  profile: 'auto',
  redact: true,
  dryRun: false,
  stats: false,
  timeout: '60s',
  maxBody: undefined,
  maxMemory: undefined,
  force: false,
  maxEntries: 1000,
  color: 'auto',
};

test('durations: units and combinations; a number without a unit is not one', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  // A number without a unit is not a duration (seconds? minutes?): validateTapArgs asks.
  for (const bad of ['', '5x', 's', '1m x', '-3s', '45', '1.5']) assert.equal(parseDuration(bad), null, bad);
});

test('flags are checked before the cluster is touched', () => {
  const usage = (args: Partial<TapArgs>, pattern: RegExp): void =>
    assert.throws(
      () => validateTapArgs({ ...base, ...args }, false),
      (e: unknown) => e instanceof SharkError && e.code === 'USAGE' && pattern.test(e.message),
    );
  usage({ duration: 'soon' }, /--duration "soon" is not a duration/);
  usage({ duration: '5' }, /^--duration 5 has no unit: write 5s for seconds \(or m, h, ms\)$/);
  usage({ timeout: '90' }, /^--timeout 90 has no unit: write 90s/);
  usage({ selector: 'app in (web' }, /^-l "app in \(web" is not a label selector: expected ',' or '\)' in the values of 'app in', found the end \(column 12\)$/);
  usage({ selector: 'app=web,' }, /expected a label key, found the end \(column 9\)/);
  usage({ selector: 'tier=_db' }, /"_db" is not a label value/);
  usage({ output: 'text', stats: true }, /--stats writes JSON lines: use it with -o json/);
  assert.equal(validateTapArgs({ ...base, selector: 'app=web,tier!=db,env in (prod, qa),!canary,gen>3' }, false).output, 'json');
  assert.equal(validateTapArgs({ ...base, output: 'text' }, false).output, 'text');
  usage({ count: 0 }, /--count 0 must be a whole number above 0/);
  usage({ count: 1.5 }, /--count 1.5/);
  usage({ timeout: '0s' }, /--timeout/);
  usage({ maxBody: 'lots' }, /--max-body "lots" is not a size/);
  usage({ podRegex: '[a' }, /POD_REGEX "\[a" is not a valid RE2/);
  usage({ filter: 'response.status >=' }, /bad --filter query \(column/);
  usage({ redactKeys: 'tenant,-_-' }, /--redact-keys: "-_-" has no letter or digit/);
  usage({ redact: false, redactKeys: 'tenant' }, /--redact-keys has no effect with --no-redact/);
  assert.deepEqual(validateTapArgs({ ...base, redactKeys: ['tenant,ssn', ' pin '] }, false).redactKeys, ['tenant', 'ssn', 'pin']);
  assert.deepEqual(validateTapArgs(base, false).redactKeys, []);
  usage({ profile: 'root' }, /--profile "root" is not a profile: choose auto or privileged/);
  // Retired: capture never needed NET_ADMIN; the message says what to use instead.
  usage({ profile: 'netadmin' }, /--profile netadmin is retired: capturing needs only CAP_NET_RAW, which --profile auto \(the default\) gives.*Use --profile auto, or --profile privileged/);
  assert.equal(validateTapArgs({ ...base, profile: 'privileged' }, false).profile, 'privileged');
  // --tls: privileged, said why; with no --profile, auto; an explicit auto with --tls is refused.
  const tls = validateTapArgs({ ...base, profile: undefined, tls: true }, false);
  assert.equal(tls.profile, 'privileged');
  assert.equal(tls.tls, true);
  assert.match(tls.profileNotice ?? '', /^--tls runs the capture container with --profile privileged: its eBPF probes need bpf\(\) and perf_event_open\(\)/);
  assert.equal(validateTapArgs({ ...base, profile: 'privileged', tls: true }, false).profileNotice, null);
  assert.equal(validateTapArgs({ ...base, profile: undefined }, false).profile, 'auto');
  assert.equal(validateTapArgs({ ...base, profile: undefined }, false).profileNotice, null);
  usage({ profile: 'auto', tls: true }, /^--profile auto cannot capture TLS: .*bpf\(\) and perf_event_open\(\)/);
  usage({ maxMemory: 'plenty' }, /--max-memory "plenty" is not a size \(try 150Mi, or 150 for MiB\)/);
  usage({ maxMemory: '64Mi' }, /--max-memory 64Mi is below what the capture agent needs to run \(96Mi\)/);
  usage({ maxMemory: '95' }, /--max-memory 95 is below/);
  const ok = validateTapArgs({ ...base, duration: '2m', count: 5, maxBody: '1KiB', filter: 'http' }, false);
  assert.equal(ok.durationMs, 120_000);
  assert.equal(ok.count, 5);
  assert.equal(ok.maxBody, 1024);
  assert.equal(ok.maxMemoryBytes, undefined, 'sized per pod unless given');
  const MiB = 2 ** 20;
  assert.equal(validateTapArgs({ ...base, maxMemory: '150' }, false).maxMemoryBytes, 150 * MiB, 'a plain number is MiB');
  assert.equal(validateTapArgs({ ...base, maxMemory: '150Mi' }, false).maxMemoryBytes, 150 * MiB);
  assert.equal(validateTapArgs({ ...base, maxMemory: '1Gi' }, false).maxMemoryBytes, 1024 * MiB);
  assert.equal(validateTapArgs({ ...base, maxMemory: '128.7MiB' }, false).maxMemoryBytes, 128 * MiB, 'whole MiB');
  assert.equal(ok.output, 'json', 'piped: json by default');
  assert.equal(validateTapArgs(base, true).output, 'tui', 'on a terminal: the TUI');
});

test('the CLI: bad flags exit 2 with one message line; a bad kubeconfig exits 2', { skip: cliSkip }, async () => {
  const cases: [string[], RegExp][] = [
    [['--profile', 'root'], /--profile "root" is not a profile: choose auto or privileged/],
    [['--profile', 'netadmin', '-o', 'json'], /--profile netadmin is retired/],
    [['--tls', '--profile', 'auto', '-o', 'json'], /--profile auto cannot capture TLS/],
    [['-o', 'yaml'], /Invalid values/],
    [['web(', '-o', 'json'], /POD_REGEX "web\(" is not a valid RE2 regular expression/],
    [['--duration', 'x', '-o', 'json'], /--duration "x" is not a duration/],
    [['--duration', '5', '-o', 'json'], /--duration 5 has no unit: write 5s for seconds/],
    [['--count', 'abc', '-o', 'json'], /--count: expected a whole number, got "abc"/],
    [['-l', 'app in (web', '-o', 'json'], /-l "app in \(web" is not a label selector/],
    [['-l', 'app==web==x', '-o', 'json'], /expected ',' between requirements, found "==" \(column 9\)/],
    [['--kubeconfig', join(dir, 'none.yaml'), '-o', 'json'], /--kubeconfig .*none\.yaml: no such file/],
  ];
  for (const [args, pattern] of cases) {
    const res = await runTap(join(dir, 'unused'), args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, pattern);
    assert.equal(res.stdout, '');
    // A flag's mistake points at tap's help (a kubeconfig problem is not about tap's flags).
    if (!args.includes('--kubeconfig')) assert.match(res.stderr, /^kubectl shark tap: [^\n]+\n(?:[^\n]*\n)*Run 'kubectl shark tap --help' for usage\.\n$/);
  }
  const ctx = join(dir, 'ctx.yaml');
  writeFileSync(ctx, 'current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: t}\n');
  const res = await runTap(ctx, ['--context', 'b', '-o', 'json']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /context "b" is not in .*ctx\.yaml \(known: a\)/);
});

test('the CLI: an API server nobody listens on is "unreachable", exit 4', { skip: cliSkip }, async () => {
  // A port that was free a moment ago: connections are refused.
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const kc = join(dir, 'closed.yaml');
  writeFileSync(
    kc,
    `current-context: gone\ncontexts:\n- name: gone\n  context: {cluster: c, user: u, namespace: shop}\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\n`,
  );
  const started = Date.now();
  const res = await runTap(kc, ['front-end', '-o', 'json']);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, new RegExp(`cannot reach the cluster at https://127.0.0.1:${port} \\(context "gone"\\) while listing pods in namespace shop: ECONNREFUSED`));
  assert.equal(res.stderr.trim().split('\n').length, 1, 'one message');
  assert.ok(Date.now() - started < 10_000);
});

test('the CLI: a bad -l selector exits 2 before any API call (an unreachable server is never asked)', { skip: cliSkip }, async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const kc = join(dir, 'closed-selector.yaml');
  writeFileSync(
    kc,
    `current-context: gone\ncontexts:\n- name: gone\n  context: {cluster: c, user: u, namespace: shop}\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\n`,
  );
  for (const selector of ['app in (web', 'app=web,,tier=db', 'app=we b', 'tier=-db', 'gen>x', '!app=web']) {
    const res = await runTap(kc, ['-l', selector, '-o', 'json']);
    assert.equal(res.code, 2, `${selector}: ${res.stderr}`);
    assert.match(res.stderr, new RegExp(`^kubectl shark tap: -l ${JSON.stringify(selector).replace(/[()]/g, '\\$&')} is not a label selector: .* \\(column \\d+\\)\nRun 'kubectl shark tap --help' for usage\\.\n$`));
  }
  // The same command with a good selector does go to the (closed) server: exit 4.
  const good = await runTap(kc, ['-l', 'app=web,tier notin (db)', '-o', 'json']);
  assert.equal(good.code, 4, good.stderr);
});
