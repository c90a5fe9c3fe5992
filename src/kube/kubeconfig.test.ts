import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import { SharkError } from '../model/errors.ts';
import { kubeconfigFiles, loadKubeConfig } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'shark-kc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, yaml: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, yaml);
  return path;
}

const a = file(
  'a.yaml',
  `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: https://a.example:6443, certificate-authority: certs/ca.crt}
users:
- name: alice
  user: {token: from-a}
contexts:
- name: ctx-a
  context: {cluster: shared, user: alice, namespace: team-a}
- name: shared-ctx
  context: {cluster: shared, user: alice}
`,
);
const b = file(
  'b.yaml',
  `apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster: {server: https://b.example:6443}
- name: only-b
  cluster: {server: https://only-b.example:6443}
users:
- name: bob
  user: {token: from-b}
contexts:
- name: ctx-b
  context: {cluster: only-b, user: bob}
- name: shared-ctx
  context: {cluster: only-b, user: bob, namespace: b-wins-not}
`,
);
const c = file(
  'c.yaml',
  `apiVersion: v1
kind: Config
current-context: ctx-a
clusters: []
users: []
contexts: []
`,
);

test('KUBECONFIG: files merge with the first definition of a name winning whole, missing files skipped', () => {
  const loaded = loadKubeConfig({}, { KUBECONFIG: [join(dir, 'missing.yaml'), a, b].join(delimiter) });
  assert.deepEqual(loaded.files, [a, b]);
  // a sets no current-context, b does: the first file that sets it wins.
  assert.equal(loaded.context, 'ctx-b');
  assert.equal(loaded.server, 'https://only-b.example:6443');
  assert.equal(loaded.namespace, 'default');
  // "shared" comes from a (first), whole: b's server is not merged in.
  assert.equal(loaded.kc.getCluster('shared')?.server, 'https://a.example:6443');
  // "shared-ctx" from a: no namespace field taken from b's copy.
  assert.equal(loaded.kc.getContextObject('shared-ctx')?.namespace, undefined);
  // Relative paths resolve against the file that holds them.
  assert.equal(loaded.kc.getCluster('shared')?.caFile, join(dir, 'certs', 'ca.crt'));
});

test('current-context comes from the first file that sets it, even when a later file sets another', () => {
  const loaded = loadKubeConfig({}, { KUBECONFIG: [c, a, b].join(delimiter) });
  assert.equal(loaded.context, 'ctx-a');
  assert.equal(loaded.namespace, 'team-a');
  assert.equal(loaded.server, 'https://a.example:6443');
  assert.equal(loaded.user, 'alice');
});

test('--context picks another context; its namespace is the default namespace', () => {
  const loaded = loadKubeConfig({ context: 'ctx-a' }, { KUBECONFIG: [a, b].join(delimiter) });
  assert.equal(loaded.context, 'ctx-a');
  assert.equal(loaded.namespace, 'team-a');
  assert.equal(loaded.kc.getCurrentContext(), 'ctx-a');
});

test('--kubeconfig reads only that file and ignores KUBECONFIG', () => {
  const loaded = loadKubeConfig({ kubeconfig: b }, { KUBECONFIG: a });
  assert.deepEqual(loaded.files, [b]);
  assert.equal(loaded.context, 'ctx-b');
  assert.deepEqual(kubeconfigFiles({}, { HOME: '/home/x' }).files, ['/home/x/.kube/config']);
});

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SharkError);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

test('errors name the file or the context', () => {
  rejects(() => loadKubeConfig({ kubeconfig: join(dir, 'nope.yaml') }, {}), 'KUBE_CONFIG', /nope\.yaml: no such file/);
  rejects(() => loadKubeConfig({}, { KUBECONFIG: join(dir, 'nope.yaml') }), 'KUBE_CONFIG', /none of the KUBECONFIG files exist/);
  rejects(() => loadKubeConfig({}, { HOME: join(dir, 'nohome') }), 'KUBE_CONFIG', /\.kube\/config does not exist/);
  rejects(() => loadKubeConfig({ context: 'nope' }, { KUBECONFIG: b }), 'KUBE_CONFIG', /context "nope" is not in .*known: ctx-b, shared-ctx/);
  rejects(() => loadKubeConfig({}, { KUBECONFIG: a }), 'KUBE_CONFIG', /no current context/);
  const broken = file('broken.yaml', 'clusters: [ {name: x\n');
  rejects(() => loadKubeConfig({ kubeconfig: broken }, {}), 'KUBE_CONFIG', /cannot read kubeconfig .*broken\.yaml/);
  const dangling = file('dangling.yaml', 'current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone, user: u}\nclusters: []\nusers: []\n');
  rejects(() => loadKubeConfig({ kubeconfig: dangling }, {}), 'KUBE_CONFIG', /names cluster "gone"/);
});

