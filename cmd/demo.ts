/**
 * `kubectl shark demo`: the built-in default that needs no cluster and no root. It dissects the
 * bundled recording of a small microservice system (assets/demo, made by test/demo/record-demo.sh)
 * exactly as `read` would. The live-paced TUI replay comes with the TUI.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { runRead } from './read.ts';

interface DemoArgs {
  output: 'json' | 'text' | undefined;
  filter: string | undefined;
}

/** Works from cmd/ (sources) and from dist/cmd/ (compiled). */
export function demoCapturePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith(join('dist', 'cmd')) ? join(here, '..', '..') : join(here, '..');
  return join(root, 'assets', 'demo', 'microservices.pcapng');
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Dissect the bundled recording of a small microservice system (no cluster needed)',
  builder: (y) =>
    y
      .option('output', { alias: 'o', choices: ['json', 'text'] as const, describe: 'json: NDJSON; text: one line per entry (default on a terminal)' })
      .option('filter', { alias: 'f', type: 'string', describe: 'KFL query: only matching entries' }),
  handler: (args) =>
    runRead({ files: [demoCapturePath()], filter: args.filter, output: args.output, maxBody: '64KiB', responseTimeout: 120, quiet: false }),
};
