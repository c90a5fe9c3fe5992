/**
 * `kubectl shark demo`: the built-in default that needs no cluster and no root. It replays the
 * bundled recording of a small microservice system (assets/demo, made by test/demo/record-demo.sh)
 * at its recorded pace in the TUI, so the list fills live and the service map grows. Piped, or with
 * -o json|text, it prints the dissected entries as `read` would.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { compileKfl } from '../src/kfl/index.ts';
import type { Entry } from '../src/model/entry.ts';
import { DEFAULT_MAX_ENTRIES } from '../src/pipeline/entry-store.ts';
import { readEntriesOf } from '../src/pipeline/read-capture.ts';
import { EntryRedactor } from '../src/remote-agent/redact/index.ts';
import { replayEntries } from '../src/pipeline/replay.ts';
import type { ColorChoice } from '../src/tui/terminal-control.ts';
import { EXIT_USAGE } from './exit-codes.ts';
import { defaultOutput, reportError, runRead, type OutputFormat } from './read.ts';
import { runTuiSession } from './tui-session.ts';
import { filterOption } from './filter-option.ts';

interface DemoArgs {
  output: OutputFormat | undefined;
  filter: string | undefined;
  speed: number;
  loop: boolean;
  maxEntries: number;
  color: ColorChoice;
}

/** Works from cmd/ (sources) and from dist/cmd/ (compiled). */
export function demoCapturePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith(join('dist', 'cmd')) ? join(here, '..', '..') : join(here, '..');
  return join(root, 'assets', 'demo', 'microservices.pcapng');
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
    return runRead({ files: [file], filter: args.filter, output, maxBody: '64KiB', responseTimeout: 120, quiet: false, maxEntries: args.maxEntries, color: args.color, redact: true });
  }
  let filter;
  if (args.filter !== undefined) {
    const compiled = compileKfl(args.filter);
    if (!compiled.ok) {
      process.stderr.write(`kubectl shark: bad --filter query (column ${compiled.error.column}):\n${compiled.error.display}\n`);
      process.exit(EXIT_USAGE);
    }
    filter = compiled.filter;
  }
  // Redacted like `read` shows it (the recording's people have names).
  const entries = await readEntriesOf(file, { redactor: new EntryRedactor() });
  process.exitCode = await runTuiSession({
    source: `demo: ${file.split('/').slice(-3).join('/')}${args.loop ? ' (loop)' : ''}`,
    targets: workloads(entries),
    color: args.color,
    maxEntries: args.maxEntries,
    filter,
    feed: (store, signal) => replayEntries(entries, (entry) => store.add(entry), { speed: args.speed, loop: args.loop, signal }),
    report: reportError,
  });
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Replay a bundled recording of a small microservice system (no cluster needed)',
  builder: (y) =>
    y
      .option('output', { alias: 'o', choices: ['tui', 'json', 'text'] as const, describe: 'tui (default on a terminal), json (NDJSON) or text' })
      .option('filter', filterOption('KFL query: only matching entries'))
      .option('speed', { type: 'number', default: 1, describe: 'replay speed: 2 is twice as fast, 0 as fast as possible' })
      .option('loop', { type: 'boolean', default: false, describe: 'start over at the end of the recording' })
      .option('max-entries', { type: 'number', default: DEFAULT_MAX_ENTRIES, describe: 'entries kept in memory (a ring)' })
      .option('color', { choices: ['auto', 'always', 'never'] as const, default: 'auto' as const, describe: 'colours (NO_COLOR is honoured)' }) as unknown as Argv<DemoArgs>,
  handler: runDemo,
};
