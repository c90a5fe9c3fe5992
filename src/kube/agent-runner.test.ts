import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentArgs } from '../remote-agent/agent/args.ts';
import { agentCommand, exitCodeOf, LineSplitter, uploadCommand } from './agent-runner.ts';

test('the agent command carries the filter, redaction and body size, each value in --name=value form', () => {
  const dir = '/tmp/kubectl-shark-shark-ab12c';
  assert.deepEqual(agentCommand(dir, { redact: true }), ['node', `${dir}/agent.js`, 'capture', '--iface=any']);
  assert.deepEqual(agentCommand(dir, { redact: false, filter: 'http and response.status >= 500', maxBody: '1024' }), [
    'node',
    `${dir}/agent.js`,
    'capture',
    '--iface=any',
    '--filter=http and response.status >= 500',
    '--no-redact',
    '--max-body=1024',
  ]);
  assert.deepEqual(uploadCommand(dir, 1234), ['sh', '-c', `mkdir -p '${dir}' && head -c 1234 | tar -xzf - -C '${dir}'`]);
});

test('values that look like flags reach the agent as values: its own parser reads back what was built', () => {
  const hostile = ['-1 < response.status', '--no-redact', '-h', '--filter=x', '= ==', ' -x', '-'];
  for (const filter of hostile) {
    const argv = agentCommand('/d', { redact: true, filter, maxBody: '64k' });
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
  const splitter = new LineSplitter((l) => lines.push(l));
  const text = Buffer.from('{"a":"é"}\n\n{"b":2}\n{"c":', 'utf8');
  for (let i = 0; i < text.length; i++) splitter.write(text.subarray(i, i + 1));
  splitter.write(Buffer.from('3}'));
  await new Promise<void>((r) => splitter.end(r));
  assert.deepEqual(lines, ['{"a":"é"}', '{"b":2}', '{"c":3}']);
});
