/**
 * The capture container's main process. An ephemeral container can never be removed from its pod,
 * so it must end by itself once nobody uses it: the keeper scans /proc every few seconds for an
 * agent started from its folder (`<dir>/agent.js` in a command line) and exits 0, removing the
 * folder, after `idle` ms without one. Plain CommonJS for `node -e` in any stock Node image.
 *
 * Arguments (after the script): dir [idleMs=60000] [intervalMs=5000] [procDir=/proc].
 */
export const KEEPER_IDLE_MS = 60_000;
export const KEEPER_INTERVAL_MS = 5_000;

// The needle is built at run time so the keeper's own command line (which holds the script and the
// folder as separate arguments) never contains it; its own pid is skipped as well.
export const KEEPER_SCRIPT = `'use strict';
const fs = require('fs');
// Ours, not the app's: the kernel's first OOM victim when the pod runs out of memory, and the
// last in line for CPU (as the agent: src/remote-agent/agent/yield-to-app.ts).
try { fs.writeFileSync('/proc/self/oom_score_adj', '1000'); } catch {}
try { require('os').setPriority(19); } catch {}
const [dir, idleArg, everyArg, procArg] = process.argv.slice(1);
const idleMs = Number(idleArg || ${KEEPER_IDLE_MS});
const everyMs = Number(everyArg || ${KEEPER_INTERVAL_MS});
const proc = procArg || '/proc';
const needle = dir + '/' + 'agent.js';
function agentRunning() {
  let names;
  try { names = fs.readdirSync(proc); } catch { return false; }
  for (const name of names) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline;
    try { cmdline = fs.readFileSync(proc + '/' + name + '/cmdline', 'latin1'); } catch { continue; }
    if (cmdline.includes(needle)) return true;
  }
  return false;
}
function finish() {
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch {}
  process.exit(0);
}
let lastSeen = Date.now();
setInterval(() => {
  if (agentRunning()) lastSeen = Date.now();
  else if (Date.now() - lastSeen >= idleMs) finish();
}, everyMs);
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
`;

/** The container command: `node -e <keeper> <dir>`. */
export function keeperCommand(dir: string): string[] {
  return ['node', '-e', KEEPER_SCRIPT, dir];
}
