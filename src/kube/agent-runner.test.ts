import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAgentArgs } from '../remote-agent/agent/args.ts';
import { parseAgentFlags } from '../model/agent-flags.ts';
import { maxFrameLineBytes } from '../remote-agent/wire/protocol.ts';
import { tarGzFolder } from './agent-bundle.ts';
import { AGENT_PROTO_DESCRIPTOR_FILE, agentCommand, agentExtraFiles, exitCodeOf, LineStream, runAgentCommand, UPLOAD_MISMATCH_EXIT, uploadCommand, uploadedFolder } from './agent-runner.ts';
import { missingRoot, skipFor } from '../../test/helpers/requirements.ts';
import { REPO_ROOT } from '../../test/helpers/shared-pcaps.ts';

test('the agent command carries the filter, redaction, body size and memory bound, each value in --name=value form', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  assert.deepEqual(agentCommand(dir, { redact: true }), ['node', `${dir}/agent.js`, 'capture', '--iface=any']);
  assert.deepEqual(agentCommand(dir, { redact: true, maxMemoryMb: 147 }).slice(-1), ['--max-memory=147']);
  assert.deepEqual(agentCommand(dir, { redact: false, filter: 'http and response.status >= 500', maxBody: 1024 }), [
    'node',
    `${dir}/agent.js`,
    'capture',
    '--iface=any',
    '--filter=http and response.status >= 500',
    '--max-body=1024',
    '--no-redact',
  ]);
});

test('--tls reaches the agent as --tls, read back by its own parser; without it the argv has no --tls', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  const cmd = agentCommand(dir, { redact: true, tls: true });
  assert.deepEqual(cmd, ['node', `${dir}/agent.js`, 'capture', '--iface=any', '--tls']);
  const parsed = parseAgentFlags(cmd.slice(2));
  assert.ok(parsed.ok);
  assert.equal(parsed.values.tls, true);
  assert.ok(!agentCommand(dir, { redact: true }).includes('--tls'));
  assert.ok(!agentCommand(dir, { redact: true, tls: false }).includes('--tls'));
});

const root = mkdtempSync(join(tmpdir(), 'shark-upload-'));
after(() => rmSync(root, { recursive: true, force: true }));

const bundleDir = join(root, 'bundle');
mkdirSync(join(bundleDir, 'lib'), { recursive: true });
writeFileSync(join(bundleDir, 'agent.js'), 'console.log("agent");\n');
writeFileSync(join(bundleDir, 'lib', 'native.node'), Buffer.alloc(4096, 7));
const archive = tarGzFolder(bundleDir);
const sha256 = createHash('sha256').update(archive).digest('hex');

/** Runs the upload command with the machine's sh, TMPDIR = a fresh folder, `input` on stdin (default: the archive). */
function upload(o: { input?: Buffer; wrap?: string[]; path?: string } = {}): { code: number | null; stdout: string; stderr: string; tmp: string } {
  const tmp = mkdtempSync(join(root, 'tmp-'));
  const [sh, ...args] = uploadCommand('shark-ab12c', archive.length, sha256);
  const argv = [...(o.wrap ?? []), sh!, ...args];
  // Like the v4 exec protocol: stdin stays open after the archive (the command must not wait for EOF).
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input: Buffer.concat([o.input ?? archive, Buffer.from('{"type":"filter","query":"x"}\n')]),
    env: { PATH: o.path ?? process.env.PATH!, TMPDIR: tmp },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, tmp };
}

