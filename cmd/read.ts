/** `kubectl shark read FILE...`: dissect capture files offline. Flags and wiring only. */
import type { Argv, CommandModule } from 'yargs';
import type { CompiledFilter } from '../src/kfl/api.ts';
import { SharkError } from '../src/model/errors.ts';
import type { Entry } from '../src/model/entry.ts';
import { formatFilterOutcome } from '../src/model/count-text.ts';
import { formatTallies, talliesWorthShowing, type ProtocolTallies } from '../src/model/protocol-tally.ts';
import { formatUndissected, hasUndissected } from '../src/model/undissected.ts';
import { lostExchangesOf, protocolLabel } from '../src/remote-agent/dissect/descriptors.ts';
import { sanitizeBlock } from '../src/model/terminal-text.ts';
import { readCaptures, type CaptureInput } from '../src/pipeline/read-capture.ts';
import { LineWriter } from '../src/pipeline/sinks/line-writer.ts';
import { formatEntryLine } from '../src/pipeline/sinks/text-line.ts';
import { EntryRedactor } from '../src/remote-agent/redact/index.ts';
import { recyclableCaptureFile } from '../src/remote-agent/source/capture-file-input.ts';
import type { CaptureStats } from '../src/remote-agent/stats.ts';
import { parseByteSize } from './byte-size.ts';
import { exitCodeFor } from './exit-codes.ts';
import { REDACT_KEYS_OPTION, REDACT_OPTION, redactKeysOf } from './redaction-flags.ts';
import { STDIN_PATH } from './stdin-path.ts';
import { COLOR_OPTION, FILTER_OPTION, MAX_BODY_OPTION, MAX_BODY_MEMORY_OPTION, MAX_ENTRIES_OPTION, OUTPUT_OPTION, DEFAULT_RESPONSE_TIMEOUT_S, PROTO_DESCRIPTOR_OPTION, decimalOption, parseMaxBody, stringOption, type OutputFormat } from './shared-options.ts';
import { loadProtoDescriptorFile } from '../src/remote-agent/dissect/grpc/index.ts';
import type { ProtobufSchema } from '../src/remote-agent/dissect/dissector.ts';
import { exitUsage } from './usage-error.ts';
import { withExamples, type Example } from './examples.ts';
import { DEFAULT_MAX_LINE_BYTES } from '../src/pipeline/ndjson-entries.ts';
import type { ColorChoice } from '../src/tui/terminal-control.ts';

export interface ReadArgs {
  files: string[];
  filter: string | undefined;
  output: OutputFormat | undefined;
  maxBody: string;
  /** Longest NDJSON input line; the pipeline's default (16 MiB) when absent. */
  maxLine?: string | undefined;
  responseTimeout: number;
  quiet: boolean;
  maxEntries: number;
  /** tui: bytes of bodies kept beside the entries (default: the store's). */
  maxBodyMemory?: number;
  color: ColorChoice;
  redact: boolean;
  /** --redact-keys: a string, or an array when repeated. */
  redactKeys?: string | string[] | undefined;
  /** --proto-descriptor: a FileDescriptorSet file for gRPC messages. */
  protoDescriptor?: string | undefined;
  /** Whose flags these are, for messages: `demo` prints through `read`. */
  command?: 'read' | 'demo';
}

/** The TUI needs a terminal for the screen and for the keys; `read -` has its data on stdin. */
export function defaultOutput(readsStdin: boolean): OutputFormat {
  if (!process.stdout.isTTY) return 'json';
  return process.stdin.isTTY && !readsStdin ? 'tui' : 'text';
}

function openInput(file: string): CaptureInput {
  if (file === '-' || file === STDIN_PATH) return { label: 'standard input', chunks: process.stdin };
  return { label: file, ...recyclableCaptureFile(file) };
}

