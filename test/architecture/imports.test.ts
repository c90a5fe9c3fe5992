/**
 * Who may import whom (shared STYLE.md): data flows one way, so the agent can ship alone and the
 * filter stays pure. Checked on the import specifiers of every source file.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

/** Folder (relative to the repo) -> folders it must never import from. */
const FORBIDDEN: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['src/model', ['src/remote-agent', 'src/pipeline', 'src/kfl', 'src/kube', 'src/tui', 'cmd']],
  ['src/remote-agent', ['src/pipeline', 'src/kube', 'src/tui', 'cmd']],
  ['src/kfl', ['src/remote-agent', 'src/pipeline', 'src/kube', 'src/tui', 'cmd']],
  ['src/pipeline', ['src/kube', 'src/tui', 'cmd']],
  ['src/tui', ['src/kube', 'src/remote-agent', 'cmd']],
  // Kubernetes plumbing feeds the pipeline; it never draws or parses flags.
  ['src/kube', ['src/tui', 'cmd']],
];

/** The registry of protocol descriptors: what KFL, the TUI and the pipeline read of protocols. */
const REGISTRY = 'src/remote-agent/dissect/descriptors.ts';
/** A protocol folder's entry shape (`<protocol>/entry.ts`). */
const PROTOCOL_ENTRY = /^src\/remote-agent\/dissect\/[a-z0-9-]+\/entry\.ts$/;
const PROTOCOL_FOLDER = /^(src\/remote-agent\/dissect\/[a-z0-9-]+)\//;

/**
 * What the one-way rules above let through on purpose: the Entry union names each protocol's
 * entry type (types only: nothing of remote-agent is loaded), and the folders that show, filter
 * and count entries read protocols through the registry, which loads no parser (checked below).
 */
function isAllowed(from: string, target: string, typeOnly: boolean): boolean {
  if (from === 'src/model/entry.ts') return typeOnly && PROTOCOL_ENTRY.test(target);
  if (/^src\/(kfl|tui|pipeline)\//.test(from)) return target === REGISTRY;
  return false;
}

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(import|export)(\s+type)?\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

interface ImportOf {
  /** Relative to the repo. */
  readonly target: string;
  readonly typeOnly: boolean;
}

/** The relative imports of a file (repo-relative targets). */
function importsOf(file: string): ImportOf[] {
  const out: ImportOf[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[3] ?? m[4]!;
    if (!spec.startsWith('.')) continue;
    out.push({ target: relative(REPO_ROOT, resolve(dirname(file), spec)), typeOnly: m[2] !== undefined });
  }
  return out;
}

test('imports follow the one-way data flow', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const [folder, forbidden] of FORBIDDEN) {
    const abs = join(REPO_ROOT, folder);
    let files: string[];
    try {
      files = sourceFiles(abs);
    } catch {
      continue; // folder not created yet
    }
    for (const file of files) {
      checked++;
      const from = relative(REPO_ROOT, file);
      for (const { target, typeOnly } of importsOf(file)) {
        const bad = forbidden.find((f) => target === f || target.startsWith(`${f}/`));
        if (bad && !isAllowed(from, target, typeOnly)) violations.push(`${from} imports ${target} (${folder} may not import ${bad})`);
      }
    }
  }
  assert.ok(checked > 10, `checked ${checked} files`);
  assert.deepEqual(violations, []);
});

/**
 * Descriptors and entry shapes are read by KFL, the TUI and the pipeline, so they must not pull
 * in the parsers (nor the stages those import): `<protocol>/descriptor.ts` and `<protocol>/entry.ts`
 * import only src/model and files of their own folder that do the same, and the registry only
 * descriptors and src/model. Checked on the whole import closure of the registry and of every
 * protocol folder's entry.ts and descriptor.ts.
 */
test('the descriptor registry and protocol entry shapes load only src/model and their own folder', () => {
  const dissect = join(REPO_ROOT, 'src/remote-agent/dissect');
  const roots = [REGISTRY];
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
    for (const { target } of importsOf(join(REPO_ROOT, from))) {
      const ok =
        target.startsWith('src/model/') ||
        (from === REGISTRY && /^src\/remote-agent\/dissect\/[a-z0-9-]+\/descriptor\.ts$/.test(target)) ||
        (folder !== undefined && target.startsWith(`${folder}/`));
      if (!ok) violations.push(`${from} imports ${target}`);
      else if (!target.startsWith('src/model/')) queue.push(target);
    }
  }
  assert.deepEqual(violations, []);
});
