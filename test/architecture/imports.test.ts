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

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

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
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2]!;
        if (!spec.startsWith('.')) continue;
        const target = relative(REPO_ROOT, resolve(dirname(file), spec));
        const bad = forbidden.find((f) => target === f || target.startsWith(`${f}/`));
        if (bad) violations.push(`${relative(REPO_ROOT, file)} imports ${target} (${folder} may not import ${bad})`);
      }
    }
  }
  assert.ok(checked > 10, `checked ${checked} files`);
  assert.deepEqual(violations, []);
});
