/**
 * The soak benchmark's view of /proc: which processes run (command line, network namespace,
 * parent) and how much memory each holds. Agents run in pods, not under the CLI, so they are
 * found by their command line and told apart by their pod's network namespace.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { vmRssKbOf } from './soak-samples.ts';

export interface ProcInfo {
  readonly pid: number;
  readonly cmdline: string;
  /** Inode of /proc/PID/ns/net, or 0 when unreadable. */
  readonly netnsIno: number;
}

function netnsInoOf(pid: number): number {
  try {
    const m = /net:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Every process now, with its command line (arguments joined by spaces). */
export function listProcesses(): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline === '') continue;
    found.push({ pid, cmdline, netnsIno: netnsInoOf(pid) });
  }
  return found;
}

/** The inode of a named network namespace (`ip netns add NAME`), as /proc/PID/ns/net shows it. */
export function namedNetnsIno(name: string): number {
  return statSync(`/run/netns/${name}`).ino;
}

/** The cgroup paths of a process (/proc/PID/cgroup, every hierarchy), or '' when it is gone. */
export function cgroupOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'latin1');
  } catch {
    return '';
  }
}

/** RSS of a process in KiB, or null when it is gone. */
export function rssKbOf(pid: number): number | null {
  try {
    return vmRssKbOf(readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return null;
  }
}

/** Children of a process (Linux's task children list), for the command a tmux pane's shell runs. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** An agent (`node .../agent.js capture`), not the shell that started it. */
export const AGENT_CMDLINE = /^\S*node .*agent\.js capture/;
/** The cgroup of a capture container (`.../<pod>/shark-xxxxx`): its keeper and whatever was exec'd into it. */
export const CAPTURE_CGROUP = /\/shark-[a-z0-9]{5}$/m;