test('the upload command: a constant script, the prefix, size and hash as arguments', () => {
  const cmd = uploadCommand('shark-ab12c', 1234, 'ab'.repeat(32));
  assert.deepEqual(cmd.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(cmd.slice(3, 7), ['kubectl-shark', 'kubectl-shark-shark-ab12c.', '1234', 'ab'.repeat(32)]);
  assert.ok(!cmd[2]!.includes('shark-ab12c') && !cmd[2]!.includes('1234'), 'no value in the script text');
  assert.equal(uploadedFolder('/tmp/kubectl-shark-shark-ab12c.Xy12Ab34Cd\n', 'shark-ab12c'), '/tmp/kubectl-shark-shark-ab12c.Xy12Ab34Cd');
  assert.equal(uploadedFolder('/tmp/kubectl-shark-shark-zzzzz.Xy12Ab34Cd\n', 'shark-ab12c'), null);
  assert.equal(uploadedFolder('/tmp/kubectl-shark-shark-ab12c.\n', 'shark-ab12c'), null);
});

test('run by a real sh: a fresh 0700 folder under TMPDIR holding the unpacked bundle, not the archive', () => {
  const first = upload();
  assert.equal(first.code, 0, first.stderr);
  const dir = first.stdout.trim();
  assert.match(dir, new RegExp(`^${first.tmp}/kubectl-shark-shark-ab12c\\.[A-Za-z0-9]{10}$`));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(dir).sort(), ['agent.js', 'lib']);
  assert.equal(readFileSync(join(dir, 'agent.js'), 'utf8'), 'console.log("agent");\n');
  assert.equal(readFileSync(join(dir, 'lib', 'native.node')).length, 4096);
  // Two uploads never share a folder.
  const second = upload();
  assert.notEqual(second.stdout.trim().split('/').pop(), dir.split('/').pop());
});

test('bytes altered or cut short: exit 65 with the hash and size that arrived, nothing unpacked, the folder removed', () => {
  const flipped = Buffer.from(archive);
  flipped[4] = flipped[4]! ^ 0xff; // the gzip header's mtime: gzip itself would not notice
  const altered = upload({ input: flipped });
  assert.equal(altered.code, UPLOAD_MISMATCH_EXIT, altered.stderr);
  assert.equal(altered.stdout.trim(), `sha256 ${createHash('sha256').update(flipped).digest('hex')} ${archive.length}`);
  assert.deepEqual(readdirSync(altered.tmp), []);
  const short = upload({ input: archive.subarray(0, 100) });
  // stdin ends early here (the filter line follows at once): the size tells.
  assert.equal(short.code, UPLOAD_MISMATCH_EXIT);
  assert.match(short.stdout, /^sha256 [0-9a-f]{64} +\d+\n$/);
  assert.deepEqual(readdirSync(short.tmp), []);
});

test('without sha256sum on the PATH, node hashes', () => {
  const bin = join(root, 'bin-no-sha256sum');
  mkdirSync(bin);
  for (const tool of ['sh', 'mktemp', 'head', 'tar', 'gzip', 'rm', 'wc', 'node']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(tool === 'node' ? process.execPath : found, join(bin, tool));
  }
  const r = upload({ path: bin });
  assert.equal(r.code, 0, r.stderr);
  const flipped = Buffer.from(archive);
  flipped[5] = flipped[5]! ^ 1;
  assert.equal(upload({ path: bin, input: flipped }).code, UPLOAD_MISMATCH_EXIT);
});

