/**
 * Command line of the agent: `node agent.js capture [flags]`. node:util's parseArgs, not yargs:
 * the agent is uploaded into every tapped pod, so every kilobyte of the bundle counts.
 */
import { parseArgs } from 'node:util';
import type { AgentSettings } from './agent.ts';
import { DEFAULT_AGENT_MEMORY_BYTES, MIN_AGENT_MEMORY_BYTES } from '../../model/agent-memory.ts';
import { splitKeyList } from '../redact/index.ts';

/** The flags as the agent takes them: where to capture, and the settings the Agent runs with. */
export interface AgentArgs extends AgentSettings {
  readonly iface: string;
  /** Read a capture file ("-" = stdin) instead of capturing live. */
  readonly pcap: string | null;
}

export type ParsedAgentArgs =
  | { readonly kind: 'run'; readonly args: AgentArgs }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'usage-error'; readonly message: string };

export const AGENT_USAGE = `Usage: node agent.js capture [options]

Captures TCP traffic of this network namespace and writes entries as NDJSON frames on stdout
(protocol: docs/agent-protocol.md). Control frames are read from stdin; stdin EOF stops the agent.

Options:
  --iface NAME          interface to capture, or "any" (default: any)
  --pcap FILE|-         read a pcap/pcapng file (or stdin) instead of capturing live
  --filter KFL          send only entries matching this filter
  --max-body BYTES      body bytes kept per message, e.g. 65536, 64k, 1m (default: 64k)
  --no-redact           send sensitive values as captured (redaction is on by default)
  --redact-keys a,b     more sensitive names, added to the default list
  --max-memory MB       memory bound of the agent (default: ${DEFAULT_AGENT_MEMORY_BYTES / 1048576}, at least ${MIN_AGENT_MEMORY_BYTES / 1048576})
  --idle-exit SECONDS   exit when the reader has taken nothing for this long; 0 = never (default: 120)
  --stats-interval MS   how often stats frames are written (default: 1000)
  -h, --help            show this help
`;

export function parseAgentArgs(argv: readonly string[]): ParsedAgentArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        iface: { type: 'string', default: 'any' },
        pcap: { type: 'string' },
        filter: { type: 'string' },
        'max-body': { type: 'string', default: '64k' },
        'no-redact': { type: 'boolean', default: false },
        'redact-keys': { type: 'string', multiple: true, default: [] },
        'max-memory': { type: 'string', default: String(DEFAULT_AGENT_MEMORY_BYTES / 1048576) },
        'idle-exit': { type: 'string', default: '120' },
        'stats-interval': { type: 'string', default: '1000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return { kind: 'usage-error', message: err instanceof Error ? err.message : String(err) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', text: AGENT_USAGE };
  if (positionals.length !== 1 || positionals[0] !== 'capture') {
    return { kind: 'usage-error', message: `expected the command "capture", got ${positionals.length === 0 ? 'none' : JSON.stringify(positionals.join(' '))}` };
  }
  const maxBody = parseBytes(values['max-body']);
  if (maxBody === null) return { kind: 'usage-error', message: `--max-body: not a byte size: ${JSON.stringify(values['max-body'])} (e.g. 65536, 64k, 1m)` };
  const maxMemoryMb = Number(values['max-memory']);
  if (!Number.isFinite(maxMemoryMb) || maxMemoryMb * 1048576 < MIN_AGENT_MEMORY_BYTES) {
    return { kind: 'usage-error', message: `--max-memory: expected megabytes, at least ${MIN_AGENT_MEMORY_BYTES / 1048576}; got ${JSON.stringify(values['max-memory'])}` };
  }
  const idle = Number(values['idle-exit']);
  if (!Number.isFinite(idle) || idle < 0) return { kind: 'usage-error', message: `--idle-exit: expected seconds >= 0, got ${JSON.stringify(values['idle-exit'])}` };
  const statsMs = Number(values['stats-interval']);
  if (!Number.isInteger(statsMs) || statsMs < 50) return { kind: 'usage-error', message: `--stats-interval: expected milliseconds >= 50, got ${JSON.stringify(values['stats-interval'])}` };
  const iface = values.iface;
  if (iface === '' || iface.length > 15 || iface.includes('/')) {
    return { kind: 'usage-error', message: `--iface: not an interface name: ${JSON.stringify(iface)}` };
  }
  const redactKeys = splitKeyList(values['redact-keys']);
  return {
    kind: 'run',
    args: {
      iface,
      pcap: values.pcap ?? null,
      filter: values.filter ?? null,
      maxBodyBytes: maxBody,
      redact: !values['no-redact'],
      redactKeys,
      maxMemoryBytes: Math.floor(maxMemoryMb * 1048576),
      idleExitMs: Math.round(idle * 1000),
      statsIntervalMs: statsMs,
    },
  };
}

function parseBytes(text: string): number | null {
  const m = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (!m) return null;
  const unit = m[2].toLowerCase() === 'k' ? 1024 : m[2].toLowerCase() === 'm' ? 1048576 : 1;
  return Number(m[1]) * unit;
}
