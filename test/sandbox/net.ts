/**
 * The sandbox's pod network: one Linux bridge in the root namespace (the "node"), and per pod a
 * network namespace joined to it by a veth pair. Names carry the pid (like test/helpers/netns.ts)
 * so leftovers of a killed run are swept by the next one.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, createNetns, run, runOk, sweepStale, uniqueName, type Netns } from '../helpers/netns.ts';

export const POD_PREFIX = 16;
export const GATEWAY = '10.244.0.1';


/** The number uniqueName() just used: keeps our interface names apart from the helpers' ones. */
function nextCounter(): string {
  return uniqueName().split('-')[2]!;
}

function disableIpv6(iface: string): void {
  // Router solicitations and MLD from the root side would show up in every pod's capture.
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${iface}/disable_ipv6`, '1');
  } catch {
    /* no IPv6 in this kernel: nothing to silence */
  }
}

/** Removes bridges and temp dirs of sandboxes whose process is gone (namespaces/veths: sweepStale). */
export async function sweepStaleSandboxes(): Promise<string[]> {
  const removed = await sweepStale();
  const links = await run('ip', ['-o', 'link', 'show', 'type', 'bridge']);
  for (const line of links.stdout.toString('utf8').split('\n')) {
    const m = /^\d+: (ksbr(\d+)x\d+)[@:]/.exec(line);
    if (!m || alive(Number(m[2]))) continue;
    await run('ip', ['link', 'del', m[1]!]);
    removed.push(m[1]!);
  }
  for (const entry of readdirSync(tmpdir())) {
    const m = /^ks-(\d+)-sandbox-/.exec(entry);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

export class Bridge {
  readonly name: string;
  #deleted = false;

  private constructor(name: string) {
    this.name = name;
  }

  static async create(): Promise<Bridge> {
    const bridge = new Bridge(`ksbr${process.pid}x${nextCounter()}`);
    try {
      await runOk('ip', ['link', 'add', bridge.name, 'type', 'bridge']);
      disableIpv6(bridge.name);
      // The gateway address lets the host reach pods; another sandbox may hold the same one: harmless.
      await run('ip', ['addr', 'add', `${GATEWAY}/${POD_PREFIX}`, 'dev', bridge.name]);
      await runOk('ip', ['link', 'set', bridge.name, 'up']);
    } catch (err) {
      // A failed step (an `ip` killed by the Ctrl-C that stops `npm run sandbox`, say) may come
      // after the link exists: nobody else knows its name yet.
      await bridge.destroy();
      throw err;
    }
    return bridge;
  }

  /** A new pod namespace with `eth0` at `ip` on this bridge, default route via the gateway. */
  async attachPod(tag: string, ip: string): Promise<Netns> {
    const ns = await createNetns(tag);
    const n = nextCounter();
    const host = `ksa${process.pid}x${n}`;
    const peer = `ksb${process.pid}x${n}`;
    try {
      await runOk('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
      disableIpv6(host);
      await runOk('ip', ['link', 'set', peer, 'netns', ns.name, 'name', 'eth0']);
      await runOk('ip', ['link', 'set', host, 'master', this.name, 'up']);
      await ns.ip(['addr', 'add', `${ip}/${POD_PREFIX}`, 'dev', 'eth0']);
      await ns.ip(['link', 'set', 'eth0', 'up']);
      await ns.ip(['route', 'add', 'default', 'via', GATEWAY]);
    } catch (err) {
      await ns.destroy();
      // The host end, when the pair was made but its peer never reached the namespace.
      await run('ip', ['link', 'del', host]);
      throw err;
    }
    return ns;
  }

  async destroy(): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    await run('ip', ['link', 'del', this.name]);
  }
}

/** Pids of every process in a namespace right now (`ip netns pids`). */
export function pidsIn(netns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}