export function formatSummary(stats: CaptureStats): string {
  return (
    `read: ${stats.packets} packets, ${stats.bytes} bytes, ${stats.connections} connections, ` +
    `${stats.entries} entries, ${stats.unpairedRequests} unpaired requests, ` +
    `${stats.gaps} gaps (${stats.gapBytes} bytes), ${stats.malformed} malformed packets` +
    (stats.droppedBytes > 0 ? `, ${stats.droppedBytes} bytes dropped at the memory cap` : '') +
    (stats.outOfWindowSegments > 0 ? `, ${stats.outOfWindowSegments} TCP segments out of window` : '') +
    (stats.expiredConnections > 0 ? `, ${stats.expiredConnections} connections expired` : '') +
    (stats.reorderOverflow > 0 ? `, ${stats.reorderOverflow} entries out of order (reorder buffer full)` : '') +
    (stats.oversizedLines > 0 ? `, ${stats.oversizedLines} NDJSON lines skipped as longer than --max-line` : '') +
    (stats.internalErrors > 0 ? `, ${stats.internalErrors} internal errors (a bug: please report)` : '') +
    (hasUndissected(stats.undissected) ? `; not dissected: ${formatUndissected(stats.undissected)}` : '') +
    protocolSplit(stats.protocols)
  );
}

/**
 * "; by protocol: HTTP 120 entries, DNS 40 entries and 2 violations": when more than one protocol
 * was seen or a protocol met violations or lost exchanges (for one clean protocol, the totals
 * already say it all).
 */
function protocolSplit(tallies: ProtocolTallies): string {
  return talliesWorthShowing(tallies) ? `; by protocol: ${formatTallies(tallies, protocolLabel, lostExchangesOf)}` : '';
}

export async function runRead(args: ReadArgs): Promise<void> {
  const maxBody = parseMaxBody(args.maxBody);
  if (!maxBody.ok) exitUsage(args.command ?? 'read', maxBody.message);
  const maxBodyBytes = maxBody.bytes;
  const maxLineBytes = args.maxLine === undefined ? DEFAULT_MAX_LINE_BYTES : parseByteSize(args.maxLine);
  if (maxLineBytes === undefined || maxLineBytes < 1) {
    exitUsage('read', `--max-line ${JSON.stringify(args.maxLine)} is not a size (try 16MiB or 1048576)`);
  }
  const command = args.command ?? 'read';
  const filter = await compileFilterFlag(command, args.filter);
  const redactor = redactorOf(args);
  const readsStdin = args.files.some((f) => f === '-' || f === STDIN_PATH);
  const output = args.output ?? defaultOutput(readsStdin);
  const protobufSchema = await protoDescriptorOf(command, args.protoDescriptor);
  const dissect = { maxBodyBytes, responseTimeoutUs: args.responseTimeout * 1_000_000, ...(protobufSchema ? { protobufSchema } : {}) };
  if (output === 'tui') {
    process.exitCode = await (await import('./tui-session.ts')).runTuiSession({
      source: args.files.map((f) => (f === STDIN_PATH ? '-' : f)).join(', '),
      targets: args.files.length,
      color: args.color,
      maxEntries: args.maxEntries,
      ...(args.maxBodyMemory !== undefined ? { maxBodyMemory: args.maxBodyMemory } : {}),
      filter,
      feed: async (store, signal) => {
        if (redactor === undefined) store.markRedactionOff();
        await readCaptures(args.files.map(openInput), (entry) => store.add(entry), {
          dissect,
          maxLineBytes,
          signal,
          ...(redactor ? { redactor } : {}),
          onRedactionOff: () => store.markRedactionOff(),
          onProgress: (stats) => store.setUndissected(stats.undissected),
        });
      },
      report: reportError,
    });
    return;
  }
  const writer = new LineWriter(process.stdout);
  // Both are terminal-safe: NDJSON with DEL and C1 escaped too (the same data), text sanitised.
  const write = output === 'json' ? (e: Entry) => writer.writeJson(e) : (e: Entry) => writer.write(formatEntryLine(e));

  try {
    const result = await readCaptures(
      args.files.map(openInput),
      write,
      {
        dissect,
        maxLineBytes,
        ...(filter ? { filter } : {}),
        ...(redactor ? { redactor } : {}),
        waitForSink: () => writer.drained(),
      },
    );
    await writer.end();
    for (const warning of result.warnings) process.stderr.write(`kubectl shark: warning: ${sanitizeBlock(warning.message)}\n`);
    if (!args.quiet) {
      const matched = filter ? `; ${formatFilterOutcome(result.stats.entries, result.matched)}` : '';
      process.stderr.write(`${formatSummary(result.stats)}${matched}\n`);
    }
  } catch (err) {
    await writer.end();
    process.exitCode = reportError(err);
  }
}

/** The redactor of --no-redact / --redact-keys (undefined: no redaction); bad keys exit 2. */
function redactorOf(args: ReadArgs): EntryRedactor | undefined {
  const keys = redactKeysOf(args.redact, args.redactKeys);
  if (!keys.ok) {
    exitUsage('read', keys.message);
  }
  return args.redact ? new EntryRedactor({ extraKeys: keys.keys }) : undefined;
}

