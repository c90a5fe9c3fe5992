import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AGENT_FLAGS, agentFlagArgv, agentFlagDefaults, parseAgentFlags, type AgentFlagName, type AgentFlagValues } from './agent-flags.ts';

// Text a flag value may hold: spaces, "=", a leading "-", quotes, unicode (full code points).
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('-1 < response.status', '--no-redact', '-h', '--filter=x', '= ==', ' -x', '-', 'a b=c', 'é中🙂', ''),
);
// A number flag: any finite number (not -0: the argv text "0" is 0, and -0 means nothing here).
const num = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)), fc.integer());
const bytes = fc.oneof(fc.nat(), fc.constantFrom(0, 65536, Number.MAX_SAFE_INTEGER));

/** Any valid option set: each flag present with a value of its type, or left out. */
const optionSet: fc.Arbitrary<Partial<AgentFlagValues>> = fc.record(
  {
    iface: text,
    pcap: text,
    filter: text,
    'max-body': bytes,
    'no-redact': fc.boolean(),
    'redact-keys': fc.array(text, { maxLength: 4 }),
    'max-memory': num,
    'idle-exit': num,
    'stats-interval': num,
  },
  { requiredKeys: [] },
);

test('any valid option set -> argv -> parse gives the same set back; numbers stay numbers', () => {
  fc.assert(
    fc.property(optionSet, (opts) => {
      const argv = agentFlagArgv(opts);
      const parsed = parseAgentFlags(['capture', ...argv]);
      assert.ok(parsed.ok, `${JSON.stringify(argv)}: ${parsed.ok ? '' : parsed.message}`);
      assert.deepEqual(parsed.positionals, ['capture']);
      assert.equal(parsed.help, false);
      const expected = { ...agentFlagDefaults(), ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
      assert.deepEqual(parsed.values, expected);
      for (const name of Object.keys(AGENT_FLAGS) as AgentFlagName[]) {
        const type = AGENT_FLAGS[name].type;
        if (type === 'number' || type === 'bytes') assert.equal(typeof parsed.values[name], 'number', name);
      }
    }),
    { numRuns: 2000 },
  );
});

test('every flag of the schema is written by the builder and read by the parser', () => {
  const all: AgentFlagValues = {
    iface: 'eth0',
    pcap: '-',
    filter: 'http',
    'max-body': 1024,
    'no-redact': true,
    'redact-keys': ['a,b', 'c'],
    'max-memory': 150.5,
    'idle-exit': 0,
    'stats-interval': 500,
    'proto-descriptor': '/tmp/x y/set.pb',
    tls: true,
  };
  const argv = agentFlagArgv(all);
  assert.equal(new Set(argv.map((a) => a.replace(/=.*$/s, ''))).size, Object.keys(AGENT_FLAGS).length);
  const parsed = parseAgentFlags(argv);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.values, all);
});

test('byte sizes read as numbers, with the k/m suffixes people type; bad ones name the flag', () => {
  const p = parseAgentFlags(['--max-body=64k', '--max-memory=128']);
  assert.ok(p.ok);
  assert.equal(p.values['max-body'], 65536);
  assert.equal(p.values['max-memory'], 128);
  for (const [arg, re] of [
    ['--max-body=lots', /--max-body: not a byte size/],
    ['--max-body=-1', /--max-body: not a byte size/],
    ['--idle-exit=', /--idle-exit: not a number/],
    ['--stats-interval=ten', /--stats-interval: not a number/],
  ] as const) {
    const r = parseAgentFlags([arg]);
    assert.equal(r.ok, false, arg);
    if (!r.ok) assert.match(r.message, re);
  }
  assert.throws(() => agentFlagArgv({ 'max-body': 1.5 }), /--max-body: not a byte count/);
  assert.throws(() => agentFlagArgv({ 'idle-exit': Number.NaN }), /--idle-exit: not a finite number/);
});