test('as root in another group without CAP_CHOWN (a pod-level runAsGroup with capabilities dropped), it still unpacks', { skip: skipFor(missingRoot('switching to another group (setpriv)')) }, () => {
  const r = upload({ wrap: ['setpriv', '--regid=3000', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all,+net_raw', '--no-new-privs', '--'] });
  assert.equal(r.code, 0, r.stderr);
  const dir = r.stdout.trim();
  assert.equal(statSync(join(dir, 'agent.js')).gid, 3000, 'owned by the group it runs as: tar did not try to restore group 0');
});

test('--redact-keys goes to the agent as one --name=value argument per name, which the agent parses back', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  const cmd = agentCommand(dir, { redact: true, redactKeys: ['-tenant', 'ssn'] });
  assert.deepEqual(cmd.slice(4), ['--redact-keys=-tenant', '--redact-keys=ssn']);
  const parsed = parseAgentArgs(cmd.slice(2));
  assert.equal(parsed.kind, 'run');
  assert.deepEqual(parsed.kind === 'run' ? parsed.args.redactKeys : [], ['-tenant', 'ssn'], 'a key starting with "-" is not taken for a flag');
  assert.deepEqual(agentCommand(dir, { redact: true, redactKeys: [] }), ['node', `${dir}/agent.js`, 'capture', '--iface=any']);
});

test('the agent is started as the first OOM victim, its arguments passed through untouched', () => {
  const hostile = `'; echo pwned; '$(id)\`x\` "\\`;
  const script = 'process.stdout.write(JSON.stringify([require("fs").readFileSync("/proc/self/oom_score_adj", "utf8").trim(), process.argv.slice(1)]))';
  const dir = mkdtempSync(join(root, 'oom-'));
  const [sh, ...args] = runAgentCommand(dir, [process.execPath, '-e', script, hostile, '--filter=-1 < x']);
  const out = execFileSync(sh!, args, { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), ['1000', [hostile, '--filter=-1 < x']]);
});

test('values that look like flags reach the agent as values: its own parser reads back what was built', () => {
  const hostile = ['-1 < response.status', '--no-redact', '-h', '--filter=x', '= ==', ' -x', '-'];
  for (const filter of hostile) {
    const argv = agentCommand('/d', { redact: true, filter, maxBody: 65536 });
    const parsed = parseAgentArgs(argv.slice(2));
    assert.equal(parsed.kind, 'run', `${JSON.stringify(filter)}: ${parsed.kind === 'usage-error' ? parsed.message : parsed.kind}`);
    if (parsed.kind !== 'run') continue;
    assert.equal(parsed.args.filter, filter);
    assert.equal(parsed.args.redact, true, 'a filter never turns redaction off');
    assert.equal(parsed.args.iface, 'any');
  }
});

test('exit codes come from the Status on channel 3', () => {
  assert.equal(exitCodeOf({ status: 'Success' }), 0);
  assert.equal(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } }), 2);
  assert.equal(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'boom' }), -1);
});

test('lines split across chunks and inside UTF-8 sequences come out whole; the tail is flushed on end', async () => {
  const lines: string[] = [];
  const stream = new LineStream(100, { line: (l) => lines.push(l), overlong: () => assert.fail('no line is too long') });
  const text = Buffer.from('{"a":"é"}\n\n{"b":2}\n{"c":', 'utf8');
  for (let i = 0; i < text.length; i++) stream.write(text.subarray(i, i + 1));
  stream.write(Buffer.from('3}'));
  await new Promise<void>((r) => stream.end(r));
  assert.deepEqual(lines, ['{"a":"é"}', '{"b":2}', '{"c":3}']);
});