test('a context without a user still gets its cluster CA (anonymous, as kubectl allows)', () => {
  const anon = file('anon.yaml', 'current-context: x\ncontexts:\n- name: x\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: https://k.example, certificate-authority-data: Zm9v}\nusers: []\n');
  const loaded = loadKubeConfig({ kubeconfig: anon }, {});
  assert.notEqual(loaded.kc.getCurrentUser(), null);
});

/** The Authorization header client-node would send for the loaded context. */
async function authorization(loaded: { kc: import('@kubernetes/client-node').KubeConfig }): Promise<string | undefined> {
  const opts: { headers?: Record<string, string> } = {};
  await loaded.kc.applyToHTTPSOptions(opts);
  return opts.headers?.['Authorization'];
}

test('a relative token-file is read from the kubeconfig\'s folder, whatever the working directory, and trimmed like kubectl', async () => {
  file('nested/secrets/token', '  tok-from-file-123\n\n');
  const kc = file(
    'nested/kc.yaml',
    'current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: https://k.example}\n' +
      'users:\n- name: u\n  user: {token-file: secrets/token}\n',
  );
  const cwd = process.cwd();
  process.chdir(tmpdir());
  try {
    const loaded = loadKubeConfig({ kubeconfig: kc }, {});
    assert.equal(await authorization(loaded), 'Bearer tok-from-file-123');
    // The token is remembered so no message can show it.
    assert.equal(loaded.secrets.scrub('saw tok-from-file-123'), 'saw [redacted]');
    // kubectl's own spelling of the field (clientcmd/api/v1) is read the same way.
    const camel = file('nested/camel.yaml', readFileSync(kc, 'utf8').replace('token-file:', 'tokenFile:'));
    assert.equal(await authorization(loadKubeConfig({ kubeconfig: camel }, {})), 'Bearer tok-from-file-123');
  } finally {
    process.chdir(cwd);
  }
  file('nested/secrets/empty', ' \n');
  const empty = file('nested/empty.yaml', readFileSync(kc, 'utf8').replace('secrets/token', 'secrets/empty'));
  rejects(() => loadKubeConfig({ kubeconfig: empty }, {}), 'KUBE_CONFIG', /the token file .*nested\/secrets\/empty of user "u" \(kubeconfig .*empty\.yaml\) is empty/);
  const missing = file('nested/missing.yaml', readFileSync(kc, 'utf8').replace('secrets/token', 'secrets/none'));
  rejects(() => loadKubeConfig({ kubeconfig: missing }, {}), 'KUBE_CONFIG', /cannot read the token file .*nested\/secrets\/none of user "u".*ENOENT/);
});

test('an exec command with a path separator resolves against the kubeconfig\'s folder; a bare name is left to PATH', () => {
  const kc = file(
    'plugins-kc/kc.yaml',
    'current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: rel}\nclusters:\n- name: k\n  cluster: {server: https://k.example}\nusers:\n' +
      '- name: rel\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ../bin/get-token, args: [a], interactiveMode: Never}}\n' +
      '- name: bare\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, interactiveMode: Never}}\n' +
      '- name: abs\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /opt/get-token, interactiveMode: Never}}\n',
  );
  const loaded = loadKubeConfig({ kubeconfig: kc }, {});
  const command = (name: string): unknown => (loaded.kc.getUser(name)?.authProvider as { config: { plugin: { command: string } } }).config.plugin.command;
  assert.equal(command('rel'), join(dir, 'bin', 'get-token'));
  assert.equal(command('bare'), 'get-token');
  assert.equal(command('abs'), '/opt/get-token');
  assert.equal(loaded.kc.getUser('rel')?.exec, undefined, "client-node's own ExecAuth never sees it");
});
