/**
 * `npm run sandbox`: a sandbox cluster with the demo shop for humans, until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { demoShopFixture, requireSandbox, startSandbox } from './index.ts';

const reason = requireSandbox();
if (reason !== null) {
  process.stderr.write(`npm run sandbox: cannot start here: ${reason}\n`);
  process.exit(1);
}

const fixture = demoShopFixture();
process.stderr.write('starting the sandbox cluster (demo shop: front-end -> catalogue -> db) ...\n');
const sandbox = await startSandbox(fixture);
const [frontEnd, catalogue] = fixture.pods!.map((p) => p.name);
const kubectl = existsSync('/usr/lib/google-cloud-sdk/bin/kubectl.1.32') ? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32' : 'kubectl';

process.stdout.write(`
Sandbox cluster at ${sandbox.server} (Kubernetes API v1.32, pods are network namespaces on this machine).

  export KUBECONFIG=${sandbox.kubeconfig}

Then try (kubectl: ${kubectl}):
  kubectl get pods -A -o wide
  kubectl get svc,endpoints -n shop
  kubectl logs -f -n shop ${catalogue}
  kubectl exec -it -n shop ${frontEnd} -- sh
  kubectl debug -n shop ${catalogue} --image=busybox:1.36 --profile=netadmin --target=catalogue -- sh -c 'echo hi'
  kubectl shark tap front-end -n shop          (the plugin, once built and on PATH)

No DNS or kube-proxy (services are names only). Ctrl-C stops it and removes everything.
`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    process.stderr.write('stopping already; press Ctrl-C again to leave leftovers behind\n');
    process.exit(1);
  }
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the sandbox ...\n`);
  await sandbox.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// Keep running until a signal comes.
setInterval(() => undefined, 1 << 30);
