/**
 * Command line of the agent: `node agent.js capture [flags]`. The flags are defined once in
 * src/model/agent-flags.ts (the CLI builds the argv from the same schema); here they become the
 * settings the Agent runs with, with the agent's own range checks. node:util's parseArgs, not
 * yargs: the agent is uploaded into every tapped pod, so every kilobyte of the bundle counts.
 */
import type { AgentSettings } from './agent.ts';
import { MIN_AGENT_MEMORY_BYTES } from '../../model/agent-memory.ts';
import { agentFlagsHelp, parseAgentFlags } from '../../model/agent-flags.ts';
import { splitKeyList } from '../redact/index.ts';

/** The flags as the agent takes them: where to capture, and the settings the Agent runs with. */
export interface AgentArgs extends AgentSettings {
  readonly iface: string;
  /** Read a capture file ("-" = stdin) instead of capturing live. */
  readonly pcap: string | null;
  /** A FileDescriptorSet file for gRPC messages (loaded by main.ts before the capture starts). */
  readonly protoDescriptor: string | null;
}

export type ParsedAgentArgs =
  | { readonly kind: 'run'; readonly args: AgentArgs }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'usage-error'; readonly message: string };

export const AGENT_USAGE = `Usage: node agent.js capture [options]

Captures TCP traffic of this network namespace (with --tls also the TLS plaintext of its
processes, through eBPF) and writes entries as NDJSON frames on stdout
(protocol: docs/agent-protocol.md). Control frames are read from stdin; stdin EOF stops the agent.

Options:
${agentFlagsHelp()}
`;

export function parseAgentArgs(argv: readonly string[]): ParsedAgentArgs {
  const parsed = parseAgentFlags(argv);
  if (!parsed.ok) return { kind: 'usage-error', message: parsed.message };
  if (parsed.help) return { kind: 'help', text: AGENT_USAGE };
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] !== 'capture') {
    return { kind: 'usage-error', message: `expected the command "capture", got ${positionals.length === 0 ? 'none' : JSON.stringify(positionals.join(' '))}` };
  }
  const maxMemoryMb = values['max-memory'];
  if (maxMemoryMb * 1048576 < MIN_AGENT_MEMORY_BYTES) {
    return { kind: 'usage-error', message: `--max-memory: expected megabytes, at least ${MIN_AGENT_MEMORY_BYTES / 1048576}; got ${maxMemoryMb}` };
  }
  const idle = values['idle-exit'];
  if (idle < 0) return { kind: 'usage-error', message: `--idle-exit: expected seconds >= 0, got ${idle}` };
  const statsMs = values['stats-interval'];
  if (!Number.isInteger(statsMs) || statsMs < 50) return { kind: 'usage-error', message: `--stats-interval: expected milliseconds >= 50, got ${statsMs}` };
  if (values.tls && values.pcap !== null) {
    return { kind: 'usage-error', message: '--tls captures TLS plaintext from running processes: it cannot be used with --pcap (a capture file has only the encrypted bytes)' };
  }
  const iface = values.iface ?? 'any';
  if (iface === '' || iface.length > 15 || iface.includes('/')) {
    return { kind: 'usage-error', message: `--iface: not an interface name: ${JSON.stringify(iface)}` };
  }
  return {
    kind: 'run',
    args: {
      iface,
      pcap: values.pcap,
      protoDescriptor: values['proto-descriptor'],
      filter: values.filter,
      maxBodyBytes: values['max-body'],
      redact: !values['no-redact'],
      // Commas still separate names, for people running the agent by hand (`--redact-keys a,b`).
      redactKeys: splitKeyList(values['redact-keys']),
      maxMemoryBytes: Math.floor(maxMemoryMb * 1048576),
      idleExitMs: Math.round(idle * 1000),
      statsIntervalMs: statsMs,
      tls: values.tls,
    },
  };
}
