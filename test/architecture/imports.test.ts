/**
 * Who may import whom (shared STYLE.md, "Who may import whom"; each folder's README says the same
 * for its folder): data flows one way, so the agent ships alone, the filter stays pure and
 * Kubernetes plumbing hands back bytes. Every import and export specifier of every source file
 * under src/ and cmd/ (tests beside the code excepted: they may reach across to check a contract)
 * is checked against an allow-list per folder, read with the TypeScript parser (so `import type`
 * is told apart and dynamic `import()` is seen). Every violation is reported with the rule it breaks.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importEdges, type ImportEdge } from '../helpers/import-graph.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

/**
 * The protocol descriptor registry (src/remote-agent/dissect/descriptors.ts, issue 12) is what
 * KFL, the TUI and the pipeline read instead of naming protocols; each protocol folder's
 * descriptor.ts and entry.ts import only src/model (and descriptor.ts its own entry.ts).
 */
const DESCRIPTOR_REGISTRY = 'src/remote-agent/dissect/descriptors.ts';
const PROTOCOL_CONTRACT_FILE = /^src\/remote-agent\/dissect\/([^/]+)\/(descriptor|entry)\.ts$/;
/** The Entry union in src/model/entry.ts names each protocol's entry.ts, types only. */
const PROTOCOL_ENTRY_FILE = /^src\/remote-agent\/dissect\/[^/]+\/entry\.ts$/;

/**
 * The agent's stages, in data-flow order: a stage may import earlier stages (dissect implements
 * tcp's Stream) and never a later one, nor a sibling of the same rank (tcp and udp). live/ is the
 * AF_PACKET source: frames of source's Frame type. tls/ (plaintext from the TLS probes) has dissect's
 * rank: it uses live/'s libc binding and feeds tcp's stream contract. stats.ts and thrown-errors.ts (counters, bad
 * input versus bugs) are shared by every stage; capture-pipeline.ts and agent/ wire the stages.
 */
const STAGES: ReadonlyArray<readonly [string, number]> = [
  ['source', 1],
  ['live', 2],
  ['link', 3],
  ['ip', 4],
  ['tcp', 5],
  ['udp', 5],
  ['dissect', 6],
  // TLS plaintext from the probes (issue 15): feeds tcp's StreamFactory contract, as reassembly does,
  // and never imports a dissector (the sibling rank keeps it from dissect and dissect from it).
  ['tls', 6],
  ['redact', 7],
  ['wire', 8],
];
const AGENT_COMMON = ['src/remote-agent/stats.ts', 'src/remote-agent/thrown-errors.ts'];
const AGENT_WIRING = ['src/remote-agent/capture-pipeline.ts', 'src/remote-agent/agent/'];

/** What `read` runs in-process: the capture pipeline, its file source, redactor and counters. */
const READ_ENTRY_POINTS = [
  'src/remote-agent/wire/',
  'src/remote-agent/capture-pipeline.ts',
  'src/remote-agent/source/capture-file.ts',
  'src/remote-agent/source/capture-file-input.ts',
  'src/remote-agent/redact/index.ts',
  ...AGENT_COMMON,
];

function under(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
}

function stageOf(path: string): { readonly name: string; readonly rank: number } | null {
  const m = /^src\/remote-agent\/([^/]+)\//.exec(path);
  if (!m) return null;
  const found = STAGES.find(([name]) => name === m[1]);
  return found ? { name: found[0], rank: found[1] } : null;
}

