/**
 * `tap` prints what the API server says (an error's Status message) on stderr, and the server can
 * be anyone's: its text must not drive the user's terminal. A real HTTP server answers every call
 * with a 500 whose message carries OSC 0, OSC 52 and a C1 CSI; tap must show them escaped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireBuild, runTap } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const dir = mkdtempSync(join(tmpdir(), 'shark-tap-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('tap: an API server message full of terminal escapes is printed escaped', { skip: skipFor(requireBuild()) }, async () => {
  const message = 'etcd says \u001b]0;api-title\u0007 \u001b]52;c;aWQ=\u0007 \u009b2J \u007f';
  const server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'InternalError', code: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    // Plain HTTP keeps the server small; client-node allows it only with TLS verification off.
    writeFileSync(kubeconfig, `current-context: h\ncontexts:\n- name: h\n  context: {cluster: c, user: u, namespace: shop}\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\n`);
    const res = await runTap(kubeconfig, ['web', '-o', 'json']);
    assert.equal(res.code, 1, res.stderr);
    assert.equal(res.stdout, '');
    assert.doesNotMatch(res.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control character on stderr');
    assert.match(res.stderr, /listing pods in namespace shop failed: etcd says \\u001b\]0;api-title\\u0007 \\u001b\]52;c;aWQ=\\u0007 \\u009b2J \\u007f/);
  } finally {
    server.close();
  }
});
