/**
 * The plain `read` lines that skip yargs (cmd/read-argv.ts) give runRead exactly the arguments
 * yargs gives it, and every other line is left to yargs. Compared against yargs itself, configured
 * as cli.ts configures it, with read's own command module.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import yargs from 'yargs';
import { plainReadArgs } from '../../cmd/read-argv.ts';
import { readCommand, type ReadArgs } from '../../cmd/read.ts';
import { PARSER_CONFIGURATION } from '../../cmd/shared-options.ts';
import { STDIN_PATH } from '../../cmd/stdin-path.ts';

/** The ReadArgs fields runRead reads, as yargs hands them to the handler. */
const FIELDS: ReadonlyArray<keyof ReadArgs> = ['files', 'filter', 'output', 'maxBody', 'maxLine', 'responseTimeout', 'quiet', 'maxEntries', 'color', 'redact', 'redactKeys', 'protoDescriptor', 'command'];

async function viaYargs(args: readonly string[]): Promise<Partial<ReadArgs>> {
  let got: ReadArgs | undefined;
  await yargs([...args])
    .parserConfiguration(PARSER_CONFIGURATION)
    .command({ ...readCommand, handler: (a: ReadArgs) => void (got = a) })
    .strict()
    .fail((message) => {
      throw new Error(`yargs refused ${args.join(' ')}: ${message}`);
    })
    .parseAsync();
  assert.ok(got !== undefined, `yargs ran no handler for ${args.join(' ')}`);
  const picked: Partial<ReadArgs> = {};
  for (const f of FIELDS) if (got[f] !== undefined) Object.assign(picked, { [f]: got[f] });
  return picked;
}

const PLAIN_LINES: readonly (readonly string[])[] = [
  ['read', 'a.pcap'],
  ['read', 'a.pcap', '-o', 'json'],
  ['read', 'a.pcap', 'b.pcapng', '--output', 'text', '-q'],
  ['read', '-o', 'json', 'a.pcap', '--quiet'],
  ['read', STDIN_PATH, '-o', 'json'],
  ['read', 'a.pcap', '-f', 'response.status >= 400', '-o', 'text'],
  ['read', 'a.pcap', '--filter', '-x'],
  ['read', '123', 'read', '-o', 'tui'],
];

for (const line of PLAIN_LINES) {
  test(`read without yargs: ${line.join(' ')} parses as yargs parses it`, async () => {
    const plain = plainReadArgs(line);
    assert.ok(plain !== undefined, 'taken as a plain read line');
    const picked: Partial<ReadArgs> = {};
    for (const f of FIELDS) if (plain[f] !== undefined) Object.assign(picked, { [f]: plain[f] });
    assert.deepEqual(picked, await viaYargs(line));
  });
}

test('every other line is left to yargs', () => {
  const others: readonly (readonly string[])[] = [
    [],
    ['read'],
    ['read', '--help'],
    ['read', 'a.pcap', '-h'],
    ['--version'],
    ['tap', 'pod'],
    ['demo', '-o', 'json'],
    ['read', 'a.pcap', '-o'],
    ['read', 'a.pcap', '-o', 'yaml'],
    ['read', 'a.pcap', '-o', 'json', '-o', 'text'],
    ['read', 'a.pcap', '--output=json'],
    ['read', 'a.pcap', '-q', '-q'],
    ['read', 'a.pcap', '--no-quiet'],
    ['read', 'a.pcap', '-f'],
    ['read', 'a.pcap', '-f', 'http', '--filter', 'dns'],
    ['read', 'a.pcap', '--max-body', '1KiB'],
    ['read', 'a.pcap', '--no-redact'],
    ['read', 'a.pcap', '--redact-keys', 'x'],
    ['read', 'a.pcap', '--proto-descriptor', 'x.pb'],
    ['read', 'a.pcap', '--response-timeout', '5'],
    ['read', 'a.pcap', '--max-line', '1MiB'],
    ['read', 'a.pcap', '--max-entries', '10'],
    ['read', 'a.pcap', '--color', 'never'],
    ['read', 'a.pcap', '--', '-b.pcap'],
    ['read', '-qo', 'json', 'a.pcap'],
    ['read', ''],
    ['-o', 'json', 'read', 'a.pcap'],
  ];
  for (const line of others) assert.equal(plainReadArgs(line), undefined, `${JSON.stringify(line)} must go through yargs`);
});
