/**
 * `kubectl shark tap [POD_REGEX]`: live capture from pods. Flags, output and exit codes only; the
 * work is src/tap/tap-session.ts.
 */
import type { Argv, CommandModule } from 'yargs';
import { compileKfl, type CompiledFilter } from '../src/kfl/index.ts';
import { pushdownSafe } from '../src/kfl/pushdown.ts';
import { DEFAULT_START_TIMEOUT_MS, DEFAULT_IMAGE } from '../src/kube/ephemeral.ts';
import { formatPreflight } from '../src/kube/preflight.ts';
import { chooseProfile, PROFILES, RETIRED_PROFILES, type Profile } from '../src/kube/profile.ts';
import { scrubCredentials, type SecretScrubber } from '../src/kube/secret-scrub.ts';
import type { ApiOutage } from '../src/kube/api-health.ts';
import type { TapConfig, TapPlan, TapSession } from '../src/tap/tap-session.ts';
import { describeQuery, describeScope, parseNamespaces, type NamespaceScope } from '../src/kube/targets.ts';
import { compilePodRegex } from '../src/tap/pod-regex.ts';
import { TlsHookReports } from '../src/tap/tls-hook-notice.ts';
import type { Entry } from '../src/model/entry.ts';
import { sanitizeBlock, stringifyJson } from '../src/model/terminal-text.ts';
import type { AgentFrame } from '../src/remote-agent/wire/protocol.ts';
import { SharkError } from '../src/model/errors.ts';
import { formatPodSummary, protocolsOfPods, undissectedOfPods } from '../src/pipeline/pod-summary.ts';
import { talliesFrom } from '../src/model/protocol-tally.ts';
import { LineWriter } from '../src/pipeline/sinks/line-writer.ts';
import { formatEntryLine } from '../src/pipeline/sinks/text-line.ts';
import { checkLabelSelector } from '../src/kube/label-selector.ts';
import type { ColorChoice } from '../src/tui/terminal-control.ts';
import { MIN_AGENT_MEMORY_BYTES } from '../src/model/agent-memory.ts';
import { parseByteSize } from './byte-size.ts';
import { boundHeapGrowth } from './heap-growth.ts';
import { withExamples, type Example } from './examples.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_PODS_FAILED, exitCodeFor } from './exit-codes.ts';
import { REDACT_KEYS_OPTION, REDACT_OPTION, redactKeysOf } from './redaction-flags.ts';
import { runTuiSession } from './tui-session.ts';
import {
  COLOR_OPTION,
  FILTER_OPTION,
  MAX_BODY_OPTION,
  MAX_BODY_MEMORY_OPTION,
  MAX_ENTRIES_OPTION,
  OUTPUT_OPTION,
  PROTO_DESCRIPTOR_OPTION,
  parseMaxBody,
  stringOption,
  wholeNumberOption,
  type OutputFormat,
} from './shared-options.ts';
import { loadProtoDescriptorFile } from '../src/remote-agent/dissect/grpc/index.ts';
import { helpHint } from './usage-error.ts';

export interface TapArgs {
  podRegex: string | undefined;
  namespace: string[] | string | undefined;
  allNamespaces: boolean;
  selector: string | undefined;
  container: string | undefined;
  context: string | undefined;
  kubeconfig: string | undefined;
  filter: string | undefined;
  output: OutputFormat | undefined;
  duration: string | undefined;
  count: number | undefined;
  image: string;
  /** Checked by validateTapArgs (a retired profile gets its own message); absent: auto, or privileged with --tls. */
  profile?: string | undefined;
  /** --tls: TLS plaintext through eBPF probes in the pod (needs the privileged profile). */
  tls?: boolean | undefined;
  redact: boolean;
  /** --redact-keys: a string, or an array when repeated. */
  redactKeys?: string | string[] | undefined;
  dryRun: boolean;
  stats: boolean;
  timeout: string;
  maxBody: string | undefined;
  maxMemory: string | undefined;
  /** --proto-descriptor: a FileDescriptorSet file, checked here and uploaded with each agent. */
  protoDescriptor?: string | undefined;
  force: boolean;
  maxEntries: number;
  /** tui: bytes of bodies kept beside the entries (default: the store's). */
  maxBodyMemory?: number;
  color: ColorChoice;
}

