/**
 * What the idle agent costs the tapped pod (issue 17, goal 3): the built agent (dist/agent, copied
 * into an empty folder) captures on a veth in a network namespace, as in a pod, and nothing comes.
 *
 * 1. Its packet ring and V8 heap limits follow --max-memory: the process re-executed itself with
 *    exactly the heap flags memoryBudget() derives (/proc/<pid>/cmdline), and its one packet-socket
 *    mapping is exactly the budget's ring (/proc/<pid>/smaps), at three bounds.
 * 0. (No root needed.) Loading the bundle (`node agent.js --help` loads all of it) costs at most
 *    BUNDLE_LOAD_LIMIT_MB over a bare node, and loads no module the agent does not use: node:http's
 *    ESM namespace used to pull in http2 and undici, and import-time work (HPACK tables, ICU number
 *    formats) ran V8's optimising compiler: ~36 MB over bare node then, ~18 now.
 * 2. Idle at the default bound, its RSS is bare Node's (measured here, in the same namespace),
 *    plus loading the bundle, plus its packet ring (resident from the mmap), plus a little. The
 *    capture starts on a 4 MiB ring and moves to the budget's 25 MiB one only when it falls behind
 *    (live-capture.ts): ~69 MB idle, against ~90 MB with the 25 MiB ring from the start, ~95 MB
 *    while the agent built the HPACK Huffman tables at start (their loops start V8's optimising
 *    compiler, ~6 MB that stays) and ~107 MB before the start-up work of issue 17. (Twice before
 *    it was reverted: small-ring blocks retired every 10 ms held only 160 ms of a trickle, and a
 *    fresh agent lost frames in CI; with 63 ms blocks the hand-over waited ~200 ms for the last
 *    one while a burst filled the unread full ring. Now the last block is read in place.)
 * 3. Once the agent has idled IDLE_RELEASE_AFTER_MS it pages out its read-only file mappings (most
 *    of the node executable, which start-up touched) and trims the C heap (live/idle-memory.ts).
 *    The kernel leaves pages another process maps resident, so the agent runs its own copy of
 *    node here, as in the pod's capture container, alone and beside the container's keeper (a
 *    shell: as a node it kept ~31 MB of the executable resident, ~58 MB in all): ~36 MB, issue
 *    17's goal of 55 holds.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { heapFlags } from '../../src/remote-agent/agent/heap-flags.ts';
import { IDLE_RELEASE_AFTER_MS } from '../../src/remote-agent/agent/idle-release.ts';
import { agentFolderPrefix, KEEPER_NAME, KEEPER_SCRIPT } from '../../src/kube/keeper.ts';
import { memoryBudget } from '../../src/remote-agent/agent/memory-budget.ts';
import { DEFAULT_AGENT_MEMORY_BYTES } from '../../src/model/agent-memory.ts';
import { prepareAgentDir, sleep, startAgent } from '../helpers/agent.ts';
import { NODE } from '../helpers/capture.ts';
import { requireNetns, Scope, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';
import { agentTopology } from './agent-fixtures/topology.ts';

const skip = skipFor(requireNetns([]));
if (skip) process.stdout.write(`# agent-footprint skipped: ${skip}\n`);

const MiB = 1024 * 1024;
/** Beyond bare node + the bundle's load bound + the ring: the rest of what an idle agent holds. */
const IDLE_RSS_SLACK_MB = 4;
/** Issue 17 goal 3. */
const IDLE_RSS_GOAL_MB = 55;
/**
 * Loading the bundle, over bare node's RSS at exit: ~18 MB (~36 MB before issue 17). The idle
 * limit below adds it too, so an agent that built the HPACK Huffman tables at start (~95 MB idle,
 * ~6 MB over this bound) fails it: they are built on the first Huffman string.
 */
const BUNDLE_LOAD_LIMIT_MB = 22;
/** Start-up work (parsing the bundle, loading koffi, opening the ring) is over by then. */
const SETTLE_MS = 3000;

/** VmRSS in MiB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Sizes in bytes of the process's packet-socket mappings (the TPACKET ring shows as `socket:[inode]`). */
function socketMappings(pid: number): number[] {
  const sizes: number[] = [];
  let isSocket = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      isSocket = head[1]!.startsWith('socket:');
      continue;
    }
    const size = /^Size:\s+(\d+) kB/.exec(line);
    if (size !== null && isSocket) sizes.push(Number(size[1]) * 1024);
  }
  return sizes;
}

