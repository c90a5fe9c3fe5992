/**
 * The capture container's main process. An ephemeral container can never be removed from its pod,
 * so it must end by itself once nobody uses it, and leave nothing behind: the keeper scans /proc
 * every few seconds for agents of its container (an argument `<tmp>/<prefix>XXXXXXXXXX/agent.js`,
 * where each upload unpacked into a fresh `mktemp -d` folder named with the container's prefix),
 * removes a folder as soon as its agent is gone (and one no agent ever used once it is `idle` ms
 * old: an upload whose tap died before starting it), and exits 0, removing every folder of its
 * prefix, after `idle` ms without an agent. Plain CommonJS for `node -e` in any stock Node image.
 *
 * Arguments (after the script): prefix [idleMs=60000] [intervalMs=2000] [procDir=/proc] [tmpDir=os.tmpdir()].
 */
export const KEEPER_IDLE_MS = 60_000;
export const KEEPER_INTERVAL_MS = 2_000;

/** The name every agent folder of `container` starts with (mktemp adds the random rest). */
export function agentFolderPrefix(container: string): string {
  return `kubectl-shark-${container}.`;
}

export const KEEPER_SCRIPT = `'use strict';
const fs = require('fs');
// Ours, not the app's: the kernel's first OOM victim when the pod runs out of memory, and the
// last in line for CPU (as the agent: src/remote-agent/agent/yield-to-app.ts).
try { fs.writeFileSync('/proc/self/oom_score_adj', '1000'); } catch {}
try { require('os').setPriority(19); } catch {}
const path = require('path');
const [prefix, idleArg, everyArg, procArg, tmpArg] = process.argv.slice(1);
const idleMs = Number(idleArg || ${KEEPER_IDLE_MS});
const everyMs = Number(everyArg || ${KEEPER_INTERVAL_MS});
const proc = procArg || '/proc';
const tmp = tmpArg || require('os').tmpdir();
function runningFolders() {
  const found = new Set();
  let names;
  try { names = fs.readdirSync(proc); } catch { return found; }
  for (const name of names) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline;
    try { cmdline = fs.readFileSync(proc + '/' + name + '/cmdline', 'latin1'); } catch { continue; }
    for (const arg of cmdline.split('\\0')) {
      if (!arg.endsWith('/agent.js')) continue;
      const folder = path.basename(path.dirname(arg));
      if (folder.startsWith(prefix)) found.add(folder);
    }
  }
  return found;
}
const used = new Set();
function sweep(running, everything) {
  let entries;
  try { entries = fs.readdirSync(tmp, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith(prefix) || running.has(e.name)) continue;
    const full = path.join(tmp, e.name);
    let gone = everything || used.has(e.name);
    if (!gone) {
      try { gone = Date.now() - fs.statSync(full).mtimeMs >= idleMs; } catch { continue; }
    }
    if (!gone) continue;
    try { fs.rmSync(full, { recursive: true, force: true }); } catch {}
    used.delete(e.name);
  }
}
function finish() {
  sweep(new Set(), true);
  process.exit(0);
}
let lastSeen = Date.now();
setInterval(() => {
  const running = runningFolders();
  for (const f of running) used.add(f);
  if (running.size > 0) lastSeen = Date.now();
  sweep(running, false);
  if (running.size === 0 && Date.now() - lastSeen >= idleMs) finish();
}, everyMs);
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
`;

/** The container command: `node -e <keeper> <prefix of its agent folders>`. */
export function keeperCommand(container: string): string[] {
  return ['node', '-e', KEEPER_SCRIPT, agentFolderPrefix(container)];
}
