/**
 * `kubectl shark read`: runs capture files through the in-process capture pipeline and hands out
 * named entries in request-start order. Input is consumed chunk by chunk; `waitForSink` lets the
 * caller pause reading while its output drains, so memory stays bounded on any file size.
 */
import type { Entry } from '../model/entry.ts';
import { SharkError } from '../model/errors.ts';
import type { CapturePipeline, CapturePipelineOptions } from '../remote-agent/capture-pipeline.ts';
import { EntryRedactor } from '../remote-agent/redact/index.ts';
import { CaptureFileParser } from '../remote-agent/source/capture-file.ts';
import { fileError, recyclableCaptureFile } from '../remote-agent/source/capture-file-input.ts';
import { newCaptureStats, type CaptureStats } from '../remote-agent/stats.ts';
import { InternalErrors } from '../remote-agent/thrown-errors.ts';
import type { CompiledFilter } from '../kfl/api.ts';
import { FilterRun } from '../kfl/filter-run.ts';
import { NameTable } from './naming.ts';
import { DEFAULT_MAX_LINE_BYTES, looksLikeNdjson, NdjsonEntryReader } from './ndjson-entries.ts';
import { NdjsonQuickReject } from './ndjson-quick-reject.ts';
import { TimestampOrderer, type OrderLimits } from './timestamp-order.ts';

export interface CaptureInput {
  /** For messages: the file name, or "-" for standard input. */
  readonly label: string;
  readonly chunks: AsyncIterable<Uint8Array>;
  /**
   * Called with a chunk the reader keeps no view of (NDJSON: what a line needs is copied out), so
   * its buffer can be read into again (recyclableCaptureFile); never for a capture's chunks.
   */
  readonly recycle?: (chunk: Uint8Array) => void;
}

export interface ReadOptions extends CapturePipelineOptions {
  readonly order?: Partial<OrderLimits>;
  /**
   * Only entries matching this KFL filter are handed out (redacted as it says); applied after
   * ordering and naming, so `limit(n)` keeps the first n by request start and names can be matched.
   * Reading stops once the limit is reached.
   */
  readonly filter?: CompiledFilter;
  /** Stops reading (between chunks) once aborted, e.g. when the TUI reading the entries quits. */
  readonly signal?: AbortSignal;
  /** Awaited between input chunks when it returns a promise (output backpressure). */
  readonly waitForSink?: () => Promise<void> | undefined;
  /**
   * Redacts every entry first (before naming and the filter, as the agent redacts before its
   * filter). Entries read back from NDJSON are redacted again: redaction is idempotent, and the
   * file may come from an agent or a `read` that ran with --no-redact. Absent: entries as captured.
   */
  readonly redactor?: Pick<EntryRedactor, 'redact'>;
  /**
   * Called once when the output carries unredacted values from NDJSON input made with redaction
   * off (also a warning); never called while a `redactor` hides them.
   */
  readonly onRedactionOff?: () => void;
  /** NDJSON input: lines longer than this are skipped, counted and warned about (default 16 MiB). */
  readonly maxLineBytes?: number;
  /**
   * Called with the counters as they grow (about every 250 ms of capture time) and once at the
   * end, e.g. for the TUI to show traffic it does not dissect while the file is read.
   */
  readonly onProgress?: (stats: CaptureStats) => void;
  /**
   * NDJSON input with a filter: entries the filter certainly drops are not redacted or named
   * (NdjsonQuickReject; same output, same counts). Default true; false takes every entry through
   * the full path (the equivalence tests).
   */
  readonly ndjsonQuickReject?: boolean;
}

export interface ReadWarning {
  /** REDACTION_OFF: the output shows an input's unredacted values; UNREDACTED_INPUT: they are redacted here. */
  /** INTERNAL_ERROR: a bug met while dissecting (one per distinct site; the rest of the capture was read). */
  readonly code: 'CAPTURE_TRUNCATED' | 'REDACTION_OFF' | 'UNREDACTED_INPUT' | 'EMPTY_INPUT' | 'LINE_TOO_LONG' | 'INTERNAL_ERROR';
  readonly message: string;
}

