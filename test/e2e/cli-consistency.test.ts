/**
 * The CLI agrees with itself and with its README (issue 11, items 9-12), through the real launcher
 * and, for parsing, through the commands' own yargs builders: the options `read`, `demo` and `tap`
 * share read and parse the same everywhere, every number flag says what was wrong with a bad value,
 * usage errors point at the subcommand's help, examples are never cut at 80 columns, the top-level
 * help lists the exit codes of cmd/exit-codes.ts, and README documents the flags the CLI has.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { DEMO_EXAMPLES, demoCommand } from '../../cmd/demo.ts';
import * as exitCodes from '../../cmd/exit-codes.ts';
import type { Example } from '../../cmd/examples.ts';
import { READ_EXAMPLES, readCommand } from '../../cmd/read.ts';
import { DEFAULT_MAX_BODY, PARSER_CONFIGURATION } from '../../cmd/shared-options.ts';
import { TAP_EXAMPLES, tapCommand } from '../../cmd/tap.ts';
import { DEFAULT_DISSECT_OPTIONS } from '../../src/remote-agent/dissect/dissector.ts';
import { DEFAULT_MAX_PART_BYTES } from '../../src/pipeline/part-store.ts';
import { RingEntryStore } from '../../src/pipeline/entry-store.ts';
import { tuiStoreOptions } from '../../cmd/tui-session.ts';
import { buildEntry } from '../helpers/entries.ts';
import { parseByteSize } from '../../cmd/byte-size.ts';
import { LAUNCHER, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';

const COMMANDS = { read: readCommand, demo: demoCommand, tap: tapCommand } as const;
type Name = keyof typeof COMMANDS;
const NAMES = Object.keys(COMMANDS) as Name[];
const SHARED = ['--output', '--filter', '--max-entries', '--max-body-memory', '--color', '--max-body'] as const;

/** Help as a user sees it in a terminal of `columns` (piped, so $COLUMNS says the width). */
async function help(args: readonly string[], columns: number): Promise<string> {
  const res = await runShark([...args, '--help'], { env: { ...process.env, COLUMNS: String(columns) } });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

/** An option's rows in a help text (its line and the wrapped lines under it), whitespace collapsed. */
function optionBlock(text: string, flag: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s+(-\\w, )?${flag}\\s`).test(l));
  assert.ok(start >= 0, `${flag} is in the help`);
  let end = start + 1;
  while (end < lines.length && /^\s{8,}\S/.test(lines[end]!)) end++;
  return lines.slice(start, end).join(' ').replace(/\s+/g, ' ').trim();
}

/** Parses `args` with one command's builder (no handler runs); a usage error is thrown. */
function parseWith(name: Name, args: readonly string[]): Record<string, unknown> {
  let parsed: Record<string, unknown> | undefined;
  const command: CommandModule = { ...(COMMANDS[name] as unknown as CommandModule), handler: (argv) => void (parsed = argv) };
  yargs([name, ...(name === 'read' ? ['x.pcap'] : []), ...args])
    .parserConfiguration(PARSER_CONFIGURATION)
    .command(command)
    .strict()
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new Error(message);
    })
    .parseSync();
  assert.ok(parsed, 'the handler ran');
  return parsed;
}

test('the shared options read the same in the --help of read, demo and tap, at 80 and 120 columns', async () => {
  for (const columns of [80, 120]) {
    const blocks = new Map<Name, string[]>();
    for (const name of NAMES) {
      const text = await help([name], columns);
      blocks.set(name, SHARED.map((flag) => optionBlock(text, flag)));
    }
    assert.deepEqual(blocks.get('demo'), blocks.get('read'), `demo and read at ${columns} columns`);
    assert.deepEqual(blocks.get('tap'), blocks.get('read'), `tap and read at ${columns} columns`);
  }
  const read = await help(['read'], 120);
  // One default, the dissectors' own, shown as sizes are shown everywhere.
  assert.equal(parseByteSize(DEFAULT_MAX_BODY), DEFAULT_DISSECT_OPTIONS.maxBodyBytes);
  assert.match(optionBlock(read, '--max-body'), new RegExp(`\\[default: "${DEFAULT_MAX_BODY}"\\]`));
  assert.match(optionBlock(read, '--output'), /\[choices: "tui", "json", "text"\]/);
  assert.match(optionBlock(read, '--max-body-memory'), /\[default: 256 MiB\]/);
  assert.equal(parseByteSize('256 MiB'), DEFAULT_MAX_PART_BYTES, 'the default as shown is a size the flag takes');
});

test('the shared options parse the same in read, demo and tap', () => {
  const cases: Array<[string[], Record<string, unknown>]> = [
    [[], { output: undefined, filter: undefined, maxEntries: 100_000, maxBodyMemory: DEFAULT_MAX_PART_BYTES, color: 'auto', maxBody: DEFAULT_MAX_BODY }],
    [['--max-body-memory', '1Gi'], { maxBodyMemory: 1024 ** 3 }],
    [['--max-body-memory=512k'], { maxBodyMemory: 512 * 1024 }],
    [['--max-body-memory', '0'], { maxBodyMemory: 0 }],
    [['--max-body-memory', '1G', '--max-body-memory', '64Mi'], { maxBodyMemory: 64 * 1024 ** 2 }],
    [['-o', 'text', '-f', '-1 < response.status', '--max-entries', '50', '--color', 'never', '--max-body', '1MiB'], { output: 'text', filter: '-1 < response.status', maxEntries: 50, color: 'never', maxBody: '1MiB' }],
    [['--output=json', '--filter=http', '--max-body=2k'], { output: 'json', filter: 'http', maxBody: '2k' }],
    // Given twice, the last counts (kubectl's rule), for every single-valued flag.
    [['-o', 'json', '-o', 'text', '--max-entries', '5', '--max-entries', '7', '-f', 'a', '-f', 'http'], { output: 'text', maxEntries: 7, filter: 'http' }],
  ];
  for (const [args, want] of cases) {
    for (const name of NAMES) {
      const got = parseWith(name, args);
      for (const [key, value] of Object.entries(want)) assert.deepEqual(got[key], value, `${name} ${args.join(' ')}: ${key}`);
    }
  }
  for (const name of NAMES) {
    assert.throws(() => parseWith(name, ['-o', 'yaml']), /Invalid values/, name);
    assert.throws(() => parseWith(name, ['--max-entries', 'many']), /--max-entries: expected a whole number, got "many"/, name);
    assert.throws(() => parseWith(name, ['--max-body-memory', 'lots']), /--max-body-memory: expected a size such as 512Mi, 1G or 65536, got "lots"/, name);
    assert.throws(() => parseWith(name, ['--max-body-memory']), /Not enough arguments following: max-body-memory/, name);
    assert.throws(() => parseWith(name, ['-f']), /Not enough arguments following: f/, name);
  }
});

test('--max-body-memory is the budget of the TUI store\'s bodies: what is past it is dropped and counted, as the header shows', () => {
  const body = 'b'.repeat(4096);
  const entries = Array.from({ length: 20 }, (_, i) => buildEntry({ id: `e${i}`, content: { size: body.length, mimeType: 'text/plain', text: body } }));
  for (const [args, budget, dropped] of [[['--max-body-memory', '16KiB'], 16 * 1024, 16], [[], DEFAULT_MAX_PART_BYTES, 0]] as const) {
    for (const name of NAMES) {
      const argv = parseWith(name, args) as { maxEntries: number; maxBodyMemory: number };
      const store = new RingEntryStore(tuiStoreOptions(argv));
      for (const e of entries) store.add(e);
      store.dispose();
      const bodies = store.snapshot().bodies;
      assert.equal(bodies?.budgetBytes, budget, `${name} ${args.join(' ')}`);
      assert.ok((bodies?.heldBytes ?? Infinity) <= budget, `${name}: held within the budget`);
      assert.equal(bodies?.dropped, dropped, `${name} ${args.join(' ')}: bodies dropped`);
    }
  }
});

test('no option of any subcommand uses yargs\' number type (it turns "abc" into NaN)', () => {
  for (const name of NAMES) {
    const y = yargs([]) as unknown as Argv;
    (COMMANDS[name].builder as (y: Argv) => Argv)(y);
    const options = (y as unknown as { getOptions(): { number: string[] } }).getOptions();
    assert.deepEqual(options.number, [], name);
  }
});

test('every number flag of every subcommand names the bad value and exits 2 with a pointer to its help', async () => {
  const cases: Array<[Name, string, string, RegExp]> = [
    ['read', '--max-entries', 'abc', /--max-entries: expected a whole number, got "abc"/],
    ['read', '--max-entries', '0', /--max-entries: expected a whole number from 1, got 0/],
    ['read', '--response-timeout', 'soon', /--response-timeout: expected a number, got "soon"/],
    ['demo', '--max-entries', '1.5', /--max-entries: expected a whole number, got "1.5"/],
    ['demo', '--speed', 'fast', /--speed: expected a number, got "fast"/],
    ['demo', '--speed', '-2', /--speed: expected a number, got "-2"/],
    ['tap', '--count', 'abc', /--count: expected a whole number, got "abc"/],
    ['tap', '--count', '0', /--count: expected a whole number from 1, got 0/],
    ['tap', '--max-entries', '1e3', /--max-entries: expected a whole number, got "1e3"/],
    ['read', '--max-body-memory', 'lots', /--max-body-memory: expected a size such as 512Mi, 1G or 65536, got "lots"/],
    ['demo', '--max-body-memory', '-1Mi', /--max-body-memory: expected a size such as 512Mi, 1G or 65536, got "-1Mi"/],
    ['tap', '--max-body-memory', '2Ti', /--max-body-memory: expected a size such as 512Mi, 1G or 65536, got "2Ti"/],
    ['read', '--max-body-memory', '99999999999G', /--max-body-memory: 99999999999G is too large/],
  ];
  for (const [name, flag, value, pattern] of cases) {
    const res = await runShark([name, ...(name === 'read' ? ['x.pcap'] : []), flag, value]);
    assert.equal(res.code, 2, `${name} ${flag} ${value}: ${res.stderr}`);
    assert.match(res.stderr, pattern);
    assert.doesNotMatch(res.stderr, /NaN/);
    assert.equal(res.stderr, `${res.stderr.split('\n')[0]}\nRun 'kubectl shark ${name} --help' for usage.\n`, 'one message, then the help pointer');
    assert.ok(res.stderr.startsWith(`kubectl shark ${name}: `), res.stderr);
  }
});

test('usage errors point at the help of the subcommand they are about', async () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['read'], 'read', /no capture file named \(got 0, need at least 1\): name pcap, pcapng or NDJSON files, or - for standard input$/m],
    [['tap', '--count'], 'tap', /Not enough arguments following: count/],
    [['read', 'x.pcap', '--max-body', 'lots'], 'read', /--max-body "lots" is not a size/],
    [['read', 'x.pcap', '-f', 'status =='], 'read', /bad --filter query \(column/],
    [['read', 'x.pcap', '--no-such-flag'], 'read', /Unknown argument/],
    [['demo', '-o', 'json', '-f', 'status =='], 'demo', /bad --filter query \(column/],
    [['demo', '--max-body', 'lots', '-o', 'json'], 'demo', /--max-body "lots" is not a size/],
    [['tap', '--duration', '5'], 'tap', /--duration 5 has no unit: write 5s for seconds/],
    [['tap', '-o', 'yaml'], 'tap', /Invalid values/],
    [['tap', '--stats', '-o', 'text'], 'tap', /--stats writes JSON lines: use it with -o json/],
    [['nonsense'], '', /Unknown argument: nonsense/],
    [[], '', /Name a command: tap, read, demo/],
  ];
  for (const [args, name, pattern] of cases) {
    const res = await runShark(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, pattern);
    assert.ok(res.stderr.startsWith(`kubectl shark${name ? ` ${name}` : ''}: `), res.stderr);
    assert.ok(res.stderr.endsWith(`Run 'kubectl shark${name ? ` ${name}` : ''} --help' for usage.\n`), res.stderr);
  }
});

test('at 80 columns every example command stays whole on one line; read\'s files are not "[required] [default: []]"', async () => {
  const all: Array<[Name, readonly Example[]]> = [
    ['read', READ_EXAMPLES],
    ['demo', DEMO_EXAMPLES],
    ['tap', TAP_EXAMPLES],
  ];
  for (const [name, examples] of all) {
    const text = await help([name], 80);
    const lines = text.split('\n').map((l) => l.trim());
    assert.ok(examples.length > 0);
    for (const e of examples) {
      const command = e.command.replace(/\$0/g, 'kubectl shark');
      assert.ok(lines.includes(command), `${name}: "${command}" is one line of the help:\n${text}`);
      assert.ok(lines.includes(`# ${e.what}`), `${name}: its description "${e.what}"`);
    }
    for (const line of text.split('\n')) assert.ok(line.length <= 80, `${name}: fits 80 columns: ${line}`);
  }
  const read = await help(['read'], 80);
  const files = optionBlock(read, 'files');
  assert.doesNotMatch(files, /\[default: \[\]\]/);
  assert.match(files, /\[required\]/);
});

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;

