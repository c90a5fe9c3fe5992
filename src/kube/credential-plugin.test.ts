import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { EXEC_PROVIDER, ExecCredentialAuth, type ExecConfig } from './credential-plugin.ts';
import { SecretScrubber } from './secret-scrub.ts';

const dir = mkdtempSync(join(tmpdir(), 'shark-plugin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A plugin script that logs each run (and what it was given) and prints `output`. */
function plugin(name: string, body: string): string {
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function user(name: string, exec: ExecConfig): k8s.User {
  return { name, authProvider: { name: EXEC_PROVIDER, config: { plugin: exec, user: name, kubeconfig: '/x/kubeconfig' } } };
}

const CRED = (token: string, extra = '') => `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"${extra}}}`;

test('a plugin runs once for concurrent requests, gets KUBERNETES_EXEC_INFO and no stdin, and its token is kept (no expiry)', async () => {
  const log = join(dir, 'runs.log');
  const cmd = plugin(
    'get-token',
    `if [ -t 0 ]; then tty=yes; else tty=no; fi
extra=$(cat)
printf '%s stdin-tty=%s stdin=%s env=%s\\n' "$1" "$tty" "$extra" "$PLUGIN_ENV" >> ${log}
printf '%s' "$KUBERNETES_EXEC_INFO" > ${join(dir, 'info.json')}
sleep 0.2
printf '%s' '${CRED('plugin-token-1')}'`,
  );
  const secrets = new SecretScrubber();
  const auth = new ExecCredentialAuth(secrets, { stdinIsTerminal: () => false });
  const u = user('eve', { apiVersion: 'client.authentication.k8s.io/v1', command: cmd, args: ['first'], env: [{ name: 'PLUGIN_ENV', value: 'set' }], interactiveMode: 'IfAvailable' });
  const headers = await Promise.all(
    [1, 2, 3].map(async () => {
      const opts: { headers?: Record<string, string> } = {};
      await auth.applyAuthentication(u, opts);
      return opts.headers?.['Authorization'];
    }),
  );
  assert.deepEqual(headers, ['Bearer plugin-token-1', 'Bearer plugin-token-1', 'Bearer plugin-token-1']);
  await auth.applyAuthentication(u, {});
  assert.equal(readFileSync(log, 'utf8'), 'first stdin-tty=no stdin= env=set\n', 'one run, stdin /dev/null, args and env passed');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')), {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    spec: { interactive: false },
  });
  assert.equal(secrets.scrub('plugin-token-1'), '[redacted]');
});

test('an expired credential runs the plugin again', async () => {
  const log = join(dir, 'expiring.log');
  const cmd = plugin('expiring', `echo run >> ${log}\nprintf '%s' '${CRED('t', ',"expirationTimestamp":"2020-01-01T00:00:00Z"')}'`);
  const auth = new ExecCredentialAuth(new SecretScrubber(), { stdinIsTerminal: () => false });
  const u = user('exp', { apiVersion: 'client.authentication.k8s.io/v1', command: cmd, interactiveMode: 'Never' });
  await auth.credential(u);
  await auth.credential(u);
  assert.equal(readFileSync(log, 'utf8'), 'run\nrun\n');
});

test('interactiveMode Always without a terminal fails at once and never starts the plugin', async () => {
  const marker = join(dir, 'always-ran');
  const cmd = plugin('always', `touch ${marker}\nread -r line\nprintf '%s' '${CRED('x')}'`);
  const auth = new ExecCredentialAuth(new SecretScrubber(), { stdinIsTerminal: () => false });
  const started = performance.now();
  await assert.rejects(auth.applyAuthentication(user('ann', { apiVersion: 'client.authentication.k8s.io/v1', command: cmd, interactiveMode: 'Always' }), {}), (err: unknown) => {
    assert.ok(err instanceof SharkError);
    assert.equal(err.code, 'KUBE_CONFIG');
    assert.match(err.message, /credential plugin .*always of user "ann" \(kubeconfig \/x\/kubeconfig\) needs a terminal \(interactiveMode: Always\), but standard input is not a terminal/);
    return true;
  });
  const ms = performance.now() - started;
  assert.ok(ms < 100, `failed after ${ms} ms`);
  assert.equal(existsSync(marker), false);
});

test('a plugin that fails, is missing, or prints no credential: one clear error each', async () => {
  const auth = new ExecCredentialAuth(new SecretScrubber(), { stdinIsTerminal: () => false });
  const cases: [string, ExecConfig, string, RegExp][] = [
    ['fails', { command: plugin('fails', 'echo "login expired" >&2; exit 3'), interactiveMode: 'Never' }, 'KUBE_UNAUTHORIZED', /failed with exit code 3/],
    ['missing', { command: join(dir, 'no-such-plugin'), interactiveMode: 'Never', installHint: 'install it with brew' }, 'KUBE_CONFIG', /cannot be run: not found .*\ninstall it with brew/s],
    ['garbage', { command: plugin('garbage', 'echo hello'), interactiveMode: 'Never' }, 'KUBE_UNAUTHORIZED', /did not print an ExecCredential/],
    ['version', { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin('v1', `printf '%s' '${CRED('x')}'`), interactiveMode: 'Never' }, 'KUBE_UNAUTHORIZED', /configured for client\.authentication\.k8s\.io\/v1beta1 but printed client\.authentication\.k8s\.io\/v1/],
    ['empty', { command: plugin('empty', `printf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","status":{}}'`), interactiveMode: 'Never' }, 'KUBE_UNAUTHORIZED', /neither a token nor a client certificate/],
    ['mode', { command: '/bin/true', interactiveMode: 'Sometimes' }, 'KUBE_CONFIG', /interactiveMode "Sometimes"/],
  ];
  for (const [name, exec, code, pattern] of cases) {
    await assert.rejects(auth.credential(user(name, exec)), (err: unknown) => {
      assert.ok(err instanceof SharkError, String(err));
      assert.equal(err.code, code, name);
      assert.match(err.message, pattern);
      return true;
    });
  }
});