const PREFIX = 'kubectl shark tap';
const MIB = 1024 * 1024;

/**
 * "30s", "5m", "1h30m", "250ms" in milliseconds; null when not a duration. A number without a unit
 * is not one (as in kubectl's Go durations): "5" could mean seconds or minutes, so tap asks.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length) return null;
  return Math.round(total);
}

export interface ValidatedTap {
  readonly scopeFlags: { namespaces: string[] | string | undefined; all: boolean };
  readonly durationMs: number | null;
  readonly count: number | null;
  readonly timeoutMs: number;
  /** --max-body in bytes, when given. */
  readonly maxBody: number | undefined;
  /** --max-memory in bytes (whole MiB), when given. */
  readonly maxMemoryBytes: number | undefined;
  readonly filter: CompiledFilter | undefined;
  readonly output: OutputFormat;
  /** --redact-keys, split and checked; passed to every agent. */
  readonly redactKeys: readonly string[];
  readonly profile: Profile;
  readonly tls: boolean;
  /** Said on stderr before anything is patched: why the profile is what it is (--tls). */
  readonly profileNotice: string | null;
}

function parseProfile(text: string): Profile {
  const retired = RETIRED_PROFILES[text];
  if (retired !== undefined) usage(retired);
  const profile = PROFILES.find((p) => p === text);
  if (profile === undefined) usage(`--profile ${JSON.stringify(text)} is not a profile: choose ${PROFILES.join(' or ')}`);
  return profile;
}

function usage(message: string): never {
  throw new SharkError('USAGE', message);
}

/** A --duration or --timeout in milliseconds (above 0); a number without a unit is asked about. */
function durationFlag(flag: string, text: string, examples: string): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) usage(`${flag} ${text.trim()} has no unit: write ${text.trim()}s for seconds (or m, h, ms)`);
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) usage(`${flag} ${JSON.stringify(text)} is not a duration (try ${examples})`);
  return ms;
}

/** Checks every flag before touching the cluster; throws a USAGE SharkError (exit 2). */
export function validateTapArgs(args: TapArgs, isTty: boolean): ValidatedTap {
  const durationMs = args.duration === undefined ? null : durationFlag('--duration', args.duration, '30s, 5m, 1h');
  if (args.count !== undefined && (!Number.isInteger(args.count) || args.count <= 0)) usage(`--count ${args.count} must be a whole number above 0`);
  const timeoutMs = durationFlag('--timeout', args.timeout, '60s, 2m');
  let maxBody: number | undefined;
  if (args.maxBody !== undefined) {
    const parsed = parseMaxBody(args.maxBody);
    if (!parsed.ok) usage(parsed.message);
    maxBody = parsed.bytes;
  }
  if (args.selector !== undefined) {
    const selector = checkLabelSelector(args.selector);
    if (!selector.ok) usage(`-l ${JSON.stringify(args.selector)} is not a label selector: ${selector.message}`);
  }
  let maxMemoryBytes: number | undefined;
  if (args.maxMemory !== undefined) {
    // A plain number is MiB, as the agent's own --max-memory takes it.
    const text = args.maxMemory.trim();
    const bytes = /^\d+(\.\d+)?$/.test(text) ? Number(text) * MIB : parseByteSize(text);
    if (bytes === undefined) usage(`--max-memory ${JSON.stringify(args.maxMemory)} is not a size (try 150Mi, or 150 for MiB)`);
    maxMemoryBytes = Math.floor(bytes / MIB) * MIB;
    if (maxMemoryBytes < MIN_AGENT_MEMORY_BYTES) {
      usage(`--max-memory ${args.maxMemory} is below what the capture agent needs to run (${MIN_AGENT_MEMORY_BYTES / MIB}Mi)`);
    }
  }
  compilePodRegex(args.podRegex);
  if (args.image.trim() === '') usage('--image must name an image');
  const tls = args.tls === true;
  const choice = chooseProfile(args.profile === undefined ? undefined : parseProfile(args.profile), tls);
  if (!choice.ok) usage(choice.message);
  let filter: CompiledFilter | undefined;
  if (args.filter !== undefined) {
    const compiled = compileKfl(args.filter);
    if (!compiled.ok) usage(`bad --filter query (column ${compiled.error.column}):\n${compiled.error.display}`);
    filter = compiled.filter;
  }
  const redactKeys = redactKeysOf(args.redact, args.redactKeys);
  if (!redactKeys.ok) usage(redactKeys.message);
  const output = args.output ?? (isTty ? 'tui' : 'json');
  if (args.stats && output === 'text') usage('--stats writes JSON lines: use it with -o json');
  return {
    scopeFlags: { namespaces: args.namespace, all: args.allNamespaces },
    durationMs,
    count: args.count ?? null,
    timeoutMs,
    maxBody,
    maxMemoryBytes,
    filter,
    output,
    redactKeys: redactKeys.keys,
    profile: choice.profile,
    tls,
    profileNotice: choice.notice,
  };
}