export interface ReadResult {
  readonly stats: CaptureStats;
  /** Entries that matched the filter (all entries when there is none). */
  readonly matched: number;
  readonly warnings: readonly ReadWarning[];
}

/** Over-long NDJSON lines named one by one in warnings; the rest are only counted. */
const MAX_LINE_WARNINGS = 5;

/**
 * How often (in captured time, and at most once per input chunk) the orderer asks the dissectors
 * for their oldest pending request, which walks every open connection: often enough that entries
 * go out within a few milliseconds of capture time, and so short-lived (see CAPTURE_DISORDER_US).
 */
const WATERMARK_EVERY_US = 10_000;
/**
 * How far a capture's packets may come out of time order: a capture merged from several interfaces
 * (pcapng, `-i any`) can hold a packet stamped earlier than the one before it. Once an input has
 * shown one, an entry is released only when the capture clock is this far past its start, so a
 * request whose packet comes later in the file but earlier in time is still ordered before it,
 * wherever the input's chunks are cut.
 *
 * Until then (a capture from one interface, in time order) entries go as soon as no older request
 * is pending. Holding every entry for a second of capture time (with 1 MiB reads) cost 5-14% of
 * `read -o json`'s CPU (issue 17): the entries of that second outlived V8's young-generation
 * collections and were copied and promoted. A capture whose first out-of-order packet comes after
 * entries newer than it went out keeps that one request out of order; every later one is ordered.
 */
const CAPTURE_DISORDER_US = 1_000_000;

