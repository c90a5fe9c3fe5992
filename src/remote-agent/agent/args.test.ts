import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAgentArgs } from './args.ts';
import { AGENT_VERSION } from './version.ts';

test('defaults: any interface, redaction on, 64 KiB bodies, 200 MB, idle exit 120 s', () => {
  const r = parseAgentArgs(['capture']);
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.deepEqual(r.args, {
    iface: 'any',
    pcap: null,
    protoDescriptor: null,
    filter: null,
    maxBodyBytes: 65536,
    redact: true,
    redactKeys: [],
    maxMemoryBytes: 200 * 1048576,
    idleExitMs: 120_000,
    statsIntervalMs: 1000,
    tls: false,
  });
});

test('--tls turns on TLS plaintext capture; with --pcap it is refused with why', () => {
  const r = parseAgentArgs(['capture', '--tls', '--iface', 'eth0']);
  assert.equal(r.kind, 'run');
  if (r.kind === 'run') assert.equal(r.args.tls, true);
  const bad = parseAgentArgs(['capture', '--tls', '--pcap', 'x.pcap']);
  assert.equal(bad.kind, 'usage-error');
  if (bad.kind === 'usage-error') assert.match(bad.message, /^--tls .*cannot be used with --pcap/);
  const help = parseAgentArgs(['--help']);
  assert.ok(help.kind === 'help' && help.text.includes('--tls'));
});

test('flags as documented', () => {
  const r = parseAgentArgs(['capture', '--iface', 'eth0', '--filter', 'http', '--max-body', '1m', '--no-redact', '--redact-keys', 'a,b', '--redact-keys', 'c', '--max-memory', '128', '--idle-exit', '0', '--pcap', '-']);
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.equal(r.args.iface, 'eth0');
  assert.equal(r.args.filter, 'http');
  assert.equal(r.args.protoDescriptor, null);
  assert.equal(r.args.maxBodyBytes, 1048576);
  assert.equal(r.args.redact, false);
  assert.deepEqual(r.args.redactKeys, ['a', 'b', 'c']);
  assert.equal(r.args.maxMemoryBytes, 128 * 1048576);
  assert.equal(r.args.idleExitMs, 0);
  assert.equal(r.args.pcap, '-');
});

test('--proto-descriptor names the FileDescriptorSet file main.ts loads', () => {
  const r = parseAgentArgs(['capture', '--proto-descriptor=/tmp/agent dir/proto-descriptor.pb']);
  assert.equal(r.kind, 'run');
  if (r.kind === 'run') assert.equal(r.args.protoDescriptor, '/tmp/agent dir/proto-descriptor.pb');
});

test('--name=value form: a value starting with "-" (a KFL filter such as -1 < response.status) is a value', () => {
  const r = parseAgentArgs(['capture', '--iface=eth0', '--filter=-1 < response.status', '--max-body=1m', '--redact-keys=-x,y', '--max-memory=128', '--idle-exit=0', '--stats-interval=500', '--pcap=-']);
  assert.equal(r.kind, 'run', r.kind === 'usage-error' ? r.message : r.kind);
  if (r.kind !== 'run') return;
  assert.equal(r.args.filter, '-1 < response.status');
  assert.equal(r.args.iface, 'eth0');
  assert.equal(r.args.maxBodyBytes, 1048576);
  assert.deepEqual(r.args.redactKeys, ['-x', 'y']);
  assert.equal(r.args.maxMemoryBytes, 128 * 1048576);
  assert.equal(r.args.idleExitMs, 0);
  assert.equal(r.args.statsIntervalMs, 500);
  assert.equal(r.args.pcap, '-');
  // A value containing "=" keeps everything after the first one.
  const eq = parseAgentArgs(['capture', '--filter=request.path == "/a=b"']);
  assert.equal(eq.kind === 'run' && eq.args.filter, 'request.path == "/a=b"');
  // The separate-argument form cannot carry it: the usage error says how.
  const separate = parseAgentArgs(['capture', '--filter', '-1 < response.status']);
  assert.equal(separate.kind, 'usage-error');
  if (separate.kind === 'usage-error') assert.match(separate.message, /--filter=/);
});

test('bad usage is a value with a message naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /expected the command "capture"/],
    [['tap'], /expected the command "capture"/],
    [['capture', '--bogus'], /bogus/],
    [['capture', '--max-body', 'lots'], /--max-body/],
    [['capture', '--max-memory', '10'], /--max-memory.*at least 96/],
    [['capture', '--idle-exit', '-1'], /--idle-exit/],
    // An empty number is not 0 (Number('') is): it would have meant "never exit".
    [['capture', '--idle-exit='], /--idle-exit: not a number/],
    [['capture', '--max-memory= '], /--max-memory: not a number/],
    [['capture', '--iface', 'a/b'], /--iface/],
  ];
  for (const [argv, re] of cases) {
    const r = parseAgentArgs(argv);
    assert.equal(r.kind, 'usage-error', argv.join(' '));
    if (r.kind === 'usage-error') assert.match(r.message, re);
  }
  assert.equal(parseAgentArgs(['--help']).kind, 'help');
});

test('the agent version is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(AGENT_VERSION, pkg.version);
});

test('help: every flag and its text are apart, the texts in one column', () => {
  const help = parseAgentArgs(['--help']);
  assert.equal(help.kind, 'help');
  if (help.kind !== 'help') return;
  const rows = help.text.split('\n').filter((line) => /^ {2}-/.test(line));
  assert.ok(rows.length >= 10, `${rows.length} option rows`);
  const columns = new Set<number>();
  for (const row of rows) {
    // The flag (its argument after one space), then at least two spaces, then the text.
    const m = /^ {2}\S+(?: \S+)? {2,}(?=\S)/.exec(row);
    assert.ok(m !== null, `flag and text run together: ${JSON.stringify(row)}`);
    columns.add(m[0].length);
  }
  assert.equal(columns.size, 1, `help texts start at columns ${[...columns].join(', ')}`);
  assert.match(help.text, /--proto-descriptor FILE {2,}decode gRPC/);
});