/** The rule `edge` breaks, or null when it keeps them all. */
export function brokenRule(edge: ImportEdge): string | null {
  const { from, to } = edge;
  if (!to.startsWith('src/') && !to.startsWith('cmd/') && !to.startsWith('test/')) return null; // bin/, package.json...
  if (to.startsWith('test/')) return 'nothing in src/ or cmd/ imports test/ (test helpers live in test/helpers, only tests import them)';
  if (from.startsWith('cmd/')) return null;
  if (to.startsWith('cmd/')) return 'nothing in src/ imports cmd/';
  const inFolder = (f: string) => to.startsWith(`src/${f}/`);
  const own = (f: string) => from.startsWith(`src/${f}/`) && inFolder(f);

  if (from.startsWith('src/model/')) {
    if (own('model')) return null;
    if (edge.typeOnly && PROTOCOL_ENTRY_FILE.test(to)) return null;
    return "model imports nothing in src/ (but the types of each protocol folder's entry.ts, for the Entry union)";
  }
  if (from.startsWith('src/kfl/')) {
    if (own('kfl') || inFolder('model') || to === DESCRIPTOR_REGISTRY) return null;
    return 'kfl imports only model (and the protocol descriptor registry): pure, reused in the agent and the TUI';
  }
  if (from.startsWith('src/kube/')) {
    if (own('kube') || inFolder('model')) return null;
    return 'kube imports only model (and its npm packages): it hands back bytes and Kubernetes objects, src/tap composes';
  }
  if (from.startsWith('src/pipeline/')) {
    if (own('pipeline') || inFolder('model') || inFolder('kfl') || to === DESCRIPTOR_REGISTRY || under(to, READ_ENTRY_POINTS)) return null;
    return `pipeline imports model, kfl, the descriptor registry and remote-agent's wire and read entry points (${READ_ENTRY_POINTS.join(', ')}); never kube, tap or tui`;
  }
  if (from.startsWith('src/tui/')) {
    if (own('tui') || inFolder('model') || inFolder('kfl') || inFolder('pipeline') || to === DESCRIPTOR_REGISTRY) return null;
    return 'tui imports model, kfl, pipeline and the descriptor registry; never kube, tap or remote-agent';
  }
  if (from.startsWith('src/tap/')) {
    if (own('tap') || ['kube', 'pipeline', 'model', 'kfl'].some(inFolder) || to.startsWith('src/remote-agent/wire/')) return null;
    return 'tap imports kube, pipeline, model, kfl and remote-agent/wire; never tui or the agent stages';
  }
  if (from.startsWith('src/remote-agent/')) return brokenAgentRule(edge);
  return `${from} is in no folder the import rules know: add its rule to test/architecture/imports.test.ts and a README`;
}

function brokenAgentRule({ from, to }: ImportEdge): string | null {
  const contract = PROTOCOL_CONTRACT_FILE.exec(from);
  if (contract) {
    if (to.startsWith('src/model/')) return null;
    // Its own folder's presentation helpers are allowed; that they too load only src/model is
    // checked on the whole import closure below ("the descriptor registry ... load only ...").
    if (contract[2] === 'descriptor' && to.startsWith(`src/remote-agent/dissect/${contract[1]}/`)) return null;
    // An entry shape may embed another protocol's (an HTTP/2 entry carries its gRPC call): entry files load only model.
    if (contract[2] === 'entry' && PROTOCOL_ENTRY_FILE.test(to)) return null;
    return "a protocol's descriptor.ts and entry.ts import only model (descriptor.ts also files of its own folder that do the same; entry.ts also other protocols' entry.ts): KFL, the TUI and the pipeline import them";
  }
  const outside = 'the agent ships alone: remote-agent imports only model, itself and (agent/ only) kfl for filter push-down';
  if (to.startsWith('src/model/')) return null;
  if (to.startsWith('src/kfl/')) return from.startsWith('src/remote-agent/agent/') ? null : outside;
  if (!to.startsWith('src/remote-agent/')) return outside;
  if (under(from, AGENT_WIRING)) return null;
  if (under(to, AGENT_COMMON)) return null;
  const source = stageOf(from);
  const target = stageOf(to);
  if (source === null) {
    // stats.ts and thrown-errors.ts: shared by every stage, they import no stage.
    return under(from, AGENT_COMMON) ? 'stats.ts and thrown-errors.ts are shared by every stage and import none' : `${from}: a remote-agent file outside any stage`;
  }
  if (under(to, AGENT_WIRING)) return `stage ${source.name} imports the wiring (capture-pipeline.ts, agent/): only the wiring knows every stage`;
  if (target === null) return `stage ${source.name} imports ${to}, which is in no stage`;
  if (target.name === source.name) return null;
  if (target.rank < source.rank) return null;
  return `stage order source -> live -> link -> ip -> tcp|udp -> dissect|tls -> redact -> wire: ${source.name} may not import ${target.rank === source.rank ? 'its sibling' : 'the later stage'} ${target.name}`;
}

const PROTOCOL_FOLDER = /^(src\/remote-agent\/dissect\/[a-z0-9-]+)\//;

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

test('imports follow the one-way data flow: every violation, with the rule it breaks', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const top of ['src', 'cmd']) {
    for (const file of sourceFiles(join(REPO_ROOT, top))) {
      checked++;
      for (const edge of importEdges(file, readFileSync(file, 'utf8'))) {
        const rule = brokenRule(edge);
        if (rule !== null) violations.push(`${edge.from}:${edge.line} imports ${edge.to}: ${rule}`);
      }
    }
  }
  assert.ok(checked > 100, `checked ${checked} files`);
  assert.equal(violations.length, 0, `${violations.length} import rule violations:\n${violations.join('\n')}`);
});