/**
 * Loads --proto-descriptor before anything is read: a file that cannot be read or is not a usable
 * FileDescriptorSet ends the run here with one message (exit 1 or 2, as for a capture file).
 */
async function protoDescriptorOf(command: 'read' | 'demo', path: string | undefined): Promise<ProtobufSchema | undefined> {
  if (path === undefined) return undefined;
  try {
    return (await loadProtoDescriptorFile(path)).schema;
  } catch (err) {
    if (err instanceof SharkError && err.code === 'USAGE') exitUsage(command, err.message);
    process.exit(reportError(err));
  }
}

/**
 * Compiles --filter of `read` or `demo`; a bad query ends the run here with the caret display and
 * exit 2. The compiler (and re2js under it) is loaded only when there is a query (issue 17).
 */
export async function compileFilterFlag(command: 'read' | 'demo', query: string | undefined): Promise<CompiledFilter | undefined> {
  if (query === undefined) return undefined;
  const { compileKfl } = await import('../src/kfl/index.ts');
  const compiled = compileKfl(query);
  if (!compiled.ok) exitUsage(command, `bad --filter query (column ${compiled.error.column}):\n${compiled.error.display}`);
  for (const warning of compiled.warnings) process.stderr.write(`kubectl shark ${command}: warning: --filter column ${warning.column}: ${warning.message}\n`);
  return compiled.filter;
}

export function reportError(err: unknown): number {
  if (err instanceof SharkError) {
    process.stderr.write(`kubectl shark read: ${sanitizeBlock(err.message)}\n`);
    return exitCodeFor(err.code);
  }
  throw err;
}

const NO_FILES = 'no capture file named (got %s, need at least %s): name pcap, pcapng or NDJSON files, or - for standard input';

export const READ_EXAMPLES: readonly Example[] = [
  { command: '$0 read capture.pcap', what: 'the TUI on a terminal; NDJSON when piped' },
  { command: '$0 read capture.pcap -o json | jq .request.path', what: 'NDJSON for jq' },
  { command: `$0 read capture.pcap -f 'http and response.status >= 500'`, what: 'only server errors' },
  { command: 'tcpdump -U -w - | $0 read -', what: 'a live tcpdump, from standard input' },
  { command: '$0 read capture.pcap --redact-keys tenant,ssn -o json', what: 'also hide values named tenant or ssn' },
];

export const readCommand: CommandModule<object, ReadArgs> = {
  command: 'read <files..>',
  describe: 'Dissect capture files (pcap, pcapng, NDJSON): the TUI on a terminal, NDJSON when piped',
  builder: (y: Argv) =>
    withExamples(
      y
      // No default: yargs would give the variadic one of [] and show it next to [required].
      .positional('files', { type: 'string', array: true, default: undefined, describe: 'capture files (pcap, pcapng, NDJSON), or - for standard input' })
      .option('output', OUTPUT_OPTION)
      .option('filter', FILTER_OPTION)
      .option('max-entries', MAX_ENTRIES_OPTION)
      .option('max-body-memory', MAX_BODY_MEMORY_OPTION)
      .option('color', COLOR_OPTION)
      .option('max-body', MAX_BODY_OPTION)
      .option('max-line', stringOption('NDJSON input: longer lines are skipped and counted (default 16MiB: fits entries saved with --max-body up to 4MiB)'))
      .option(
        'response-timeout',
        decimalOption('--response-timeout', 'seconds of capture time a request waits for its response', { min: 0, default: DEFAULT_RESPONSE_TIMEOUT_S }),
      )
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary on stderr' })
      .option('redact', REDACT_OPTION)
      .option('redact-keys', REDACT_KEYS_OPTION)
      .option('proto-descriptor', PROTO_DESCRIPTOR_OPTION)
        // yargs' words for a missing positional say nothing of what to give: say it (read's is the
        // only one). The string is a plural entry ({one, other}), which @types/yargs types as a string.
        .updateStrings({ 'Not enough non-option arguments: got %s, need at least %s': { one: NO_FILES, other: NO_FILES } } as unknown as Record<string, string>),
      READ_EXAMPLES,
    ) as unknown as Argv<ReadArgs>,
  handler: runRead,
};
