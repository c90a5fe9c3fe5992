/**
 * Kubeconfig parity with kubectl (issue 10, items 16 and 17), with the real CLI, the real kubectl
 * and a real exec credential plugin against the sandbox. The plugin lives in one folder, the
 * kubeconfig in another (naming the plugin, its token file and its CA by relative paths), and both
 * programs run from a third: what works for kubectl must work for tap.
 *
 * - a relative exec `command` and a relative token file (`tokenFile`, kubectl's spelling, or
 *   client-node's `token-file`; ending in a newline, as `echo` writes it) resolve against the
 *   kubeconfig's folder, and the token is trimmed;
 * - a token-file holding a byte no header may carry gives one clear error and no byte of the token,
 *   and any message quoting the token shows [redacted] instead;
 * - `interactiveMode: Always` without a terminal fails at once (not after the 30 s request timeout),
 *   and with one (a pty from util-linux `script`) the plugin prompts on it and reads the answer.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { demoShopFixture, requireSandbox, startSandbox, type Sandbox } from '../sandbox/index.ts';
import { NODE } from '../helpers/capture.ts';
import { findKubectl, runCommand, type CliResult } from '../helpers/run-cli.ts';
import { MAIN, requireBuild, tapEnv } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-kubeconfig skipped: ${skip}\n`);
const kubectl = findKubectl();
const hasScript = (() => {
  try {
    return readFileSync('/usr/bin/script').length > 0;
  } catch {
    return false;
  }
})();

/** A token the server never sees: the request fails in the client, on its illegal byte. */
const BAD_TOKEN = 'shark-bad-token-0123456789\x01-tail-secret-abcdef';
const ONE_TIME_CODE = '4242';

let sandbox: Sandbox;
let root: string;
let work: string;
let cacheDir: string;
let token: string;
/** The sandbox's own kubeconfig for eve: the token inline, absolute paths. */
let eveKubeconfig: string;

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

