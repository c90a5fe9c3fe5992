/**
 * Conformance: the real kubectl (1.32) against the sandbox, with a fresh discovery cache per run.
 * get (JSON, tables, watch), exec, debug (ephemeral containers, PodSecurity), logs, delete,
 * auth can-i, and 401.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoShopFixture, requireSandbox, startSandbox, type Sandbox } from './index.ts';
import { memoryCgroupsReason } from './pod-cgroups.ts';
import { skipFor, skipForFeature } from '../helpers/requirements.ts';

const KUBECTL_CANDIDATES = ['/usr/lib/google-cloud-sdk/bin/kubectl.1.32', '/usr/bin/kubectl'];
const kubectlPath = KUBECTL_CANDIDATES.find((p) => existsSync(p));
const skip = skipFor(requireSandbox() ?? (kubectlPath === undefined ? `no kubectl (looked for ${KUBECTL_CANDIDATES.join(', ')})` : null));
if (skip) process.stderr.write(`skipping the kubectl conformance tests: ${skip}\n`);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const shop = demoShopFixture({ intervalMs: 300 });

/** The metrics API needs the pods' memory cgroups. */
function sbMemorySkip(): string | false {
  return skipForFeature(memoryCgroupsReason());
}
const [frontEnd, catalogue] = shop.pods!.map((p) => p.name);

