/**
 * `npm run sandbox`: a sandbox cluster with the demo shop for humans, until Ctrl-C.
 *
 * It cleans up whatever happens to its output. Run as `npm run sandbox 2>&1 | tee log`, a Ctrl-C
 * sends SIGINT to the whole foreground group, so tee is gone before we print "stopping", and every
 * write from then on meets a closed pipe (EPIPE). Node reports that as an 'error' event on
 * process.stdout/stderr which, unhandled, ends the process before the namespaces, the bridge, the
 * cgroups and the temp dir are removed. So: output that goes quiet instead of throwing, handlers
 * installed before anything is created, and a stop that runs once whatever asked for it.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sandboxImages } from './images/store.ts';
import { demoShopFixture, requireSandbox, startSandbox, type Sandbox } from './index.ts';

/** A writer for people that drops its text once the stream's reader is gone, and never throws. */
function quietOnClose(stream: NodeJS.WriteStream): (text: string) => void {
  let open = true;
  // Also covers the sandbox's own process.stderr writes (failed stop steps): they go quiet too.
  stream.on('error', () => {
    open = false;
  });
  return (text) => {
    if (!open || stream.destroyed) return;
    try {
      stream.write(text);
    } catch {
      open = false;
    }
  };
}

const out = quietOnClose(process.stdout);
const err = quietOnClose(process.stderr);

const reason = requireSandbox();
if (reason !== null) {
  err(`npm run sandbox: cannot start here: ${reason}\n`);
  process.exit(1);
}

/**
 * npm passes the SIGINT of a Ctrl-C on to its script, which got the terminal's own SIGINT already:
 * a second signal this soon after the first is that copy, not a person pressing Ctrl-C again.
 */
const REPEAT_IS_IMPATIENCE_MS = 2000;
/** How long a failed start waits for a signal that may have caused the failure. */
const STRAY_SIGNAL_MS = 200;

let starting: Promise<Sandbox> | undefined;
let stopRequestedAt: number | undefined;

/** Stops the sandbox (once it is up, if a signal came while it started) and exits with `code`. */
function stop(why: string, code: number): void {
  if (stopRequestedAt !== undefined) return;
  stopRequestedAt = Date.now();
  err(`\n${why}: stopping the sandbox ...\n`);
  const stopped = starting === undefined ? Promise.resolve() : starting.then((sb) => sb.stop(), () => undefined);
  void stopped.finally(() => process.exit(code));
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopRequestedAt === undefined) return stop(signal, 0);
  if (signal !== 'SIGINT' || Date.now() - stopRequestedAt < REPEAT_IS_IMPATIENCE_MS) return;
  const pid = process.pid;
  err(`stopped before the clean-up finished: what is left (namespaces ks-${pid}-*, links ks*${pid}x*, /tmp/ks-${pid}-sandbox-*) goes with the next sandbox start\n`);
  process.exit(1);
}

// Installed before anything is created, so a Ctrl-C while the pods start still removes them.
// SIGPIPE is left as Node sets it (ignored): a closed output pipe shows up as the EPIPE handled
// above, and a handler would also fire whenever a pod's stdin or a client's socket closes early.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
process.on('uncaughtException', (e) => {
  err(`npm run sandbox: ${e.stack ?? String(e)}\n`);
  stop('an unexpected error', 1);
});
process.on('unhandledRejection', (e) => {
  err(`npm run sandbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  stop('an unexpected error', 1);
});

// The pods' images come from a local store built from this machine's packages: the first run
// builds them (seconds), later runs find them in the cache. Said before the cluster starts, so a
// person sees what the wait is for, and a missing Debian package is named with its apt-get line.
err('preparing the sandbox images (built once from this machine\'s Debian packages, reused from then on) ...\n');
try {
  await sandboxImages().ensure((line) => err(`  ${line}\n`));
} catch (e) {
  if (stopRequestedAt !== undefined) await new Promise<never>(() => undefined);
  err(`npm run sandbox: could not prepare the images: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

const fixture = demoShopFixture();
err('starting the sandbox cluster (demo shop: front-end -> catalogue -> db) ...\n');
starting = startSandbox(fixture);
const sandbox = await starting.catch(async (e: unknown) => {
  // A Ctrl-C reaches openssl and ip too: their failure (startSandbox has removed what it made then)
  // can come before our own SIGINT does. A stop is not a failure to start: stop() exits.
  await sleep(STRAY_SIGNAL_MS);
  if (stopRequestedAt !== undefined) return new Promise<never>(() => undefined);
  err(`npm run sandbox: could not start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
const [frontEnd, catalogue] = fixture.pods!.map((p) => p.name);
const kubectl = existsSync('/usr/lib/google-cloud-sdk/bin/kubectl.1.32') ? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32' : 'kubectl';

// A signal while it started: stop() is removing it already.
if (stopRequestedAt === undefined) out(`
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

// Keep running until a signal comes.
setInterval(() => undefined, 1 << 30);