before(async () => {
  if (skip) return;
  sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
  eveKubeconfig = sandbox.kubeconfigFor('eve');
  const eve = readFileSync(eveKubeconfig, 'utf8');
  token = /token: "([^"]+)"/.exec(eve)![1]!;
  const ca = /certificate-authority: "([^"]+)"/.exec(eve)![1]!;
  const frank = readFileSync(sandbox.kubeconfigFor('frank', { token: false }), 'utf8');
  root = mkdtempSync(join(tmpdir(), 'shark-kubeconfig-'));
  // The working folder is deeper than the others, so ../plugins from it is no plugin.
  for (const d of ['plugins', 'config/pki', 'config/secrets', 'elsewhere/work', 'cache']) mkdirSync(join(root, d), { recursive: true });
  work = join(root, 'elsewhere/work');
  cacheDir = join(root, 'cache');
  copyFileSync(ca, join(root, 'config/pki/ca.crt'));
  copyFileSync(/client-certificate: "([^"]+)"/.exec(frank)![1]!, join(root, 'config/pki/frank.crt'));
  copyFileSync(/client-key: "([^"]+)"/.exec(frank)![1]!, join(root, 'config/pki/frank.key'));
  writeFileSync(join(root, 'config/secrets/token'), `${token}\n`);
  writeFileSync(join(root, 'config/secrets/bad'), `${BAD_TOKEN}\n`);
  const plugin = join(root, 'plugins/get-token.sh');
  writeFileSync(
    plugin,
    `#!/bin/sh
# An exec credential plugin: "prompt" asks for a one-time code on the terminal, as SSO plugins do.
# Like many real ones it just reads its standard input, whatever that is.
if [ "$1" = prompt ]; then
  echo "get-token: started" >&2
  printf 'one-time code: ' >&2
  read -r code
  [ "$code" = "${ONE_TIME_CODE}" ] || { echo "get-token: wrong code" >&2; exit 5; }
fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' '${token}'
`,
  );
  chmodSync(plugin, 0o755);
  const exec = (command: string, arg: string, mode: string) =>
    `{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${command}", args: [${arg}], interactiveMode: ${mode}}}`;
  const users: Record<string, string> = {
    plugin: exec('../plugins/get-token.sh', 'quiet', 'Never'),
    // client-node resolved these already; kept here so it stays so.
    cert: '{client-certificate: pki/frank.crt, client-key: pki/frank.key}',
    // kubectl's spelling (clientcmd/api/v1), and client-node's, which kubectl ignores.
    file: '{tokenFile: secrets/token}',
    'file-dash': '{token-file: secrets/token}',
    // Absolute, so the terminal cases do not depend on resolving the command.
    prompt: exec(plugin, 'prompt', 'Always'),
    // Absolute: the leak does not depend on where the file is looked for.
    bad: `{token-file: "${join(root, 'config/secrets/bad')}"}`,
  };
  // One kubeconfig per user, side by side, so each case stands alone.
  for (const [name, user] of Object.entries(users)) {
    writeFileSync(
      kubeconfigOf(name),
      [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${name}`,
        'clusters:',
        '- name: sandbox',
        `  cluster: {server: "${sandbox.server}", certificate-authority: pki/ca.crt}`,
        'users:',
        `- name: ${name}\n  user: ${user}`,
        'contexts:',
        `- name: ${name}\n  context: {cluster: sandbox, user: ${name}, namespace: shop}`,
        '',
      ].join('\n'),
    );
  }
});

function kubeconfigOf(name: string): string {
  return join(root, 'config', `${name}.kubeconfig`);
}

after(async () => {
  if (skip) return;
  await sandbox.stop();
  rmSync(root, { recursive: true, force: true });
});

function tap(user: string, extra: readonly string[] = []): Promise<CliResult> {
  return runCommand(NODE, [MAIN, 'tap', 'front-end', '-n', 'shop', '-o', 'json', ...extra], { env: tapEnv(kubeconfigOf(user)), cwd: work, timeoutMs: 90_000 });
}

function kubectlRun(user: string): Promise<CliResult> {
  return runCommand(kubectl!, ['get', 'pods', '-n', 'shop', '-o', 'name'], {
    env: { ...tapEnv(kubeconfigOf(user)), KUBECACHEDIR: cacheDir },
    cwd: work,
    timeoutMs: 60_000,
  });
}

/** NDJSON entries; on a terminal a line may start after the plugin's prompt. */
function entries(stdout: string): { src: { pod?: string }; dst: { pod?: string } }[] {
  return stdout
    .split(/\r?\n/)
    .filter((l) => l.includes('{"id":'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{"id":'))));
}

test('a relative exec command, client certificate and token file (ending in a newline): kubectl and tap both work from a third folder', { skip }, async () => {
  for (const context of ['plugin', 'cert', 'file', 'file-dash']) {
    if (kubectl && context !== 'file-dash') {
      const k = await kubectlRun(context);
      assert.equal(k.code, 0, `kubectl as ${context}: ${k.stderr}`);
      assert.match(k.stdout, /pod\/front-end-/);
    }
    const res = await tap(context, ['--count', '2']);
    assert.equal(res.code, 0, `tap as ${context}: ${res.stderr}`);
    const got = entries(res.stdout);
    assert.equal(got.length, 2);
    for (const e of got) assert.ok(e.src.pod?.startsWith('front-end-') || e.dst.pod?.startsWith('front-end-'));
  }
});

test('a token-file holding a byte no HTTP header may carry: one clear error (exit 2) and no byte of the token', { skip }, async () => {
  const res = await tap('bad', ['--count', '1']);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /a credential of context "bad" \(user "bad"\) holds a character no HTTP header may carry/);
  const printed = res.stdout + res.stderr;
  for (const run of BAD_TOKEN.split(/[\x00-\x1f]/)) assert.ok(!printed.includes(run), `${run} printed:\n${printed}`);
  assert.doesNotMatch(printed, /Bearer (?!\[redacted\])/);
});

test('every message passes the scrubber: one that quotes the kubeconfig\'s token (here a pod regex echoed back) shows [redacted]', { skip }, async () => {
  // Nothing matches the token as a name: exit 3, whose message repeats the regex.
  const res = await runCommand(NODE, [MAIN, 'tap', token, '-n', 'shop', '-o', 'json'], { env: tapEnv(eveKubeconfig), cwd: work, timeoutMs: 60_000 });
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /no running pod matches \(name matching \/\[redacted\]\/\)/);
  assert.ok(!(res.stdout + res.stderr).includes(token), res.stderr);
});

test('interactiveMode Always without a terminal: the error says so at once, as kubectl does', { skip }, async () => {
  // What tap costs to start and fail on its own (Node, client-node, the kubeconfig): the floor.
  let started = performance.now();
  const floor = await tap('plugin', ['--context', 'no-such-context']);
  const floorMs = performance.now() - started;
  assert.equal(floor.code, 2, floor.stderr);
  started = performance.now();
  const res = await tap('prompt', ['--count', '1']);
  const ms = performance.now() - started;
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /the credential plugin .*get-token\.sh of user "prompt" \(kubeconfig .*config\/prompt\.kubeconfig\) needs a terminal \(interactiveMode: Always\), but standard input is not a terminal/);
  assert.doesNotMatch(res.stderr, /get-token: started/, 'the plugin is not even started');
  process.stdout.write(`# Always without a terminal: tap failed after ${Math.round(ms)} ms (a bad --context: ${Math.round(floorMs)} ms)\n`);
  assert.ok(ms - floorMs < 1000, `${Math.round(ms)} ms against ${Math.round(floorMs)} ms for a bad --context`);
  if (kubectl) {
    const k = await kubectlRun('prompt');
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /standard input is not a terminal/);
  }
});

test('interactiveMode Always on a terminal: the plugin prompts on it and reads the answer, for kubectl and for tap', { skip: skip || skipFor(hasScript ? null : 'util-linux script is not installed') }, async () => {
  const onTerminal = (command: string[]): Promise<CliResult> =>
    runCommand('script', ['-qec', command.map(sq).join(' '), '/dev/null'], {
      env: { ...tapEnv(kubeconfigOf('prompt')), KUBECACHEDIR: cacheDir },
      cwd: work,
      input: Buffer.from(`${ONE_TIME_CODE}\n`),
      timeoutMs: 90_000,
    });
  if (kubectl) {
    const k = await onTerminal([kubectl, 'get', 'pods', '-n', 'shop', '-o', 'name']);
    assert.equal(k.code, 0, k.stdout);
    assert.match(k.stdout, /one-time code: /);
    assert.match(k.stdout, /pod\/front-end-/);
  }
  const res = await onTerminal([NODE, MAIN, 'tap', 'front-end', '-n', 'shop', '-o', 'json', '--count', '2']);
  assert.equal(res.code, 0, res.stdout);
  assert.equal((res.stdout.match(/one-time code: /g) ?? []).length, 1, 'asked once, though tap makes many requests');
  assert.equal(entries(res.stdout).length, 2, res.stdout);
});
