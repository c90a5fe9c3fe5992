/**
 * The options `read`, `demo` and `tap` share, defined once so their names, defaults, parsing and
 * help text cannot drift apart (issue 11 item 9), and the parsing rules every number flag follows.
 *
 * `-f/--filter`: a query may start with "-" (`-1 < response.status`), which yargs would otherwise
 * take for a flag and reject: `nargs: 1` with the parser setting `nargs-eats-options` makes the next
 * argument the query whatever it starts with, as kubectl's own string flags do. `--filter=QUERY`
 * works as well.
 */
import type { Options } from 'yargs';
import { formatBytes } from '../src/model/byte-units.ts';
import { DEFAULT_MAX_ENTRIES } from '../src/pipeline/entry-store.ts';
import { DEFAULT_MAX_PART_BYTES } from '../src/pipeline/part-store.ts';
import { DEFAULT_DISSECT_OPTIONS } from '../src/remote-agent/dissect/dissector.ts';
import { parseByteSize } from './byte-size.ts';

/**
 * Parser settings main.ts applies to every command. `parse-numbers: false` keeps values as typed,
 * so a number flag can say what was wrong with "abc" (yargs' `number` type would make it NaN).
 */
export const PARSER_CONFIGURATION = { 'nargs-eats-options': true, 'parse-numbers': false } as const;

/** The body bytes kept per message unless --max-body says otherwise: the dissectors' own default. */
export const DEFAULT_MAX_BODY = formatBytes(DEFAULT_DISSECT_OPTIONS.maxBodyBytes);

/**
 * `--proto-descriptor FILE` of `read` and `tap`: a FileDescriptorSet, so gRPC messages show as
 * their protobuf types' JSON (loaded by src/remote-agent/dissect/grpc, in the agent for `tap`).
 */
export const PROTO_DESCRIPTOR_OPTION: Options = stringOption(
  'gRPC: decode messages with this FileDescriptorSet (protoc --include_imports -o FILE, buf build -o FILE); without it they show as protobuf wire fields',
);

export const OUTPUT_CHOICES = ['tui', 'json', 'text'] as const;
export type OutputFormat = (typeof OUTPUT_CHOICES)[number];

export const COLOR_CHOICES = ['auto', 'always', 'never'] as const;

/** A flag given twice counts once, the last time, as in kubectl (yargs would make an array of it). */
function lastGiven(value: unknown): unknown {
  return Array.isArray(value) ? value.at(-1) : value;
}

/** Checks a number flag's value; a flag without one is left to yargs ("Not enough arguments following"). */
function checkedNumber(parse: (value: unknown) => number): (value: unknown) => number | undefined {
  return (value) => {
    const last = lastGiven(value);
    return last === undefined ? undefined : parse(last);
  };
}

/** A single-valued string flag: the last one given counts. */
export function stringOption(describe: string, extra: { alias?: string; default?: string } = {}): Options {
  return { type: 'string', requiresArg: true, coerce: lastGiven, describe, ...extra };
}

/**
 * A whole number flag. The value is checked as typed ("abc", "1.5", "" are refused with what was
 * given), at least `min`; a coerce error reaches main.ts's usage handler (exit 2).
 */
export function wholeNumberOption(flag: string, describe: string, options: { min: number; default?: number }): Options {
  return {
    requiresArg: true,
    describe: `${describe} (a whole number${options.min > 0 ? ` from ${options.min}` : ''})`,
    ...(options.default !== undefined ? { default: options.default } : {}),
    coerce: checkedNumber((value) => parseWholeNumber(flag, value, options.min)),
  };
}

/** A number flag that may have a fraction (seconds, a speed), at least `min`. */
export function decimalOption(flag: string, describe: string, options: { min: number; default: number }): Options {
  return {
    requiresArg: true,
    describe,
    default: options.default,
    coerce: checkedNumber((value) => parseDecimal(flag, value, options.min)),
  };
}

export function parseWholeNumber(flag: string, value: unknown, min: number): number {
  const text = String(value);
  if (!/^\d+$/.test(text)) throw new Error(`${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${flag}: ${text} is too large`);
  if (n < min) throw new Error(`${flag}: expected a whole number from ${min}, got ${text}`);
  return n;
}

export function parseDecimal(flag: string, value: unknown, min: number): number {
  const text = String(value);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`${flag}: expected a number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min) throw new Error(`${flag}: expected a number from ${min}, got ${text}`);
  return n;
}

export const FILTER_OPTION: Options = {
  alias: 'f',
  type: 'string',
  nargs: 1,
  coerce: lastGiven,
  describe: 'KFL query: only matching entries (see docs/kfl.md)',
};

export const OUTPUT_OPTION: Options = {
  alias: 'o',
  choices: OUTPUT_CHOICES,
  coerce: lastGiven,
  describe: 'tui: the interactive viewer (default on a terminal); json: NDJSON (default when piped); text: one line per entry',
};

export const COLOR_OPTION: Options = {
  choices: COLOR_CHOICES,
  default: 'auto',
  coerce: lastGiven,
  describe: 'tui colours (NO_COLOR is honoured)',
};

export const MAX_ENTRIES_OPTION: Options = wholeNumberOption('--max-entries', 'tui: entries kept in memory, a ring whose oldest are evicted and counted', {
  min: 1,
  default: DEFAULT_MAX_ENTRIES,
});

/**
 * A size flag (`512Mi`, `1G`, `65536`, as --max-body and --max-memory take them). The value is
 * checked as typed; a coerce error reaches main.ts's usage handler (exit 2). The default is shown
 * as a size and given as one, so help and parsing cannot disagree.
 */
export function byteSizeOption(flag: string, describe: string, options: { default: number }): Options {
  return {
    requiresArg: true,
    describe: `${describe} (a size such as 512Mi or 1G)`,
    default: options.default,
    defaultDescription: formatBytes(options.default),
    coerce: checkedNumber((value) => parseSizeFlag(flag, value)),
  };
}

export function parseSizeFlag(flag: string, value: unknown): number {
  const text = String(value);
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error(`${flag}: expected a size such as 512Mi, 1G or 65536, got ${JSON.stringify(text)}`);
  if (!Number.isSafeInteger(bytes)) throw new Error(`${flag}: ${text} is too large`);
  return bytes;
}

export const MAX_BODY_MEMORY_OPTION: Options = byteSizeOption(
  '--max-body-memory',
  'tui: memory for the bodies of the entries kept; the oldest past it are dropped and counted (0 keeps none)',
  { default: DEFAULT_MAX_PART_BYTES },
);

export const MAX_BODY_OPTION: Options = stringOption('body bytes kept per message (sizes count the whole body)', { default: DEFAULT_MAX_BODY });

/** Seconds of capture time a request waits for its response: the dissectors' own default. */
export const DEFAULT_RESPONSE_TIMEOUT_S = DEFAULT_DISSECT_OPTIONS.responseTimeoutUs / 1_000_000;

/** --max-body in bytes, or what to say about it: the same check and words for every command. */
export function parseMaxBody(text: string): { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly message: string } {
  const bytes = parseByteSize(text);
  return bytes === undefined ? { ok: false, message: `--max-body ${JSON.stringify(text)} is not a size (try 64KiB or 1048576)` } : { ok: true, bytes };
}