test('in a real 80-column terminal (tmux, no $COLUMNS) the help fits and every example command is one row', { skip: skipFor(hasTmux ? null : 'tmux is not installed') }, async () => {
  const socket = `shark-cli-help-${process.pid}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  try {
    for (const [name, examples] of [['read', READ_EXAMPLES], ['demo', DEMO_EXAMPLES], ['tap', TAP_EXAMPLES]] as const) {
      const session = `help-${name}`;
      tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '100', `env -u COLUMNS ${LAUNCHER} ${name} --help; echo HELP-END; sleep 60`);
      let screen = '';
      for (let i = 0; i < 100 && !screen.includes('HELP-END'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = tmux('capture-pane', '-p', '-t', session, '-S', '0', '-E', '99');
      }
      assert.ok(screen.includes('HELP-END'), `${name}: the help was shown:\n${screen}`);
      const rows = screen.split('\n').map((l) => l.trim());
      for (const e of examples) {
        const command = e.command.replace(/\$0/g, 'kubectl shark');
        assert.ok(rows.includes(command), `${name}: "${command}" is one row of the screen:\n${screen}`);
      }
      tmux('kill-session', '-t', session);
    }
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  }
});

test('the top-level help lists every exit code of cmd/exit-codes.ts and where the docs are', async () => {
  const text = await help([], 80);
  const declared = Object.entries(exitCodes)
    .filter(([key, value]) => key.startsWith('EXIT_') && typeof value === 'number')
    .map(([, value]) => value as number)
    .sort((a, b) => a - b);
  assert.deepEqual(
    exitCodes.EXIT_CODE_MEANINGS.map(([code]) => code),
    declared,
    'EXIT_CODE_MEANINGS covers every exit code constant, in order',
  );
  const listed = text.slice(text.indexOf('Exit codes:'));
  for (const [code, meaning] of exitCodes.EXIT_CODE_MEANINGS) {
    assert.ok(listed.includes(`${String(code).padStart(2)}  ${meaning}`), `exit ${code} listed`);
  }
  const docs = text.slice(text.indexOf('Documentation:')).split('\n').slice(1);
  const readme = docs.find((l) => l.trim().endsWith('README.md'))!.trim();
  assert.ok(existsSync(readme), readme);
  const folder = docs.find((l) => l.includes('/docs/'))!.trim().split(' ')[0]!;
  for (const file of ['tap.md', 'kfl.md', 'redaction.md']) assert.ok(existsSync(join(folder, file)), file);
  // Subcommand help is about the subcommand: the list is not repeated there.
  assert.doesNotMatch(await help(['read'], 80), /Exit codes:/);
});

/** README's section of one command: from its `## \`kubectl shark NAME` heading to the next `## `. */
function readmeSection(readme: string, name: Name): string {
  const start = readme.indexOf(`## \`kubectl shark ${name}`);
  assert.ok(start >= 0, `README has a section on ${name}`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The flags a help text offers: each long name with its one-letter alias (`--no-X` for a boolean `--X` too). */
function helpFlags(text: string): Map<string, string | undefined> {
  const flags = new Map<string, string | undefined>();
  for (const m of text.matchAll(/^\s+(?:(-\w), )?(--[a-z][a-z-]*)/gm)) flags.set(m[2]!, m[1]);
  if (flags.has('--redact')) flags.set('--no-redact', undefined);
  return flags;
}

test("README's flags are the CLI's: each one it names exists in --help, and each flag in --help is documented", async () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const generic = new Set(['--help', '--version']);
  for (const name of ['read', 'tap'] as const) {
    const section = readmeSection(readme, name);
    const offered = helpFlags(await help([name], 120));
    // Flags in prose, and in the code examples' `kubectl shark` commands (up to a `#` comment; the
    // flags of other programs in a pipeline, like tcpdump's, are not ours).
    const named = new Set<string>();
    let inCode = false;
    for (const line of section.split('\n')) {
      if (line.startsWith('```')) {
        inCode = !inCode;
        continue;
      }
      let ours = line;
      if (inCode) {
        const at = line.indexOf('kubectl shark');
        ours = at < 0 ? '' : line.slice(at).split(' # ')[0]!.split(' | ')[0]!;
      }
      for (const m of ours.matchAll(/(?<![\w-])--[a-z][a-z-]*[a-z]/g)) named.add(m[0]);
      // One-letter flags: anywhere in our commands; in prose only opening a `code span`
      // (`-o json`), so that `tcpdump -i any` in a sentence is not taken for ours.
      for (const m of ours.matchAll(inCode ? /(?<![\w-])-[a-zA-Z](?![\w-])/g : /(?<=`)-[a-zA-Z](?![\w-])/g)) named.add(m[0]);
    }
    const shorts = new Set([...offered.values()].filter((s): s is string => s !== undefined));
    for (const flag of named) assert.ok(offered.has(flag) || shorts.has(flag), `README's ${name} section names ${flag}, which \`${name} --help\` does not offer`);
    for (const [flag, short] of offered) {
      if (generic.has(flag)) continue;
      const documented = named.has(flag) || named.has(flag.replace(/^--/, '--no-')) || (short !== undefined && named.has(short));
      assert.ok(documented, `\`${name} --help\` offers ${flag}, which README's ${name} section does not mention`);
    }
  }
});

test("README's exit code tables cover exactly the CLI's exit codes", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const rows = new Set([...readme.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1])));
  assert.deepEqual(
    [...rows].sort((a, b) => a - b),
    exitCodes.EXIT_CODE_MEANINGS.map(([code]) => code),
  );
});