/** RSS of a bare `node` idling in `ns` for SETTLE_MS: the peer of the idle figure. */
async function bareNodeRssMb(ns: Netns): Promise<number> {
  const child = ns.spawn(NODE, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(SETTLE_MS);
    return rssMb(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * Starts the agent idle with `maxMemoryMb` (null: its default) and returns its RSS after `settleMs`.
 * `ownNode`: it runs a copy of node in its folder, as in the pod's capture container; 'with-keeper':
 * the container's keeper (src/kube/keeper.ts) runs on that copy too, as it does there.
 */
async function idleAgent(scope: Scope, ns: Netns, maxMemoryMb: number | null, settleMs = SETTLE_MS, ownNode: false | 'alone' | 'with-keeper' = false): Promise<{ pid: number; cmdline: string[]; rssMb: number; afterStartMb: number }> {
  const args = ['--iface', 'eth0', '--idle-exit', '0', ...(maxMemoryMb === null ? [] : ['--max-memory', String(maxMemoryMb)])];
  const dir = prepareAgentDir(scope);
  let node: string | undefined;
  if (ownNode !== false) {
    node = join(dir, 'node');
    copyFileSync(realpathSync(NODE), node);
    chmodSync(node, 0o755);
  }
  if (node !== undefined && ownNode === 'with-keeper') {
    // The container's main process, as tap starts it (keeperCommand), in the agent's folder's image.
    const keeper = spawn('sh', ['-c', KEEPER_SCRIPT, KEEPER_NAME, agentFolderPrefix('footprint'), '3600000'], { stdio: 'ignore' });
    scope.defer(() => {
      keeper.kill('SIGKILL');
    });
  }
  const agent = startAgent(ns, args, { dir, scope, ...(node === undefined ? {} : { node }) });
  await agent.ready();
  await sleep(Math.min(settleMs, SETTLE_MS));
  const afterStartMb = rssMb(agent.pid);
  await sleep(settleMs - Math.min(settleMs, SETTLE_MS));
  const cmdline = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return { pid: agent.pid, cmdline, rssMb: rssMb(agent.pid), afterStartMb };
}

/** RSS (MiB) and the loaded modules matching `modules`, as the process exits. */
function footprintAtExit(dir: string, args: readonly string[], modules: RegExp): { rssMb: number; loaded: string[] } {
  const preload = join(dir, 'footprint-at-exit.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => process.stderr.write('\\nFOOTPRINT ' + JSON.stringify({ rssMb: process.memoryUsage().rss / 1048576, loaded: process.moduleLoadList.filter((m) => ${modules}.test(m)) }) + '\\n'));\n`,
  );
  const r = spawnSync(NODE, ['--require', preload, ...args], { cwd: dir, encoding: 'utf8' });
  const line = r.stderr.split('\n').find((l) => l.startsWith('FOOTPRINT '));
  if (line === undefined) throw new Error(`no footprint from node ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(line.slice('FOOTPRINT '.length)) as { rssMb: number; loaded: string[] };
}

test(`loading the agent bundle costs at most ${BUNDLE_LOAD_LIMIT_MB} MB over bare node and loads no HTTP client or server`, async () => {
  const scope = new Scope();
  try {
    const dir = prepareAgentDir(scope);
    const unused = /undici|http/;
    const bare = footprintAtExit(dir, ['-e', '0'], unused);
    // With the V8 flags the running agent re-executes itself with (--help itself does not re-execute).
    const agent = footprintAtExit(dir, [...heapFlags(memoryBudget(DEFAULT_AGENT_MEMORY_BYTES)), 'agent.js', '--help'], unused);
    process.stdout.write(`# RSS at exit: agent.js --help ${agent.rssMb.toFixed(1)} MB, bare node ${bare.rssMb.toFixed(1)} MB\n`);
    assert.deepEqual(agent.loaded, [], 'modules the agent never uses');
    assert.ok(agent.rssMb - bare.rssMb <= BUNDLE_LOAD_LIMIT_MB, `the bundle costs ${(agent.rssMb - bare.rssMb).toFixed(1)} MB over bare node`);
  } finally {
    await scope.close();
  }
});

test('the agent sizes its packet ring and V8 heap from --max-memory', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    for (const mb of [96, null, 512]) {
      const bytes = mb === null ? DEFAULT_AGENT_MEMORY_BYTES : mb * MiB;
      const budget = memoryBudget(bytes);
      const agent = await idleAgent(scope, topo.server, mb);
      t.diagnostic(`--max-memory ${bytes / MiB}: ring ${budget.initialRingBytes / MiB} MiB growing to ${budget.ringBytes / MiB}, ${heapFlags(budget).join(' ')}; RSS ${agent.rssMb.toFixed(1)} MB`);
      const flags = agent.cmdline.filter((a) => a.startsWith('--max-old-space-size') || a.startsWith('--max-semi-space-size'));
      assert.deepEqual(flags, heapFlags(budget), `the re-executed agent's heap flags at --max-memory ${bytes / MiB}`);
      // Idle: the small ring it starts with (it moves to budget.ringBytes under load: live-capture.test.ts).
      assert.deepEqual(socketMappings(agent.pid), [budget.initialRingBytes], `one packet ring of the budget's initial size at --max-memory ${bytes / MiB}`);
    }
  } finally {
    await scope.close();
  }
});

