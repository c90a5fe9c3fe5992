import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
