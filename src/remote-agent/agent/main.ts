/**
 * Entry point of the bundled agent (dist/agent/agent.js): `node agent.js capture [flags]`.
 * Wires stdin control lines, signals and the exit code around the Agent. A process in an
 * ephemeral container gets no signal when the exec connection drops: stdin EOF is its lifeline.
 */
import { stringifyJson } from '../../model/terminal-text.ts';
import { Agent, type AgentConfig } from './agent.ts';
import { parseAgentArgs } from './args.ts';
import type { ProtobufSchema } from '../dissect/dissector.ts';
import { loadProtoDescriptorFile } from '../dissect/grpc/index.ts';
import { reexecWithHeapFlags } from './heap-flags.ts';
import { memoryBudget } from './memory-budget.ts';
import { yieldToApp } from './yield-to-app.ts';
import { readCaptureFile } from '../source/capture-file-input.ts';
import { LineSplitter } from '../../model/line-splitter.ts';
import { MAX_CONTROL_LINE_BYTES, parseControlLine } from '../wire/protocol.ts';

/** Exit codes: 0 stopped as asked, 1 capture failed, 2 bad usage or filter. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseAgentArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'usage-error') {
    process.stdout.write(`${stringifyJson({ type: 'error', code: 'USAGE', message: parsed.message })}\n`);
    process.stderr.write(`kubectl-shark agent: ${parsed.message}\nRun "node agent.js --help" for usage.\n`);
    return 2;
  }
  const { args } = parsed;
  // First victim of the pod's OOM killer, last in line for CPU: before the re-exec, whose process
  // (and every thread it starts) inherits both; the re-executed agent does it again to report it.
  const yielded = yieldToApp();
  // Replaces this process (same pid and stdio) with one whose V8 heap fits --max-memory.
  const heap = reexecWithHeapFlags(memoryBudget(args.maxMemoryBytes));
  const fromStdin = args.pcap === '-';
  const { iface, pcap, protoDescriptor, ...settings } = args;
  let protobufSchema: ProtobufSchema | undefined;
  if (protoDescriptor !== null) {
    try {
      protobufSchema = (await loadProtoDescriptorFile(protoDescriptor)).schema;
    } catch (err) {
      // A file tap checked before the upload: only a hand-run agent meets this (exit 2 as for a bad flag).
      const message = err instanceof Error ? err.message : String(err);
      process.stdout.write(`${stringifyJson({ type: 'error', code: 'USAGE', message })}\n`);
      process.stderr.write(`kubectl-shark agent: ${message}\n`);
      return 2;
    }
  }
  const config: AgentConfig = {
    ...settings,
    ...(protobufSchema ? { protobufSchema } : {}),
    source:
      pcap === null
        ? { kind: 'live', iface }
        : { kind: 'pcap', label: pcap, chunks: fromStdin ? process.stdin : readCaptureFile(pcap) },
    yielded: { oomScoreAdj: yielded.oomScoreAdj, nice: yielded.nice },
    startupWarnings: [
      ...yielded.warnings,
      ...(heap === 'unsupported'
        ? [{ code: 'HEAP_LIMITS' as const, message: `this Node.js (${process.version}) has no process.execve: the JS heap keeps V8's default limits, so RSS may exceed --max-memory (use Node >= 22.15)` }]
        : []),
    ],
  };
  const agent = new Agent(config, process.stdout);
  if (!fromStdin) {
    const lines = new LineSplitter(MAX_CONTROL_LINE_BYTES, {
      line(text) {
        const control = parseControlLine(text);
        if (control.ok) agent.control(control.frame);
        else agent.badControl(control.message);
      },
      overlong(bytes) {
        agent.badControl(`control line of ${bytes} bytes ignored (at most ${MAX_CONTROL_LINE_BYTES})`);
      },
    });
    process.stdin.on('data', (chunk: Buffer) => lines.push(chunk));
    // Live capture has no end of its own: stdin EOF is its stop. A capture file ends by itself.
    const live = config.source.kind === 'live';
    process.stdin.on('end', () => {
      lines.end();
      if (live) agent.stop('stdin-eof');
    });
    process.stdin.on('error', () => {
      if (live) agent.stop('stdin-eof');
    });
  }
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => agent.stop('signal'));
  // A write to a reader that went away must end the agent, not kill it with an unhandled error.
  process.stdout.on('error', () => agent.stop('reader-gone'));
  const exit = await agent.run();
  return exit.code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kubectl-shark agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