test(`the idle agent's RSS is bare node's, the bundle, its ring and at most ${IDLE_RSS_SLACK_MB} MB more at the default --max-memory`, { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const bare = await bareNodeRssMb(topo.server);
    const agent = await idleAgent(scope, topo.server, null);
    const ringMb = memoryBudget(DEFAULT_AGENT_MEMORY_BYTES).initialRingBytes / MiB;
    const limit = bare + BUNDLE_LOAD_LIMIT_MB + ringMb + IDLE_RSS_SLACK_MB;
    t.diagnostic(`idle RSS: agent ${agent.rssMb.toFixed(1)} MB, bare node ${bare.toFixed(1)} MB, ring ${ringMb} MiB, limit ${limit.toFixed(1)} MB (after ${SETTLE_MS / 1000} s)`);
    assert.ok(agent.rssMb <= limit, `idle agent RSS ${agent.rssMb.toFixed(1)} MB > ${limit.toFixed(1)} MB (bare node ${bare.toFixed(1)} MB + bundle ${BUNDLE_LOAD_LIMIT_MB} + ring ${ringMb} + ${IDLE_RSS_SLACK_MB})`);
  } finally {
    await scope.close();
  }
});

/** Long enough for the idle agent to have given memory back (agent/idle-release.ts). */
const RELEASED_MS = IDLE_RELEASE_AFTER_MS + 2500;

test(`an agent alone on its node gives memory back once idle ${IDLE_RELEASE_AFTER_MS / 1000} s: RSS at most ${IDLE_RSS_GOAL_MB} MB (issue 17's goal), below bare node's`, { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const bare = await bareNodeRssMb(topo.server);
    const agent = await idleAgent(scope, topo.server, null, RELEASED_MS, 'alone');
    t.diagnostic(`idle agent RSS ${agent.afterStartMb.toFixed(1)} MB after ${SETTLE_MS / 1000} s, ${agent.rssMb.toFixed(1)} MB after ${RELEASED_MS / 1000} s; bare node ${bare.toFixed(1)} MB`);
    assert.ok(agent.rssMb <= IDLE_RSS_GOAL_MB, `idle agent RSS ${agent.rssMb.toFixed(1)} MB > ${IDLE_RSS_GOAL_MB} MB`);
    // Most of what start-up touched is gone: below a bare node that never gave its pages back.
    assert.ok(agent.rssMb < bare, `idle agent RSS ${agent.rssMb.toFixed(1)} MB, bare node ${bare.toFixed(1)} MB`);
  } finally {
    await scope.close();
  }
});

test(`issue 17 goal in the pod: beside the capture container's keeper, the idle agent's RSS is at most ${IDLE_RSS_GOAL_MB} MB`, { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const agent = await idleAgent(scope, topo.server, null, RELEASED_MS, 'with-keeper');
    t.diagnostic(`idle agent beside the keeper: RSS ${agent.afterStartMb.toFixed(1)} MB after ${SETTLE_MS / 1000} s, ${agent.rssMb.toFixed(1)} MB after ${RELEASED_MS / 1000} s`);
    assert.ok(agent.rssMb <= IDLE_RSS_GOAL_MB, `idle agent RSS ${agent.rssMb.toFixed(1)} MB > ${IDLE_RSS_GOAL_MB} MB`);
  } finally {
    await scope.close();
  }
});