export async function readCaptures(
  inputs: readonly CaptureInput[],
  onEntry: (entry: Entry) => void,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const stats = newCaptureStats();
  const names = new NameTable();
  const run = options.filter ? new FilterRun(options.filter) : undefined;
  const redactor = options.redactor;
  const named = redactor ? (entry: Entry): Entry => names.nameEntry(redactor.redact(entry)) : (entry: Entry): Entry => names.nameEntry(entry);
  const release = run
    ? (entry: Entry): void => {
        const kept = run.offer(named(entry));
        if (kept !== undefined) onEntry(kept);
      }
    : (entry: Entry): void => onEntry(named(entry));
  const orderer = new TimestampOrderer(release, options.order);
  const warnings: ReadWarning[] = [];
  const internalErrors = options.internalErrors ?? new InternalErrors(stats, (report) => warnings.push({ code: 'INTERNAL_ERROR', message: report.message }));
  // Every dissector comes with the capture pipeline: it is loaded on the first capture input, so
  // reading saved NDJSON never compiles them (issue 17: start-up was a third of the CPU of
  // `read F.ndjson --filter Q` on 200 MB).
  let pipeline: CapturePipeline | undefined;
  const capturePipeline = async (): Promise<CapturePipeline> => {
    if (pipeline === undefined) {
      const { CapturePipeline } = await import('../remote-agent/capture-pipeline.ts');
      pipeline = new CapturePipeline(
        stats,
        {
          entry: (entry) => orderer.push(entry),
          names: (record) => names.add(record.ip, record.names),
        },
        { ...options, internalErrors },
      );
    }
    return pipeline;
  };
  /** A parser for the next capture file, whose time order is judged on its own frames. */
  const captureParser = async (): Promise<CaptureFileParser> => {
    const shared = await capturePipeline();
    shared.startInput();
    return new CaptureFileParser(shared, stats);
  };
  const redactionOff = (label: string): void => {
    if (redactor) {
      warnings.push({
        code: 'UNREDACTED_INPUT',
        message: `${label}: written with redaction off (--no-redact), so the file holds secrets as captured; they are redacted in this output`,
      });
      return;
    }
    warnings.push({
      code: 'REDACTION_OFF',
      message: `${label}: captured by an agent with redaction off (--no-redact): header values, cookies, query parameters and bodies are as captured`,
    });
    options.onRedactionOff?.();
  };
  // Only with the redaction it knows: another redactor could change what the scan keeps.
  const quickReject = options.filter && options.ndjsonQuickReject !== false && (redactor === undefined || redactor instanceof EntryRedactor)
    ? new NdjsonQuickReject(options.filter, { redacting: redactor !== undefined })
    : undefined;
  let nextWatermarkUs = 0;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let lineWarnings = 0;
  const oversizedLine = (label: string, lineNumber: number, bytes: number): void => {
    lineWarnings++;
    if (lineWarnings > MAX_LINE_WARNINGS) return;
    const more = lineWarnings === MAX_LINE_WARNINGS ? ' (further ones are only counted in the summary)' : '';
    warnings.push({
      code: 'LINE_TOO_LONG',
      message: `${label}: line ${lineNumber} skipped: ${bytes} bytes, longer than --max-line ${maxLineBytes}${more}`,
    });
  };

  try {
    for (const input of inputs) {
      if (run?.exhausted || options.signal?.aborted) break;
      let parser: CaptureFileParser | NdjsonEntryReader | undefined;
      let inputBytes = 0;
      try {
        for await (const chunk of input.chunks) {
          if (run?.exhausted || options.signal?.aborted) break;
          if (chunk.length === 0) continue;
          inputBytes += chunk.length;
          parser ??= looksLikeNdjson(chunk)
            ? new NdjsonEntryReader(release, stats, {
                maxLineBytes,
                onOversizedLine: (lineNumber, bytes) => oversizedLine(input.label, lineNumber, bytes),
                onRedactionOff: () => redactionOff(input.label),
                ...(quickReject ? { quickReject } : {}),
              })
            : await captureParser();
          parser.push(chunk);
          if (parser instanceof NdjsonEntryReader) input.recycle?.(chunk);
          // Without a pipeline (NDJSON) the clock stays at 0 and the orderer is empty, as an idle pipeline's would.
          const nowUs = pipeline?.nowUs ?? 0;
          if (nowUs >= nextWatermarkUs) {
            if (pipeline !== undefined) {
              const disorderUs = pipeline.framesOutOfOrder ? CAPTURE_DISORDER_US : 0;
              orderer.releaseBefore(Math.min(pipeline.oldestPendingUs(), nowUs - disorderUs));
            }
            nextWatermarkUs = nowUs + WATERMARK_EVERY_US;
            options.onProgress?.(stats);
          }
          const wait = options.waitForSink?.();
          if (wait !== undefined) await wait;
        }
      } catch (err) {
        throw withInput(err, input.label);
      }
      // Stopped early by limit() or the reader: the unread rest is not a truncation.
      if (run?.exhausted || options.signal?.aborted) break;
      if (inputBytes === 0) {
        // /dev/null, an NDJSON file saved from a run where nothing matched: nothing to read, no error.
        warnings.push({ code: 'EMPTY_INPUT', message: `${input.label}: empty input (no packets, no entries)` });
        continue;
      }
      parser ??= await captureParser();
      let end: ReturnType<CaptureFileParser['end']>;
      try {
        end = parser.end();
      } catch (err) {
        throw withInput(err, input.label);
      }
      if (end.truncated) {
        warnings.push({
          code: 'CAPTURE_TRUNCATED',
          message: `${input.label}: the input ends inside a record (${end.trailingBytes} bytes cut off); entries up to the cut were read`,
        });
      }
      // The next input's packets are not this one's late ones: what waited only for them goes now,
      // so inputs come out one after the other as before (the disorder wait is within one capture).
      if (pipeline !== undefined) orderer.releaseBefore(pipeline.oldestPendingUs());
    }
  } finally {
    // Whatever was read before an error still comes out: the rest of the capture goes on.
    pipeline?.finish();
    orderer.releaseAll();
    stats.reorderOverflow += orderer.overflow;
    options.onProgress?.(stats);
  }
  return { stats, warnings, matched: run ? run.matched : stats.entries };
}

function withInput(err: unknown, label: string): unknown {
  if (err instanceof SharkError) {
    // Errors of opening the input already name it.
    if (err.context['input'] !== undefined) return err;
    return new SharkError(err.code, `${label}: ${err.message}`, { ...err.context, input: label }, err);
  }
  return fileError(err, label);
}

/** All entries of one capture file, in request-start order (small files: the demo recording). */
export async function readEntriesOf(file: string, options: ReadOptions = {}): Promise<Entry[]> {
  const entries: Entry[] = [];
  await readCaptures([{ label: file, ...recyclableCaptureFile(file) }], (entry) => entries.push(entry), options);
  return entries;
}
