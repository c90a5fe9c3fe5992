import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentArgs } from '../remote-agent/agent/args.ts';
import { agentCommand, exitCodeOf, LineSplitter, uploadCommand } from './agent-runner.ts';

test('the agent command carries the filter, redaction and body size', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  assert.deepEqual(agentCommand(dir, { redact: true }), ['node', `${dir}/agent.js`, 'capture', '--iface', 'any']);
  assert.deepEqual(agentCommand(dir, { redact: false, filter: 'http and response.status >= 500', maxBody: '1024' }), [
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

test('--redact-keys goes to the agent as one --name=value argument, which the agent parses back', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  const cmd = agentCommand(dir, { redact: true, redactKeys: ['-tenant', 'ssn'] });
  assert.deepEqual(cmd.slice(5), ['--redact-keys=-tenant,ssn']);
  const parsed = parseAgentArgs(cmd.slice(2));
  assert.equal(parsed.kind, 'run');
  assert.deepEqual(parsed.kind === 'run' ? parsed.args.redactKeys : [], ['-tenant', 'ssn'], 'a key starting with "-" is not taken for a flag');
  assert.deepEqual(agentCommand(dir, { redact: true, redactKeys: [] }), ['node', `${dir}/agent.js`, 'capture', '--iface', 'any']);
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
