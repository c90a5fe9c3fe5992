/**
 * What a CLI run loaded, as sources: the URLs logged by module-load-log.ts, with each file of the
 * bundled CLI (dist/cmd/, scripts/build-cli.ts) replaced by the sources esbuild put in it, read
 * from dist/cmd/meta.json. The project's own files come out repository-relative ("cmd/read.ts",
 * "src/tui/app.tsx"), dependencies as the URLs Node loaded them from (".../node_modules/ink/...").
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './shared-pcaps.ts';

interface Metafile {
  readonly outputs: Readonly<Record<string, { readonly inputs: Readonly<Record<string, unknown>> }>>;
}

const BUNDLE_DIR = join(REPO_ROOT, 'dist', 'cmd');

function bundleOutputs(): Metafile['outputs'] {
  return (JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as Metafile).outputs;
}

export function loadedSources(urls: readonly string[]): string[] {
  let outputs: Metafile['outputs'] | undefined;
  const sources: string[] = [];
  for (const url of urls) {
    if (!url.startsWith('file:')) continue;
    const file = fileURLToPath(url);
    const fromRoot = relative(REPO_ROOT, file);
    if (fromRoot.startsWith('node_modules/') || fromRoot.startsWith('..')) {
      sources.push(url);
    } else if (file.startsWith(`${BUNDLE_DIR}/`)) {
      outputs ??= bundleOutputs();
      const output = outputs[fromRoot];
      if (output === undefined) throw new Error(`${fromRoot} is not in dist/cmd/meta.json: a stale build? run npm run build`);
      sources.push(...Object.keys(output.inputs));
    } else {
      sources.push(fromRoot);
    }
  }
  return sources;
}