describe('kubectl 1.32 against the sandbox', { skip }, () => {
  let sb: Sandbox;
  let cacheDir: string;

  function kubectl(args: string[], o: { input?: string; kubeconfig?: string; timeoutMs?: number } = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(kubectlPath!, args, {
        env: { ...process.env, KUBECONFIG: o.kubeconfig ?? sb.kubeconfig, KUBECACHEDIR: cacheDir },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
      child.stdin.end(o.input ?? '');
    });
  }

  async function ok(args: string[], o: { input?: string; kubeconfig?: string } = {}): Promise<string> {
    const r = await kubectl(args, o);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-kubecache-`));
    sb = await startSandbox({
      ...shop,
      namespaces: [...shop.namespaces!, { name: 'secure', podSecurityEnforce: 'baseline' }],
      pods: [...shop.pods!, { namespace: 'secure', name: 'guarded', containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] }],
    });
  });

  after(async () => {
    await sb?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test('get pods -A -o json, get pods (server-side table), short names', async () => {
    const json = JSON.parse(await ok(['get', 'pods', '-A', '-o', 'json'])) as { items: { metadata: { namespace: string; name: string }; status: { podIP: string } }[] };
    const names = json.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    assert.deepEqual(names.sort(), [...shop.pods!.map((p) => `shop/${p.name}`), 'secure/guarded'].sort());
    assert.equal(json.items.find((p) => p.metadata.name === frontEnd)!.status.podIP, '10.244.0.10');

    const table = await ok(['get', 'pods', '-n', 'shop']);
    const [header, ...rows] = table.trim().split('\n');
    assert.match(header!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.equal(rows.length, 3);
    for (const row of rows) assert.match(row, /^\S+\s+1\/1\s+Running\s+0\s+\d+s$/);
    assert.ok(rows.some((r) => r.startsWith(`${frontEnd} `)));

    const all = await ok(['get', 'po', '-A', '-o', 'wide']);
    assert.match(all, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    assert.match(all, new RegExp(`shop\\s+${catalogue}\\s+1/1\\s+Running\\s+0\\s+\\d+s\\s+10\\.244\\.0\\.11\\s+sandbox-node`));
    const svc = await ok(['get', 'svc,ep', '-n', 'shop']);
    assert.match(svc, /service\/catalogue\s+ClusterIP\s+10\.96\.0\.\d+\s+<none>\s+80\/TCP/);
    assert.match(svc, /endpoints\/catalogue\s+10\.244\.0\.11:8080/);
    assert.match(await ok(['get', 'ns', 'secure', '--show-labels']), /pod-security.kubernetes.io\/enforce=baseline/);
    const none = await kubectl(['get', 'pods', '-n', 'nope']);
    assert.equal(none.code, 0);
    assert.match(none.stderr, /No resources found in nope namespace\./);
    const missing = await kubectl(['get', 'pod', 'nope', '-n', 'shop']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error from server \(NotFound\): pods "nope" not found/);
  });

  test('get pods -w sees a pod created and deleted during the watch', async () => {
    const child = spawn(kubectlPath!, ['get', 'pods', '-n', 'shop', '-w', '--output-watch-events'], {
      env: { ...process.env, KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: cacheDir },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    try {
      await waitFor(() => out.split('\n').filter((l) => l.startsWith('ADDED')).length === 3, `initial rows; got:\n${out}${stderr}`);
      await sb.createPod({ namespace: 'shop', name: 'watch-me', labels: { app: 'extra' }, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] });
      await waitFor(() => /MODIFIED\s+watch-me\s+1\/1\s+Running/.test(out), `watch-me running; got:\n${out}`);
      await sb.deletePod('shop', 'watch-me');
      await waitFor(() => /DELETED\s+watch-me/.test(out), `watch-me deleted; got:\n${out}`);
      assert.match(out, /^EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      assert.match(out, /ADDED\s+watch-me\s+0\/1\s+ContainerCreating/);
      assert.match(out, /MODIFIED\s+watch-me\s+1\/1\s+Terminating/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('exec -i round trip, exit codes, and the apiserver errors', async () => {
    // The shop's image is distroless-like: node and the apps, no shell, no coreutils.
    const input = 'hello from stdin\n'.repeat(1000);
    const cat = await kubectl(['exec', '-i', '-n', 'shop', frontEnd!, '-c', 'front-end', '--', 'node', '-e', 'process.stdin.pipe(process.stdout)'], { input });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, input);

    const three = await kubectl(['exec', '-n', 'shop', frontEnd!, '--', 'node', '-e', "console.log('out'); console.error('err'); process.exit(3)"]);
    assert.equal(three.code, 3);
    assert.equal(three.stdout, 'out\n');
    assert.match(three.stderr, /err\ncommand terminated with exit code 3/);

    const net = await ok(['exec', '-n', 'shop', catalogue!, '--', 'node', '-e', "process.stdout.write(require('fs').readFileSync('/proc/net/fib_trie'))"]);
    assert.match(net, /10\.244\.0\.11/, 'exec runs in the pod network namespace');
    const noShell = await kubectl(['exec', '-n', 'shop', catalogue!, '--', 'sh', '-c', 'true']);
    assert.notEqual(noShell.code, 0);
    assert.match(noShell.stdout + noShell.stderr, /exec: "sh": executable file not found in \$PATH/);

    const badContainer = await kubectl(['exec', '-n', 'shop', frontEnd!, '-c', 'nope', '--', 'true']);
    assert.equal(badContainer.code, 1);
    assert.match(badContainer.stderr, new RegExp(`Error from server \\(BadRequest\\): container nope is not valid for pod ${frontEnd}`));
    const noPod = await kubectl(['exec', '-n', 'shop', 'nope', '--', 'true']);
    assert.match(noPod.stderr, /Error from server \(NotFound\): pods "nope" not found/);

    sb.faults.deny.push({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'shop' });
    try {
      const denied = await kubectl(['exec', '-n', 'shop', frontEnd!, '--', 'true']);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, new RegExp(`Error from server \\(Forbidden\\): pods "${frontEnd}" is forbidden: User "admin" cannot create resource "pods/exec" in API group "" in the namespace "shop"`));
    } finally {
      sb.faults.deny.length = 0;
    }
  });

  test('debug --profile=netadmin adds a running ephemeral container; baseline PodSecurity forbids it', async () => {
    const r = await kubectl(['debug', '-n', 'shop', catalogue!, '--image=busybox:1.36', '--profile=netadmin', '--target=catalogue', '--', 'sh', '-c', 'echo debug says hi; sleep 2']);
    assert.equal(r.code, 0, r.stderr);
    // kubectl prints the chosen name on stdout or stderr depending on the version.
    const name = /Defaulting debug container name to (debugger-[a-z0-9]+)\./.exec(r.stdout + r.stderr)?.[1];
    assert.ok(name, r.stdout + r.stderr);
    type PodJson = { spec: { ephemeralContainers?: { name: string; targetContainerName?: string; securityContext?: { capabilities?: { add?: string[] } } }[] }; status: { ephemeralContainerStatuses?: { name: string; state: Record<string, unknown> }[] } };
    let pod: PodJson | undefined;
    await waitFor(async () => {
      pod = JSON.parse(await ok(['get', 'pod', '-n', 'shop', catalogue!, '-o', 'json'])) as PodJson;
      const state = pod.status.ephemeralContainerStatuses?.find((s) => s.name === name)?.state ?? {};
      return 'running' in state || 'terminated' in state;
    }, 'the debug container runs');
    const spec = pod!.spec.ephemeralContainers!.find((c) => c.name === name)!;
    assert.equal(spec.targetContainerName, 'catalogue');
    assert.deepEqual(spec.securityContext?.capabilities?.add, ['NET_ADMIN', 'NET_RAW']);
    assert.equal(await ok(['logs', '-n', 'shop', catalogue!, '-c', name!]), 'debug says hi\n');
    const execInto = await ok(['exec', '-n', 'shop', catalogue!, '-c', name!, '--', 'echo', 'inside the debug container']);
    assert.equal(execInto, 'inside the debug container\n');

    const forbidden = await kubectl(['debug', '-n', 'secure', 'guarded', '--image=busybox:1.36', '--profile=netadmin', '--target=app', '--', 'true']);
    assert.equal(forbidden.code, 1);
    const dn = /Defaulting debug container name to (debugger-[a-z0-9]+)\./.exec(forbidden.stdout + forbidden.stderr)?.[1];
    assert.equal(
      forbidden.stderr.trim().split('\n').at(-1),
      `Error from server (Forbidden): pods "guarded" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "${dn}" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add)`,
    );
  });

  test('debug -i attaches to the new container: stdin in, output out', async () => {
    const db = shop.pods![2]!.name;
    const r = await kubectl(['debug', '-i', '-n', 'shop', db, '--image=busybox:1.36', '--profile=general', '--', 'sh', '-c', 'read line; echo got $line'], {
      input: 'hello\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /(^|\n)got hello\n$/);
    assert.match(r.stderr, /If you don't see a command prompt, try pressing enter\./);
    assert.doesNotMatch(r.stderr, /falling back to streaming logs/);
  });

  test('logs shows what the container printed', async () => {
    const logs = await ok(['logs', '-n', 'shop', catalogue!]);
    assert.match(logs, /^catalogue listening on :8080\n/);
    await waitFor(async () => /GET \/catalogue\S* 200/.test(await ok(['logs', '-n', 'shop', catalogue!])), 'the front-end calls the catalogue');
    const tail = await ok(['logs', '-n', 'shop', catalogue!, '--tail=1']);
    assert.equal(tail.split('\n').filter(Boolean).length, 1);

    // -f follows: lines written after the request arrive.
    const child = spawn(kubectlPath!, ['logs', '-f', '--tail=0', '-n', 'shop', catalogue!], { env: { ...process.env, KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: cacheDir } });
    let followed = '';
    child.stdout.on('data', (b: Buffer) => {
      followed += b.toString('utf8');
    });
    try {
      await waitFor(() => (followed.match(/ 200 /g) ?? []).length >= 2, `followed lines; got:\n${followed}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('top pod reads the metrics API (the pods\' memory cgroups)', { skip: sbMemorySkip() }, async () => {
    const out = await ok(['top', 'pod', '-n', 'shop', '--no-headers']);
    const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows.map((r) => r[0]).sort(), shop.pods!.map((p) => p.name).sort());
    for (const [, cpu, memory] of rows) {
      assert.match(cpu!, /^\d+m$/);
      // A Node HTTP server: a few MiB at least.
      assert.ok(Number(/^(\d+)Mi$/.exec(memory!)?.[1]) >= 1, memory);
    }
  });

  test('delete pod waits for DELETED; its processes and namespace are gone', async () => {
    await sb.createPod({ namespace: 'shop', name: 'doomed', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600 & sleep 3600'] }] });
    // The pod is Running once its main process is spawned; busybox sh forks one sleep and execs the other.
    await waitFor(() => sb.processesIn('shop', 'doomed').length === 2, 'two sleeps');
    const pids = sb.processesIn('shop', 'doomed');
    const r = await kubectl(['delete', 'pod', '-n', 'shop', 'doomed'], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'pod "doomed" deleted');
    await waitFor(() => pids.every((pid) => !existsSync(`/proc/${pid}`) || /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))), 'processes gone');
    const gone = await kubectl(['get', 'pod', '-n', 'shop', 'doomed']);
    assert.match(gone.stderr, /NotFound/);
  });

  test('auth can-i answers per deny rule; a bad token is 401', async () => {
    const yes = await kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'shop']);
    assert.equal(yes.code, 0);
    assert.equal(yes.stdout.trim(), 'yes');
    sb.faults.deny.push({ verb: 'create', resource: 'pods/exec', namespace: 'shop' });
    try {
      const no = await kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'shop']);
      assert.equal(no.code, 1);
      assert.equal(no.stdout.trim(), 'no');
      const elsewhere = await kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'secure']);
      assert.equal(elsewhere.stdout.trim(), 'yes');
    } finally {
      sb.faults.deny.length = 0;
    }

    const alice = sb.kubeconfigFor('alice', { namespace: 'shop' });
    assert.match(await ok(['get', 'pods'], { kubeconfig: alice }), /front-end/);
    writeFileSync(alice, readFileSync(alice, 'utf8').replace(/token: ".*"/, 'token: "wrong"'));
    const bad = await kubectl(['get', 'pods'], { kubeconfig: alice });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