test('the rules refuse each kind of deliberate violation and allow what the table allows', () => {
  const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly, line: 1 });
  const refused: ReadonlyArray<readonly [string, string, boolean?]> = [
    ['src/model/entry.ts', 'src/kfl/ast.ts'],
    ['src/model/entry.ts', 'src/remote-agent/dissect/http1/entry.ts'], // a value import
    ['src/kfl/fields.ts', 'src/pipeline/entry-store.ts'],
    ['src/kfl/fields.ts', 'src/remote-agent/dissect/http1/parser.ts'],
    ['src/kube/agent-runner.ts', 'src/remote-agent/wire/protocol.ts'],
    ['src/kube/cluster-watch.ts', 'src/pipeline/cluster-names.ts'],
    ['src/kube/targets.ts', 'src/kfl/regex.ts'],
    ['src/pipeline/tap-merge.ts', 'src/kube/client.ts'],
    ['src/pipeline/tap-merge.ts', 'src/tap/pod-tap.ts'],
    ['src/pipeline/naming.ts', 'src/remote-agent/dissect/http1/parser.ts'],
    ['src/tui/app.tsx', 'src/remote-agent/wire/protocol.ts'],
    ['src/tui/app.tsx', 'src/tap/tap-session.ts'],
    ['src/tap/pod-tap.ts', 'src/tui/app.tsx'],
    ['src/tap/pod-tap.ts', 'src/remote-agent/capture-pipeline.ts'],
    ['src/remote-agent/tcp/assembler.ts', 'src/remote-agent/dissect/registry.ts'],
    ['src/remote-agent/source/pcapng.ts', 'src/remote-agent/ip/ip-decoder.ts'],
    ['src/remote-agent/tcp/assembler.ts', 'src/remote-agent/udp/flow-table.ts'],
    ['src/remote-agent/dissect/registry.ts', 'src/remote-agent/capture-pipeline.ts'],
    ['src/remote-agent/dissect/registry.ts', 'src/kfl/compile.ts'],
    ['src/remote-agent/wire/protocol.ts', 'src/pipeline/tap-merge.ts'],
    ['src/remote-agent/dissect/dns/descriptor.ts', 'src/remote-agent/tcp/stream.ts'],
    ['src/remote-agent/dissect/dns/descriptor.ts', 'src/remote-agent/dissect/http1/entry.ts'],
    // A family's descriptor never imports its variant's folder: the registry composes them.
    ['src/remote-agent/dissect/http1/descriptor.ts', 'src/remote-agent/dissect/grpc/descriptor.ts'],
    ['src/remote-agent/dissect/grpc/descriptor.ts', 'src/remote-agent/dissect/http1/entry.ts', true],
    ['src/remote-agent/dissect/dns/entry.ts', 'src/remote-agent/tcp/stream.ts'],
    ['src/remote-agent/stats.ts', 'src/remote-agent/tcp/assembler.ts'],
    ['src/remote-agent/tls/plaintext-streams.ts', 'src/remote-agent/dissect/registry.ts'],
    ['src/remote-agent/dissect/registry.ts', 'src/remote-agent/tls/plaintext-claims.ts'],
    ['src/remote-agent/tls/plaintext-streams.ts', 'src/remote-agent/capture-pipeline.ts'],
    ['src/remote-agent/tls/tls-capture.ts', 'src/remote-agent/redact/index.ts'],
    ['src/pipeline/entry-store.ts', 'test/helpers/entries.ts'],
    ['src/kfl/fields.ts', 'cmd/tap.ts'],
    ['cmd/tap.ts', 'test/helpers/tap.ts'],
  ];
  for (const [from, to, typeOnly] of refused) assert.notEqual(brokenRule(edge(from, to, typeOnly)), null, `${from} -> ${to} must be refused`);
  const allowed: ReadonlyArray<readonly [string, string, boolean?]> = [
    ['src/model/entry.ts', 'src/remote-agent/dissect/dns/entry.ts', true],
    ['src/kfl/fields.ts', DESCRIPTOR_REGISTRY],
    ['src/tui/entry-row.ts', DESCRIPTOR_REGISTRY],
    ['src/pipeline/read-capture.ts', 'src/remote-agent/capture-pipeline.ts'],
    ['src/tap/pod-tap.ts', 'src/remote-agent/wire/protocol.ts'],
    ['src/remote-agent/dissect/http1/pair.ts', 'src/remote-agent/tcp/stream.ts'],
    ['src/remote-agent/dissect/dns/descriptor.ts', 'src/remote-agent/dissect/dns/entry.ts'],
    ['src/remote-agent/dissect/grpc/descriptor.ts', 'src/remote-agent/dissect/grpc/descriptor-redact.ts'],
    [DESCRIPTOR_REGISTRY, 'src/remote-agent/dissect/grpc/descriptor.ts'],
    ['src/remote-agent/agent/main.ts', 'src/kfl/index.ts'],
    ['src/remote-agent/capture-pipeline.ts', 'src/remote-agent/udp/flow-table.ts'],
    ['src/remote-agent/capture-pipeline.ts', 'src/remote-agent/tls/plaintext-streams.ts'],
    ['src/remote-agent/tls/plaintext-streams.ts', 'src/remote-agent/tcp/stream.ts'],
    ['src/remote-agent/tls/plaintext-claims.ts', 'src/remote-agent/stats.ts'],
    ['src/remote-agent/tls/proc-sockets.ts', 'src/model/ip-address.ts'],
    ['cmd/tap.ts', 'src/tap/tap-session.ts'],
  ];
  for (const [from, to, typeOnly] of allowed) assert.equal(brokenRule(edge(from, to, typeOnly)), null, `${from} -> ${to} must be allowed`);
});

