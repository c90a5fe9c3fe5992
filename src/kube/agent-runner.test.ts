import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentArgs } from '../remote-agent/agent/args.ts';
import { maxFrameLineBytes } from '../remote-agent/wire/protocol.ts';
import { agentCommand, exitCodeOf, LineStream, uploadCommand } from './agent-runner.ts';

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
  const stream = new LineStream(100, { line: (l) => lines.push(l), overlong: () => assert.fail('no line is too long') });
  const text = Buffer.from('{"a":"é"}\n\n{"b":2}\n{"c":', 'utf8');
  for (let i = 0; i < text.length; i++) stream.write(text.subarray(i, i + 1));
  stream.write(Buffer.from('3}'));
  await new Promise<void>((r) => stream.end(r));
  assert.deepEqual(lines, ['{"a":"é"}', '{"b":2}', '{"c":3}']);
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