/** The loaded kubeconfig's credentials (set once it is read). */
let credentials: SecretScrubber | undefined;

/**
 * Every message tap prints or emits (errors, notices, agent warnings, the summary) passes here, so
 * no credential of the kubeconfig and no Authorization value reaches the terminal, a log or -o json,
 * and no control sequence from an agent or the API server reaches the terminal (sanitised after
 * scrubbing, so a token split by control bytes is still found).
 */
export function tapMessage(text: string): string {
  return sanitizeBlock(credentials ? credentials.scrub(text) : scrubCredentials(text));
}

export function reportTapError(err: unknown): number {
  if (err instanceof SharkError) {
    // A flag's mistake points at the flags' help, as yargs' own usage errors do (main.ts).
    process.stderr.write(`${PREFIX}: ${tapMessage(err.message)}\n${err.code === 'USAGE' ? `${helpHint('tap')}\n` : ''}`);
    return exitCodeFor(err.code);
  }
  process.stderr.write(`${PREFIX}: ${tapMessage(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
  return EXIT_FAILURE;
}

function podName(p: { metadata?: { namespace?: string; name?: string } }): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}

export function formatDryRun(plan: TapPlan, context: string, scope: NamespaceScope, args: TapArgs): string {
  const lines = [
    `context ${context}; searched ${describeScope(scope)} for ${describeQuery({ namespaces: scope, selector: args.selector, podRegex: args.podRegex })}`,
    `targets (${plan.targets.length}):`,
    ...plan.targets.flatMap((p) => {
      const ns = p.metadata?.namespace ?? '';
      const blocked = plan.decision.blocked.get(ns);
      const memory = plan.memory.get(p.metadata?.uid ?? '');
      return [`  ${podName(p)}  ${p.status?.podIP ?? ''}${blocked ? '  (blocked: see below)' : ''}`, ...(memory ? [`    ${memory.summary}`] : [])];
    }),
    `pre-flight (profile ${plan.report.profile}${plan.report.tls ? ' for --tls' : ''}, image ${args.image}):`,
    formatPreflight(plan.report),
  ];
  const refused = [...plan.memory.values()].filter((m) => m.verdict === 'refused').map((m) => ({ message: m.problem ?? m.summary }));
  const problems = [...(plan.decision.fatal ? [plan.decision.fatal] : []), ...plan.decision.blocked.values(), ...refused];
  if (problems.length > 0) {
    lines.push('problems a real run would hit:');
    for (const p of problems) lines.push(`  ${p.message.replace(/\n/g, '\n  ')}`);
  } else {
    lines.push('pre-flight passed: a real run would add one capture container per target pod (or reuse a running one of ours).');
  }
  lines.push('dry run: nothing was changed.');
  return `${lines.join('\n')}\n`;
}

export async function runTap(args: TapArgs): Promise<void> {
  try {
    const v = validateTapArgs(args, process.stdout.isTTY === true && process.stdin.isTTY === true);
    if (v.profileNotice !== null) printNotice(v.profileNotice);
    // Checked (loaded) here, before the cluster is touched: the agents get a set that loads.
    const protoDescriptor = args.protoDescriptor === undefined ? undefined : (await loadProtoDescriptorFile(args.protoDescriptor)).bytes;
    // client-node takes most of a second to load: only `tap` pays for it, once its flags are good.
    const [{ loadKubeConfig }, { KubeClient }, { TapSession }] = await Promise.all([
      import('../src/kube/kubeconfig.ts'),
      import('../src/kube/client.ts'),
      import('../src/tap/tap-session.ts'),
    ]);
    const loaded = loadKubeConfig({ kubeconfig: args.kubeconfig, context: args.context });
    credentials = loaded.secrets;
    const context = loaded.context;
    const scope: NamespaceScope = args.allNamespaces ? 'all' : parseNamespaces(args.namespace, loaded.namespace);
    const client = new KubeClient(loaded);
    const config: TapConfig = {
      scope,
      selector: args.selector,
      podRegex: args.podRegex,
      container: args.container,
      image: args.image,
      profile: v.profile,
      timeoutMs: v.timeoutMs,
      // The CLI always filters (after naming); json and text output also push a query that does not
      // depend on names into the agents, to spare the exec channel. The TUI's filter can change: not pushed.
      agent: {
        filter: v.output !== 'tui' && args.filter !== undefined && pushdownSafe(args.filter) ? args.filter : undefined,
        redact: args.redact,
        redactKeys: v.redactKeys,
        maxBody: v.maxBody,
        protoDescriptor,
        tls: v.tls,
      },
      memory: { explicitBytes: v.maxMemoryBytes, force: args.force },
    };
    const events = new TapOutput();
    const session = new TapSession(client, config, events.handlers);
    const plan = await session.plan();
    if (args.dryRun) {
      process.stdout.write(tapMessage(formatDryRun(plan, context, scope, args)));
      process.exit(EXIT_OK);
    }
    if (v.output === 'tui') await runTui(session, plan, v, args, events, context, scope);
    else await runLines(session, plan, v, args, events);
  } catch (err) {
    process.exit(reportTapError(err));
  }
}

/** Notices carry pod names and what agents and the API server said: credential-free and display-safe on stderr. */
function printNotice(message: string): void {
  process.stderr.write(`${PREFIX}: ${tapMessage(message)}\n`);
}

/** Where the session's events go: set per output mode. */
class TapOutput {
  /** `json`: stringifyJson(e), when the merger made it cheaply from the agent's text. */
  onEntry: (e: Entry, json?: string) => void = () => undefined;
  onStats: ((line: string) => void) | undefined;
  onNotice: (m: string) => void = printNotice;
  onPods: ((n: number) => void) | undefined;
  onDrops: ((n: number) => void) | undefined;
  onRedactionOff: (() => void) | undefined;
  /** After an agent's stats frame has been counted (session.stats() includes it). */
  onAgentStats: (() => void) | undefined;
  onApiUnreachable: ((outage: ApiOutage, message: string) => void) | undefined;
  onApiWaiting: ((outage: ApiOutage, retryInMs: number) => void) | undefined;
  onApiResumed: ((outage: ApiOutage, downMs: number, message: string) => void) | undefined;
  /** A warning about one pod (the notice is given too): -o json writes it as a warning frame. */
  onWarning: ((line: string) => void) | undefined;
  /** The agents' TLS hook reports, each printed once. */
  readonly #hookReports = new TlsHookReports();
  readonly handlers = {
    entry: (e: Entry, json?: string) => this.onEntry(e, json),
    frame: (source: { namespace: string; pod: string }, frame: AgentFrame) => {
      if (TlsHookReports.isReport(frame)) {
        const hook = this.#hookReports.line(source, frame);
        if (hook !== null) this.onNotice(tapMessage(hook));
        return;
      }
      if (frame.type === 'warning' && frame.code !== 'REDACTION_OFF') {
        this.onNotice(tapMessage(`pod ${source.namespace}/${source.pod}: agent warning ${frame.code}: ${frame.message}`));
        return;
      }
      if (frame.type === 'stats') this.onAgentStats?.();
      if (frame.type !== 'stats' || !this.onStats) return;
      const { type, protocols, ...counters } = frame;
      // The per-protocol tallies as the summary counts them: names that are not names left out.
      const tallies = talliesFrom(protocols);
      this.onStats(stringifyJson({ type, namespace: source.namespace, pod: source.pod, ...counters, ...(tallies === undefined ? {} : { protocols: tallies }) }));
    },
    notice: (m: string) => this.onNotice(tapMessage(m)),
    warning: (source: { namespace: string; pod: string }, code: string, message: string) =>
      this.onWarning?.(stringifyJson({ type: 'warning', namespace: source.namespace, pod: source.pod, code, message: tapMessage(message) })),
    podsChanged: (n: number) => this.onPods?.(n),
    drops: (n: number) => this.onDrops?.(n),
    redactionOff: () => this.onRedactionOff?.(),
    apiUnreachable: (outage: ApiOutage, message: string) => this.onApiUnreachable?.(outage, tapMessage(message)),
    apiWaiting: (outage: ApiOutage, retryInMs: number) => this.onApiWaiting?.(outage, retryInMs),
    apiResumed: (outage: ApiOutage, downMs: number, message: string) => this.onApiResumed?.(outage, downMs, tapMessage(message)),
  };
}

/** After the summary: pods whose capture failed and never came back make the exit code EXIT_PODS_FAILED. */
function exitAfterTap(session: TapSession, code: number): number {
  const failed = session.failedPods();
  if (code !== EXIT_OK || failed.length === 0) return code;
  const names = failed.map((p) => p.key).join(', ');
  process.stderr.write(`${PREFIX}: the tap ended with ${failed.length} pod${failed.length === 1 ? '' : 's'} whose capture failed: ${names} (see NOTE above)\n`);
  return EXIT_PODS_FAILED;
}

/** Resolves on the first of: Ctrl-C/SIGTERM, --duration, --count reached (via `stop`), or the abort signal. */
function stopTrigger(durationMs: number | null, signal?: AbortSignal): { promise: Promise<string>; stop: (why: string) => void } {
  let stop!: (why: string) => void;
  const promise = new Promise<string>((resolve) => {
    let done = false;
    const finish = (why: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    stop = finish;
    const onInt = (): void => finish('interrupted');
    const onTerm = (): void => finish('terminated');
    const onAbort = (): void => finish('quit');
    const timer = durationMs === null ? undefined : setTimeout(() => finish('duration'), durationMs);
    if (signal === undefined) {
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    } else {
      signal.addEventListener('abort', onAbort);
    }
  });
  return { promise, stop };
}

/** -o json (NDJSON: entries, and warning/notice/stats frames) or -o text (one line per entry, as `read -o text`). */
async function runLines(session: TapSession, plan: TapPlan, v: ValidatedTap, args: TapArgs, out: TapOutput): Promise<void> {
  // Entries stream through and are let go: a heap within twice what is live (heap-growth.ts).
  boundHeapGrowth();
  const writer = new LineWriter(process.stdout);
  // Both are terminal-safe: writeJson escapes what JSON leaves raw for terminals, the text line is sanitised.
  const json = v.output === 'json';
  const trigger = stopTrigger(v.durationMs);
  let written = 0;
  const filter = v.filter;
  // --count and the query's limit() both end the tap; the smaller wins.
  const limits = [v.count, filter?.limit ?? null].filter((n): n is number => n !== null);
  const limit = limits.length > 0 ? Math.min(...limits) : null;
  let warnedDrops = 0;
  let lastDropWarningMs = 0;
  out.onEntry = (e, entryJson) => {
    if (limit !== null && written >= limit) return;
    if (filter && !filter.test(e)) return;
    if (!writeTapEntry(writer, json, filter ? filter.redact(e) : e, e, entryJson)) {
      const now = Date.now();
      if (now - lastDropWarningMs >= 5000) {
        out.onNotice(`standard output is not keeping up: ${writer.dropped - warnedDrops} entries dropped (${writer.dropped} in all)`);
        warnedDrops = writer.dropped;
        lastDropWarningMs = now;
      }
      return;
    }
    written++;
    if (limit !== null && written >= limit) trigger.stop('count');
  };
  if (args.stats) out.onStats = (line) => writer.writeOrDrop(line, OUTPUT_BUDGET_CHARS);
  // In the JSON stream as frames too, so a reader knows which stretch of time has no entries and
  // why; -o text has entry lines only (the notices on stderr say the same).
  const since = (o: ApiOutage): string => new Date(o.sinceMs).toISOString();
  if (json) {
    out.onApiUnreachable = (o, message) => writer.writeOrDrop(stringifyJson({ type: 'warning', code: 'API_UNREACHABLE', message, since: since(o) }), OUTPUT_BUDGET_CHARS);
    out.onApiResumed = (o, downMs, message) =>
      writer.writeOrDrop(stringifyJson({ type: 'notice', code: 'API_RESUMED', message, since: since(o), downMs }), OUTPUT_BUDGET_CHARS);
    out.onWarning = (line) => writer.writeOrDrop(line, OUTPUT_BUDGET_CHARS);
  }
  out.onRedactionOff = () => out.onNotice('warning: redaction is off (--no-redact): secrets in headers, cookies and bodies appear as captured');
  // A second Ctrl-C while stopping gives up at once.
  void trigger.promise.then(() => process.once('SIGINT', () => process.exit(130)));
  try {
    await Promise.race([session.start(plan), trigger.promise]);
  } catch (err) {
    await writer.end();
    process.exit(reportTapError(err));
  }
  await trigger.promise;
  await session.stop();
  await writer.end();
  process.stderr.write(tapMessage(formatPodSummary(session.stats(), { entries: written, duplicates: session.merger.duplicates, elapsedMs: session.elapsedMs, filtered: args.filter !== undefined })));
  if (writer.dropped > 0) process.stderr.write(`${PREFIX}: ${writer.dropped} entries dropped because standard output did not keep up\n`);
  process.exit(exitAfterTap(session, EXIT_OK));
}

/** Output waiting for a slow reader of -o json, at most (characters, about bytes). */
export const OUTPUT_BUDGET_CHARS = 32 * 1024 * 1024;

/**
 * One entry of -o json or -o text, as `shown` (the entry `e`, or the filter's redacted copy of it);
 * false when it was dropped because the reader is too far behind (counted by the writer): the pods
 * cannot be paused, so a slow reader costs entries, not memory. json: the merger's JSON of `e`
 * (entry-splice.ts) when nothing was redacted, else the entry serialised straight into the output
 * chunk (LineWriter.writeJson, one pass, as `read -o json`); both are stringifyJson's bytes.
 */
export function writeTapEntry(writer: LineWriter, json: boolean, shown: Entry, e: Entry, entryJson: string | undefined): boolean {
  if (!json) return writer.writeOrDrop(formatEntryLine(shown), OUTPUT_BUDGET_CHARS);
  if (shown === e && entryJson !== undefined) return writer.writeOrDrop(entryJson, OUTPUT_BUDGET_CHARS);
  return writer.writeJsonOrDrop(shown, OUTPUT_BUDGET_CHARS);
}

/** Notices held while the TUI owns the screen (printed after it); older ones are let go. */
const MAX_HELD_NOTICES = 200;

async function runTui(session: TapSession, plan: TapPlan, v: ValidatedTap, args: TapArgs, out: TapOutput, context: string, scope: NamespaceScope): Promise<void> {
  // The store keeps --max-entries and lets the oldest go: a heap within twice what is live (heap-growth.ts).
  boundHeapGrowth();
  const notices: string[] = [];
  let entries = 0;
  const what = [args.podRegex, args.selector ? `-l ${args.selector}` : undefined].filter(Boolean).join(' ');
  const code = await runTuiSession({
    source: `tap ${what || '(every pod)'}`,
    targets: plan.targets.length,
    color: args.color,
    maxEntries: args.maxEntries,
    ...(args.maxBodyMemory !== undefined ? { maxBodyMemory: args.maxBodyMemory } : {}),
    filter: v.filter,
    report: reportTapError,
    feed: async (store, signal) => {
      // The screen belongs to the TUI: the latest notice shows in its header, and all of them are
      // printed once the screen is given back.
      out.onNotice = (m) => {
        // Bounded: a long tap over churning pods must not grow memory with old notices.
        if (notices.length >= MAX_HELD_NOTICES) notices.shift();
        notices.push(m);
        store.setNotice(m);
      };
      const setScope = (pods: number): void => store.setScope({ context, namespaces: scope === 'all' ? [] : [...scope], pods });
      setScope(plan.targets.length);
      out.onPods = setScope;
      out.onDrops = (n) => store.addDrops(n);
      out.onRedactionOff = () => store.markRedactionOff();
      out.onAgentStats = () => {
        const stats = session.stats();
        store.setUndissected(undissectedOfPods(stats));
        store.setProtocols(protocolsOfPods(stats));
      };
      const showOutage = (o: ApiOutage, retryInMs: number): void => store.setApiOutage({ sinceMs: o.sinceMs, retryInMs });
      out.onApiUnreachable = (o) => showOutage(o, 0);
      out.onApiWaiting = showOutage;
      out.onApiResumed = () => store.setApiOutage(null);
      const trigger = stopTrigger(v.durationMs, signal);
      out.onEntry = (e) => {
        if (v.count !== null && entries >= v.count) return;
        store.add(e);
        entries++;
        if (v.count !== null && entries >= v.count) trigger.stop('count');
      };
      await Promise.race([session.start(plan), trigger.promise]);
      await trigger.promise;
      await session.stop();
    },
  });
  await session.stop();
  for (const m of notices) printNotice(m);
  process.stderr.write(tapMessage(formatPodSummary(session.stats(), { entries, duplicates: session.merger.duplicates, elapsedMs: session.elapsedMs, filtered: args.filter !== undefined })));
  process.exit(exitAfterTap(session, code));
}

export const TAP_EXAMPLES: readonly Example[] = [
  { command: '$0 tap front-end -n shop', what: 'the TUI on the front-end pods of namespace shop' },
  { command: '$0 tap -A -l app=catalogue -o json --count 100', what: '100 entries as NDJSON' },
  { command: "$0 tap -n shop -o text -f 'response.status >= 500'", what: 'server errors, one line each' },
  { command: '$0 tap api --dry-run', what: 'what would be tapped, and whether RBAC and PodSecurity allow it' },
];

export const tapCommand: CommandModule<object, TapArgs> = {
  command: 'tap [pod-regex]',
  describe: 'Capture live traffic of pods (adds an ephemeral capture container per pod)',
  builder: (y: Argv) =>
    withExamples(
      y
        .positional('pod-regex', { type: 'string', describe: 'RE2 regular expression on pod names (unanchored; default: every pod)' })
        .option('namespace', { alias: 'n', type: 'string', requiresArg: true, describe: "namespaces to search (repeat or comma list; default: the context's)" })
        .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'search every namespace' })
        .option('selector', stringOption("label selector, as kubectl's -l: app=web,tier!=db, 'env in (prod,qa)'", { alias: 'l' }))
        .option('container', stringOption('app container to target (default: the first)', { alias: 'c' }))
        .option('context', stringOption('kubeconfig context (default: current-context)'))
        .option('kubeconfig', stringOption('kubeconfig file (default: KUBECONFIG, else ~/.kube/config)'))
        .option('output', OUTPUT_OPTION)
        .option('filter', FILTER_OPTION)
        .option('max-entries', MAX_ENTRIES_OPTION)
        .option('max-body-memory', MAX_BODY_MEMORY_OPTION)
        .option('color', COLOR_OPTION)
        .option('max-body', MAX_BODY_OPTION)
        .option('duration', stringOption('stop after this long (30s, 5m, 1h30m)'))
        .option('count', wholeNumberOption('--count', 'stop after this many entries', { min: 1 }))
        .option('image', stringOption('capture container image: any image with Node.js 22+, sh and tar', { default: DEFAULT_IMAGE }))
        .option(
          'profile',
          stringOption('capture container privileges: auto (root with NET_RAW only, no escalation; the default) or privileged (the default with --tls; netadmin is retired)'),
        )
        .option('redact', REDACT_OPTION)
        .option('redact-keys', REDACT_KEYS_OPTION)
        .option('proto-descriptor', PROTO_DESCRIPTOR_OPTION)
        .option('tls', {
          type: 'boolean',
          default: false,
          describe: 'also show TLS traffic as plaintext (OpenSSL, Go crypto/tls) through eBPF probes in the pod; needs --profile privileged, picked for it',
        })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print targets and pre-flight checks; change nothing' })
        .option('stats', { type: 'boolean', default: false, describe: 'json: also a {"type":"stats",...} line per pod each second' })
        .option('timeout', stringOption('how long a capture container may take to start', { default: `${DEFAULT_START_TIMEOUT_MS / 1000}s` }))
        .option(
          'max-memory',
          stringOption("the agent's memory bound in each pod, e.g. 150Mi (default: sized from the pod's memory limit and usage; 200Mi without a limit)"),
        )
        .option('force', { type: 'boolean', default: false, describe: 'tap pods with too little free memory for the agent (it runs at 96Mi or --max-memory)' }),
      TAP_EXAMPLES,
    ) as unknown as Argv<TapArgs>,
  handler: runTap,
};