test('import specifiers are read by the parser: type-only imports, export-from and import() are seen', () => {
  const file = join(REPO_ROOT, 'src/model/example.ts');
  const edges = importEdges(
    file,
    [
      "import type { A } from '../kfl/a.ts';",
      "import { type B } from '../kfl/b.ts';",
      "import { C, type D } from '../kfl/c.ts';",
      "export { E } from '../kfl/e.ts';",
      "const f = await import('../kfl/f.ts');",
      "// import { G } from '../kfl/g.ts';",
      "const s = \"import { H } from '../kfl/h.ts'\";",
    ].join('\n'),
  );
  assert.deepEqual(
    edges.map((e) => [e.to, e.typeOnly, e.line]),
    [
      ['src/kfl/a.ts', true, 1],
      ['src/kfl/b.ts', true, 2],
      ['src/kfl/c.ts', false, 3],
      ['src/kfl/e.ts', false, 4],
      ['src/kfl/f.ts', false, 5],
    ],
  );
});

test('every top-level folder of src/ has a README that says what it may import, pointing here', () => {
  const missing: string[] = [];
  for (const name of readdirSync(join(REPO_ROOT, 'src'))) {
    if (!statSync(join(REPO_ROOT, 'src', name)).isDirectory()) continue;
    let text = '';
    try {
      text = readFileSync(join(REPO_ROOT, 'src', name, 'README.md'), 'utf8');
    } catch {
      missing.push(`src/${name}/README.md is missing`);
      continue;
    }
    if (!/may import/i.test(text) || !text.includes('test/architecture/imports.test.ts')) missing.push(`src/${name}/README.md does not say what it may import (with test/architecture/imports.test.ts)`);
  }
  assert.deepEqual(missing, []);
});

/**
 * Descriptors and entry shapes are read by KFL, the TUI and the pipeline, so they must not pull
 * in the parsers (nor the stages those import): `<protocol>/descriptor.ts` and `<protocol>/entry.ts`
 * import only src/model and files of their own folder that do the same, and the registry only
 * descriptors and src/model. Checked on the whole import closure of the registry and of every
 * protocol folder's entry.ts and descriptor.ts.
 */
test('the descriptor registry and protocol entry shapes load only src/model, their own folder and (entry shapes) other entry shapes', () => {
  const dissect = join(REPO_ROOT, 'src/remote-agent/dissect');
  const roots = [DESCRIPTOR_REGISTRY];
  for (const name of readdirSync(dissect)) {
    for (const file of ['entry.ts', 'descriptor.ts']) {
      try {
        if (statSync(join(dissect, name, file)).isFile()) roots.push(`src/remote-agent/dissect/${name}/${file}`);
      } catch {
        // a folder without one
      }
    }
  }
  assert.ok(roots.includes('src/remote-agent/dissect/http1/descriptor.ts'), roots.join(', '));
  const violations: string[] = [];
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const from = queue.pop()!;
    if (seen.has(from)) continue;
    seen.add(from);
    const folder = PROTOCOL_FOLDER.exec(from)?.[1];
    for (const { to: target } of importEdges(join(REPO_ROOT, from), readFileSync(join(REPO_ROOT, from), 'utf8'))) {
      const ok =
        target.startsWith('src/model/') ||
        (from === DESCRIPTOR_REGISTRY && /^src\/remote-agent\/dissect\/[a-z0-9-]+\/descriptor\.ts$/.test(target)) ||
        (PROTOCOL_ENTRY_FILE.test(from) && PROTOCOL_ENTRY_FILE.test(target)) ||
        (folder !== undefined && target.startsWith(`${folder}/`));
      if (!ok) violations.push(`${from} imports ${target}`);
      else if (!target.startsWith('src/model/')) queue.push(target);
    }
  }
  assert.deepEqual(violations, []);
});
