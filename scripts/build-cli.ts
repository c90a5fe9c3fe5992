/**
 * Builds dist/cmd/: the CLI as an esbuild bundle of cmd/ and src/, split at its dynamic imports
 * (issue 17). Node loads an ES module graph file by file, resolving, reading and linking each:
 * ~300 small modules cost ~45 ms of every start (`read` of the demo capture 201-209 -> 155-159 ms,
 * `--version` ~100 -> ~60 ms). Splitting keeps what each command loads as lazy as the sources make
 * it: a dynamic import (a command, the TUI, the KFL compiler, the capture pipeline) starts a chunk
 * of its own, and a module is put in a chunk shared only by the imports that reach it, so
 * `read -o json` still loads neither the TUI nor tap (test/e2e/read-startup.test.ts checks it
 * through dist/cmd/meta.json, the map from each output file to its sources).
 *
 * Dependencies stay external (node_modules resolves from dist/cmd/ as from the sources), and every
 * output file is in dist/cmd/ itself: the modules that find files relative to their own URL
 * (cmd/package-root.ts, src/kube/agent-bundle.ts) see the same folder from any chunk.
 * Not minified: stack traces and internal-error sites keep their names, and the source maps lead
 * back to the sources (NODE_OPTIONS=--enable-source-maps).
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cmd');
/** The output files' sources, read by the start-up tests. Not a module: never loaded at run time. */
const CLI_META_FILE = 'meta.json';

rmSync(out, { recursive: true, force: true });
// What tsc emitted before the CLI was bundled: nothing loads it now, and a stale copy would only mislead.
rmSync(join(root, 'dist', 'src'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { main: join(root, 'cmd', 'main.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  // The launcher accepts Node 22 or newer.
  target: 'node22',
  packages: 'external',
  metafile: true,
  // Linked maps without the sources' text: a stack trace maps back with --enable-source-maps.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
});

writeFileSync(join(out, CLI_META_FILE), `${JSON.stringify(result.metafile)}\n`);
const outputs = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'));
const bytes = outputs.reduce((sum, file) => sum + statSync(join(root, file)).size, 0);
process.stdout.write(`dist/cmd: main.js and ${outputs.length - 1} chunks, ${Math.round(bytes / 1024)} KB\n`);
