/**
 * dist/agent is self-contained: copied into an empty folder it runs with a bare `node`, with no
 * node_modules, compiler or libpcap around it. Needs no root: it reads the bundled demo recording
 * with `--pcap`, and checks that koffi loads by asking for an interface that does not exist.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tarGzFolder } from '../../src/kube/agent-bundle.ts';
import { readEntriesOf } from '../../src/pipeline/read-capture.ts';
import { parseAgentLine, type AgentFrame, type HelloFrame } from '../../src/remote-agent/wire/protocol.ts';
import { BPF_OBJECT_NAME, findBpfObject } from '../../src/remote-agent/tls/probes/object-file.ts';
import { NODE, REPO_ROOT } from '../helpers/capture.ts';
import { prepareAgentDir } from '../helpers/agent.ts';
import { heapFlags } from '../../src/remote-agent/agent/heap-flags.ts';
import { memoryBudget } from '../../src/remote-agent/agent/memory-budget.ts';

const DEMO = join(REPO_ROOT, 'assets/demo/microservices.pcapng');
const CLEAN_ENV = { PATH: '/usr/bin:/bin', HOME: '/nonexistent' };

function files(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

function frames(stdout: string): AgentFrame[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = parseAgentLine(l);
      assert.ok(f, `not a frame: ${l.slice(0, 120)}`);
      return f;
    });
}

test('the bundle folder holds the agent, koffi and its native module, iced-x86 and the TLS probes\' BPF object only', () => {
  const dir = prepareAgentDir();
  try {
    const list = files(dir).sort();
    assert.ok(list.includes('agent.js'));
    // The committed object, byte for byte, where the bundled loader looks first (next to agent.js).
    assert.ok(readFileSync(join(dir, BPF_OBJECT_NAME)).equals(readFileSync(join(REPO_ROOT, 'bpf', BPF_OBJECT_NAME))));
    assert.equal(findBpfObject(pathToFileURL(join(dir, 'agent.js')).href), join(dir, BPF_OBJECT_NAME));
    assert.ok(list.includes('node_modules/koffi/package.json'));
    assert.ok(list.some((f) => f.startsWith('node_modules/@koromix/koffi-linux-x64/') && f.endsWith('koffi.node')));
    assert.deepEqual(
      list.filter((f) => f.startsWith('node_modules/iced-x86/')),
      ['LICENSE.txt', 'iced_x86.js', 'iced_x86_bg.wasm', 'package.json'].map((f) => `node_modules/iced-x86/${f}`),
    );
    // Uploaded as tar.gz into every tapped pod (kube/agent-bundle.ts), unpacked there: both count.
    // iced-x86 (the decoder of Go's RET instructions, issue 15) added ~1.3 MB raw, ~350 KB packed.
    const total = list.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    assert.ok(total < 5 * 1024 * 1024, `bundle is ${total} bytes unpacked: it is uploaded into every tapped pod`);
    const packed = tarGzFolder(dir).length;
    assert.ok(packed < 1.5 * 1024 * 1024, `bundle is ${packed} bytes packed: it is uploaded into every tapped pod`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run from an empty folder on the demo recording: the same entries as kubectl shark read', async () => {
  const dir = prepareAgentDir();
  try {
    const r = spawnSync(NODE, ['agent.js', 'capture', '--pcap', DEMO], { cwd: dir, env: CLEAN_ENV, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = frames(r.stdout);
    const expected = await readEntriesOf(DEMO);
    const entries = out.filter((f) => f.type === 'entry');
    assert.equal(entries.length, expected.length);
    assert.equal(out[0].type, 'hello');
    assert.deepEqual(out.at(-1), { type: 'bye', reason: 'end-of-input' });
    // The agent's output is itself readable by `kubectl shark read` (entry frames unwrapped).
    const read = spawnSync(NODE, [join(REPO_ROOT, 'dist/cmd/main.js'), 'read', '-', '-o', 'json', '-q'], { input: r.stdout, encoding: 'utf8', timeout: 60_000 });
    assert.equal(read.status, 0, read.stderr);
    assert.equal(read.stdout.trim().split('\n').length, expected.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('koffi loads from the bundle: an unknown interface is reported as such (or as a missing capability), never as FFI_UNAVAILABLE', () => {
  const dir = prepareAgentDir();
  try {
    const r = spawnSync(NODE, ['agent.js', 'capture', '--iface', 'nope0'], { cwd: dir, env: CLEAN_ENV, encoding: 'utf8', input: '', timeout: 30_000 });
    const error = frames(r.stdout).find((f) => f.type === 'error');
    assert.ok(error && error.type === 'error', r.stdout);
    const root = process.getuid?.() === 0;
    assert.equal(error.code, root ? 'CAPTURE_NO_INTERFACE' : 'CAPTURE_PERMISSION', error.message);
    assert.equal(r.status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the agent re-executes itself in place with heap limits from --max-memory (same pid)', async () => {
  const dir = prepareAgentDir();
  const child = spawn(NODE, ['agent.js', 'capture', '--pcap', '-', '--max-memory', '128'], { cwd: dir, env: CLEAN_ENV, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    // Without input the agent waits on stdin; the hello frame arrives first (the pcap source has
    // nothing to open), so the process can be inspected while it runs.
    const hello = await new Promise<HelloFrame>((resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as HelloFrame);
      });
      child.once('exit', () => reject(new Error('agent exited before hello')));
    });
    assert.equal(hello.pid, child.pid, 'execve keeps the pid');
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    // The flags the budget derives from --max-memory 128 (src/remote-agent/agent/memory-budget.ts).
    for (const flag of heapFlags(memoryBudget(128 * 1048576))) assert.ok(cmdline.includes(flag), `${flag} not in ${cmdline.join(' ')}`);
    assert.equal(hello.maxMemoryBytes, 128 * 1048576);
  } finally {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage: --help exits 0, a bad flag exits 2 with a USAGE error frame', () => {
  const dir = prepareAgentDir();
  try {
    const help = spawnSync(NODE, ['agent.js', '--help'], { cwd: dir, env: CLEAN_ENV, encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: node agent\.js capture/);
    const bad = spawnSync(NODE, ['agent.js', 'capture', '--frobnicate'], { cwd: dir, env: CLEAN_ENV, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(frames(bad.stdout)[0].type, 'error');
    assert.match(bad.stderr, /frobnicate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('iced-x86 loads from the bundle with a bare node: its WASM decodes a RET', () => {
  const dir = prepareAgentDir();
  try {
    // What targets/x86-returns.ts does when a Go program is found: import('iced-x86') next to agent.js.
    const code = [
      "const iced = (await import('iced-x86')).default;",
      'const d = new iced.Decoder(64, new Uint8Array([0x48, 0x89, 0xc3, 0xc3]), iced.DecoderOptions.None);',
      'const i = new iced.Instruction(); const out = [];',
      'while (d.canDecode) { d.decodeOut(i); out.push(iced.Mnemonic[i.mnemonic]); }',
      'console.log(out.join(" "));',
    ].join('\n');
    const r = spawnSync(NODE, ['--input-type=module', '-e', code], { cwd: dir, env: CLEAN_ENV, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Mov Ret');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
