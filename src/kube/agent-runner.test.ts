import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { agentCommand, exitCodeOf, LineSplitter, OOM_FIRST_SHELL, uploadCommand } from './agent-runner.ts';

test('the agent command carries the filter, redaction, body size and memory bound', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  const shell = ['sh', '-c', OOM_FIRST_SHELL, 'sh'];
  assert.deepEqual(agentCommand(dir, { redact: true }), [...shell, 'node', `${dir}/agent.js`, 'capture', '--iface', 'any']);
  assert.deepEqual(agentCommand(dir, { redact: true, maxMemoryMb: 147 }).slice(-1), ['--max-memory=147']);
  assert.deepEqual(agentCommand(dir, { redact: false, filter: 'http and response.status >= 500', maxBody: '1024' }), [
    ...shell,
    'node',
    `${dir}/agent.js`,
    'capture',
    '--iface',
    'any',
    '--filter',
    'http and response.status >= 500',
    '--no-redact',
    '--max-body',
    '1024',
  ]);
  assert.deepEqual(uploadCommand(dir, 1234), ['sh', '-c', `mkdir -p '${dir}' && head -c 1234 | tar -xzf - -C '${dir}'`]);
});

test('the agent is started as the first OOM victim, its arguments passed through untouched', () => {
  const hostile = `'; echo pwned; '$(id)\`x\` "\\`;
  const script = 'process.stdout.write(JSON.stringify([require("fs").readFileSync("/proc/self/oom_score_adj", "utf8").trim(), process.argv.slice(1)]))';
  const out = execFileSync('sh', ['-c', OOM_FIRST_SHELL, 'sh', process.execPath, '-e', script, hostile, '--filter=-1 < x'], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), ['1000', [hostile, '--filter=-1 < x']]);
});

test('exit codes come from the Status on channel 3', () => {
  assert.equal(exitCodeOf({ status: 'Success' }), 0);
  assert.equal(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } }), 2);
  assert.equal(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'boom' }), -1);
});

test('lines split across chunks and inside UTF-8 sequences come out whole; the tail is flushed on end', async () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((l) => lines.push(l));
  const text = Buffer.from('{"a":"é"}\n\n{"b":2}\n{"c":', 'utf8');
  for (let i = 0; i < text.length; i++) splitter.write(text.subarray(i, i + 1));
  splitter.write(Buffer.from('3}'));
  await new Promise<void>((r) => splitter.end(r));
  assert.deepEqual(lines, ['{"a":"é"}', '{"b":2}', '{"c":3}']);
});