/** Runs `command` under the run wrapper with a real sh; `act` may signal it; resolves to its exit code. */
async function runWrapped(command: string[], act?: (pid: number) => void): Promise<{ code: number | null; dir: string }> {
  const dir = mkdtempSync(join(root, 'run-'));
  writeFileSync(join(dir, 'agent.js'), '');
  const [sh, ...args] = runAgentCommand(dir, command);
  const child = spawn(sh!, args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise((r) => setTimeout(r, 200));
  act?.(child.pid!);
  child.stdin!.end();
  return { code: await done, dir };
}

test('the run wrapper removes the agent folder however the agent ends, and passes its exit code on', async () => {
  assert.deepEqual(runAgentCommand('/tmp/d', ['node', '/tmp/d/agent.js', 'capture']).slice(3), ['kubectl-shark', '/tmp/d', 'node', '/tmp/d/agent.js', 'capture']);
  // Ends on stdin EOF, as the agent does.
  const clean = await runWrapped(['cat']);
  assert.equal(clean.code, 0);
  assert.equal(existsSync(clean.dir), false);
  const failed = await runWrapped(['sh', '-c', 'exit 3']);
  assert.equal(failed.code, 3);
  assert.equal(existsSync(failed.dir), false);
  // The agent alone killed (the OOM killer): the wrapper outlives it, reports 137, removes the folder.
  const killed = await runWrapped(['sleep', '30'], (pid) => {
    const sleeper = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
    process.kill(Number(sleeper), 'SIGKILL');
  });
  assert.equal(killed.code, 137);
  assert.equal(existsSync(killed.dir), false);
  // The whole group terminated (a runtime stopping the exec).
  const stopped = await runWrapped(['sleep', '30'], (pid) => process.kill(-pid, 'SIGTERM'));
  assert.equal(stopped.code, 143);
  assert.equal(existsSync(stopped.dir), false);
});

test('agent output without a newline is skipped past the frame bound, then frames are read again', async () => {
  const lines: string[] = [];
  const overlong: number[] = [];
  const bound = maxFrameLineBytes(0);
  const stream = new LineStream(bound, { line: (l) => lines.push(l), overlong: (n) => overlong.push(n) });
  const block = Buffer.alloc(1024 * 1024, 0x61);
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 64; i++) stream.write(block);
  stream.write(Buffer.from('\n{"type":"bye","reason":"stop"}\n'));
  await new Promise<void>((r) => stream.end(r));
  assert.deepEqual(overlong, [64 * 1024 * 1024]);
  assert.deepEqual(lines, ['{"type":"bye","reason":"stop"}']);
  assert.ok(process.memoryUsage().arrayBuffers - before < bound + 8 * 1024 * 1024, 'held at most the bound');
  // An entry of a run with a large --max-body fits its bound.
  assert.ok(maxFrameLineBytes(4 * 1024 * 1024) >= 2 * 6 * 4 * 1024 * 1024);
});

test('--proto-descriptor: the set goes inside the archive, under its sha256 check, next to the agent, which is told its path', () => {
  const setFile = join(root, 'shark_test.pb');
  execFileSync('protoc', [`-I${join(REPO_ROOT, 'test/fixtures/grpc')}`, `-o${setFile}`, 'shark_test.proto']);
  const set = Uint8Array.from(readFileSync(setFile));
  const args = { redact: true, protoDescriptor: set };
  const withSet = tarGzFolder(bundleDir, agentExtraFiles(args));
  assert.deepEqual(agentExtraFiles({ redact: true }), []);
  const tmp = mkdtempSync(join(root, 'tmp-'));
  const [sh, ...cmd] = uploadCommand('shark-ab12c', withSet.length, createHash('sha256').update(withSet).digest('hex'));
  const r = spawnSync(sh!, cmd, { input: withSet, env: { PATH: process.env.PATH!, TMPDIR: tmp }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const dir = r.stdout.trim();
  assert.deepEqual(readdirSync(dir).sort(), ['agent.js', 'lib', AGENT_PROTO_DESCRIPTOR_FILE]);
  assert.deepEqual(Uint8Array.from(readFileSync(join(dir, AGENT_PROTO_DESCRIPTOR_FILE))), set);
  const command = agentCommand(dir, args);
  assert.equal(command.at(-1), `--proto-descriptor=${dir}/${AGENT_PROTO_DESCRIPTOR_FILE}`);
  const parsed = parseAgentArgs(command.slice(2));
  assert.equal(parsed.kind === 'run' ? parsed.args.protoDescriptor : null, `${dir}/${AGENT_PROTO_DESCRIPTOR_FILE}`);
  // The name cannot escape the folder or replace a bundle file.
  assert.throws(() => tarGzFolder(bundleDir, [{ name: '../x', bytes: set }]), /cannot add/);
  assert.throws(() => tarGzFolder(bundleDir, [{ name: 'agent.js', bytes: set }]), /cannot add/);
});
