/**
 * `kubectl shark demo`: the built-in default that needs no cluster and no root. It replays the
 * bundled recording of a small microservice system (assets/demo, made by test/demo/record-demo.sh)
 * at its recorded pace in the TUI, so the list fills live and the service map grows. Piped, or with
 * -o json|text, it prints the dissected entries as `read` would.
 */
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { Entry } from '../src/model/entry.ts';
import { readEntriesOf } from '../src/pipeline/read-capture.ts';
import { EntryRedactor } from '../src/remote-agent/redact/index.ts';
import { replayEntries } from '../src/pipeline/replay.ts';
import type { ColorChoice } from '../src/tui/terminal-control.ts';
import { withExamples, type Example } from './examples.ts';
import { packageRoot } from './package-root.ts';
import { compileFilterFlag, defaultOutput, reportError, runRead } from './read.ts';
import { COLOR_OPTION, DEFAULT_RESPONSE_TIMEOUT_S, FILTER_OPTION, MAX_BODY_OPTION, MAX_BODY_MEMORY_OPTION, MAX_ENTRIES_OPTION, OUTPUT_OPTION, decimalOption, parseMaxBody, type OutputFormat } from './shared-options.ts';
import { exitUsage } from './usage-error.ts';

interface DemoArgs {
  output: OutputFormat | undefined;
  filter: string | undefined;
  speed: number;
  loop: boolean;
  maxEntries: number;
  maxBodyMemory: number;
  maxBody: string;
  color: ColorChoice;
}

export function demoCapturePath(): string {
  return join(packageRoot(), 'assets', 'demo', 'microservices.pcapng');
}

function workloads(entries: readonly Entry[]): number {
  const names = new Set<string>();
  for (const e of entries) for (const ep of [e.src, e.dst]) if (ep.name !== '') names.add(ep.name);
  return names.size;
}

async function runDemo(args: DemoArgs): Promise<void> {
  const file = demoCapturePath();
  const output = args.output ?? defaultOutput(false);
  if (output !== 'tui') {
    return runRead({ files: [file], filter: args.filter, output, maxBody: args.maxBody, responseTimeout: DEFAULT_RESPONSE_TIMEOUT_S, quiet: false, maxEntries: args.maxEntries, maxBodyMemory: args.maxBodyMemory, color: args.color, redact: true, command: 'demo' });
  }
  const filter = await compileFilterFlag('demo', args.filter);
  const maxBody = parseMaxBody(args.maxBody);
  if (!maxBody.ok) exitUsage('demo', maxBody.message);
  // Redacted like `read` shows it (the recording's people have names).
  const entries = await readEntriesOf(file, { redactor: new EntryRedactor(), dissect: { maxBodyBytes: maxBody.bytes, responseTimeoutUs: DEFAULT_RESPONSE_TIMEOUT_S * 1_000_000 } });
  process.exitCode = await (await import('./tui-session.ts')).runTuiSession({
    source: `demo: ${file.split('/').slice(-3).join('/')}${args.loop ? ' (loop)' : ''}`,
    targets: workloads(entries),
    color: args.color,
    maxEntries: args.maxEntries,
    maxBodyMemory: args.maxBodyMemory,
    filter,
    feed: (store, signal) => replayEntries(entries, (entry) => store.add(entry), { speed: args.speed, loop: args.loop, signal }),
    report: reportError,
  });
}

export const DEMO_EXAMPLES: readonly Example[] = [
  { command: '$0 demo', what: 'the TUI, filling at the recording\'s pace' },
  { command: `$0 demo -o json -f 'response.status >= 400' | jq .request.path`, what: 'the failed calls as NDJSON' },
  { command: `$0 demo -o text -f 'redis or postgresql'`, what: "the shop's calls to its cache and its database" },
];

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Replay a bundled recording of a small microservice system (no cluster needed)',
  builder: (y) =>
    withExamples(
      y
        .option('output', OUTPUT_OPTION)
        .option('filter', FILTER_OPTION)
        .option('max-entries', MAX_ENTRIES_OPTION)
        .option('max-body-memory', MAX_BODY_MEMORY_OPTION)
        .option('color', COLOR_OPTION)
        .option('max-body', MAX_BODY_OPTION)
        .option('speed', decimalOption('--speed', 'replay speed: 2 is twice as fast, 0 as fast as possible', { min: 0, default: 1 }))
        .option('loop', { type: 'boolean', default: false, describe: 'start over at the end of the recording' }),
      DEMO_EXAMPLES,
    ) as unknown as Argv<DemoArgs>,
  handler: runDemo,
};
