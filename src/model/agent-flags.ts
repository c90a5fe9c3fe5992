/**
 * The agent's command-line flags, defined once: the CLI builds the agent's argv from this schema
 * (src/kube/agent-runner.ts) and the agent parses its argv with it (src/remote-agent/agent/args.ts),
 * so a flag cannot be spelled, typed or defaulted differently on the two sides. Range checks that
 * need a message of their own (at least 96 MB, an interface name) stay with the agent.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_AGENT_MEMORY_BYTES } from './agent-memory.ts';
import { DEFAULT_MAX_BODY_BYTES } from './body-limit.ts';

/** string: text or absent (null); number: any finite number; bytes: a whole byte count (64k, 1m on input); list: repeatable; boolean: present or not. */
export type AgentFlagType = 'string' | 'number' | 'bytes' | 'list' | 'boolean';

interface FlagSpec {
  readonly type: AgentFlagType;
  /** What the value is, for the help text (absent for booleans). */
  readonly arg?: string;
  readonly help: string;
}

export const AGENT_FLAGS = {
  iface: { type: 'string', arg: 'NAME', help: 'interface to capture, or "any"', default: 'any' },
  pcap: { type: 'string', arg: 'FILE|-', help: 'read a pcap/pcapng file (or stdin) instead of capturing live', default: null },
  filter: { type: 'string', arg: 'KFL', help: 'send only entries matching this filter', default: null },
  'max-body': { type: 'bytes', arg: 'BYTES', help: 'body bytes kept per message, e.g. 65536, 64k, 1m', default: DEFAULT_MAX_BODY_BYTES },
  'no-redact': { type: 'boolean', help: 'send sensitive values as captured (redaction is on by default)', default: false },
  'redact-keys': { type: 'list', arg: 'a,b', help: 'more sensitive names, added to the default list (repeatable)', default: [] },
  'proto-descriptor': { type: 'string', arg: 'FILE', help: 'decode gRPC messages with this FileDescriptorSet (protoc -o)', default: null },
  tls: { type: 'boolean', help: 'also capture TLS plaintext through eBPF uprobes (OpenSSL, Go crypto/tls)', default: false },
  'max-memory': { type: 'number', arg: 'MB', help: 'memory bound of the agent, MiB', default: DEFAULT_AGENT_MEMORY_BYTES / 1048576 },
  'idle-exit': { type: 'number', arg: 'SECONDS', help: 'exit when the reader has taken nothing for this long; 0 = never', default: 120 },
  'stats-interval': { type: 'number', arg: 'MS', help: 'how often stats frames are written', default: 1000 },
} as const satisfies Record<string, FlagSpec & { readonly default: string | number | boolean | null | readonly string[] }>;

export type AgentFlagName = keyof typeof AGENT_FLAGS;

type ValueOfType<T extends AgentFlagType> = T extends 'string' ? string | null : T extends 'number' | 'bytes' ? number : T extends 'list' ? readonly string[] : boolean;

/** Every flag's value, typed by its schema type (numbers are numbers, lists are arrays). */
export type AgentFlagValues = { readonly [K in AgentFlagName]: ValueOfType<(typeof AGENT_FLAGS)[K]['type']> };

const NAMES = Object.keys(AGENT_FLAGS) as AgentFlagName[];

function specOf(name: AgentFlagName): FlagSpec & { readonly default: unknown } {
  return AGENT_FLAGS[name];
}

export function agentFlagDefaults(): AgentFlagValues {
  return Object.fromEntries(NAMES.map((n) => [n, specOf(n).default])) as unknown as AgentFlagValues;
}

/**
 * The argv for `values`: flags left out (undefined, null, false) are not written. Every value is in the
 * same argument as its name (`--name=value`): a value in its own argument is taken for a flag when
 * it starts with "-" (a KFL filter such as `-1 < response.status`). A list is one argument per item,
 * so items keep their commas.
 */
export function agentFlagArgv(values: Partial<AgentFlagValues>): string[] {
  const argv: string[] = [];
  for (const name of NAMES) {
    const value: unknown = values[name];
    const spec = specOf(name);
    if (value === undefined || value === null) continue;
    switch (spec.type) {
      case 'boolean':
        if (value === true) argv.push(`--${name}`);
        break;
      case 'list':
        for (const item of value as readonly string[]) argv.push(`--${name}=${item}`);
        break;
      case 'number':
      case 'bytes':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`--${name}: not a finite number: ${String(value)}`);
        if (spec.type === 'bytes' && !(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`--${name}: not a byte count: ${value}`);
        argv.push(`--${name}=${String(value)}`);
        break;
      case 'string':
        argv.push(`--${name}=${String(value)}`);
        break;
    }
  }
  return argv;
}

export type ParsedAgentFlags =
  | { readonly ok: true; readonly values: AgentFlagValues; readonly positionals: readonly string[]; readonly help: boolean }
  | { readonly ok: false; readonly message: string };

/** Parses `argv` by the schema: unknown flags, non-numbers and bad byte sizes are a message naming the flag. */
export function parseAgentFlags(argv: readonly string[]): ParsedAgentFlags {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of NAMES) {
    const type = specOf(name).type;
    options[name] = type === 'boolean' ? { type: 'boolean' } : type === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const spec = specOf(name);
    const raw = parsed.values[name];
    if (raw === undefined) {
      out[name] = spec.default;
      continue;
    }
    if (spec.type === 'number') {
      const text = raw as string;
      const n = text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(n)) return { ok: false, message: `--${name}: not a number: ${JSON.stringify(text)}` };
      out[name] = n;
    } else if (spec.type === 'bytes') {
      const n = parseByteSize(raw as string);
      if (n === null) return { ok: false, message: `--${name}: not a byte size: ${JSON.stringify(raw)} (e.g. 65536, 64k, 1m)` };
      out[name] = n;
    } else {
      out[name] = raw;
    }
  }
  return { ok: true, values: out as unknown as AgentFlagValues, positionals: parsed.positionals, help: parsed.values.help === true };
}

function parseByteSize(text: string): number | null {
  const m = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (!m) return null;
  const unit = m[2].toLowerCase() === 'k' ? 1024 : m[2].toLowerCase() === 'm' ? 1048576 : 1;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : null;
}

/** The options part of the agent's help text, from the schema. */
export function agentFlagsHelp(): string {
  const rows = NAMES.map((name) => {
    const spec = specOf(name);
    const left = `--${name}${spec.arg === undefined ? '' : ` ${spec.arg}`}`;
    const d = spec.default;
    const shown = d === null || d === false || (Array.isArray(d) && d.length === 0) ? '' : ` (default: ${String(d)})`;
    return [left, `${spec.help}${shown}`] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  // The column fits the longest flag, with two spaces before the text (a fixed 22 ran
  // "--proto-descriptor FILE" into its help).
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`).join('\n');
}
