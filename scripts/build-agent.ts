/**
 * Builds dist/agent/: the capture agent as one esbuild bundle (agent.js) plus the smallest copy of
 * koffi that loads (its JS loader and the prebuilt glibc and musl x86_64 binaries), and iced-x86
 * (an x86-64 decoder in WASM, loaded by the TLS target finder only when a Go program is found),
 * and the TLS probes' BPF object (bpf/tls.bpf.o, built by bpf/build.sh and committed), which the
 * agent finds next to agent.js (src/remote-agent/tls/probes/object-file.ts).
 * The folder is uploaded as-is into a stock `node` container image, so nothing may be resolved
 * outside it. koffi and iced-x86 stay external: each finds its binary (koffi.node, the .wasm)
 * relative to its own files, and iced-x86 would add ~1.7 MB to every agent start if bundled.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPF_OBJECT_NAME } from '../src/remote-agent/tls/probes/object-file.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'agent');
const modules = join(root, 'node_modules');

/** koffi 3.x files its loader needs at run time (checked by the bundle test in an empty folder). */
// The agent loads koffi with require() (synchronous open), so the CommonJS entry is what runs.
const KOFFI_FILES = ['package.json', 'index.cjs', 'LICENSE.txt', 'src/koffi/index.cjs', 'src/koffi/src/static.cjs'];
const NATIVE_PACKAGE = '@koromix/koffi-linux-x64';
const NATIVE_FILES = ['package.json', 'index.js', 'linux_x64/koffi.node', 'musl_x64/koffi.node'];
/** iced-x86 as published; its JS glue (924 KB of enum tables) is copied minified. */
const ICED_PACKAGE = 'iced-x86';
const ICED_FILES = ['package.json', 'LICENSE.txt', 'iced_x86_bg.wasm'];
const ICED_MAIN = 'iced_x86.js';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'src/remote-agent/agent/main.ts')],
  outfile: join(out, 'agent.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The stock images run Node 22 or 24; nothing newer than Node 22 may be needed.
  target: 'node22',
  external: ['koffi', ICED_PACKAGE],
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
  // Bundled CommonJS dependencies may call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __sharkRequire } from 'node:module'; const require = __sharkRequire(import.meta.url);" },
});

copyFiles(join(root, 'bpf'), out, [BPF_OBJECT_NAME]);
copyFiles(join(modules, 'koffi'), join(out, 'node_modules', 'koffi'), KOFFI_FILES);
copyFiles(join(modules, NATIVE_PACKAGE), join(out, 'node_modules', NATIVE_PACKAGE), NATIVE_FILES);
copyFiles(join(modules, ICED_PACKAGE), join(out, 'node_modules', ICED_PACKAGE), ICED_FILES);
// CommonJS in, CommonJS out, not bundled: it loads its .wasm from its own __dirname.
await build({
  entryPoints: [join(modules, ICED_PACKAGE, ICED_MAIN)],
  outfile: join(out, 'node_modules', ICED_PACKAGE, ICED_MAIN),
  bundle: false,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: 'kubectl-shark-agent', private: true, type: 'module' }, null, 2)}\n`);

const version = JSON.parse(readFileSync(join(modules, 'koffi', 'package.json'), 'utf8')).version as string;
const icedVersion = JSON.parse(readFileSync(join(modules, ICED_PACKAGE, 'package.json'), 'utf8')).version as string;
const size = folderSize(out);
process.stdout.write(`dist/agent: agent.js ${kb(statSync(join(out, 'agent.js')).size)} KB, koffi ${version}, iced-x86 ${icedVersion}, ${kb(size)} KB in all\n`);

function copyFiles(from: string, to: string, files: readonly string[]): void {
  for (const file of files) {
    const src = join(from, file);
    if (!existsSync(src)) {
      const hint = file === BPF_OBJECT_NAME ? 'run bpf/build.sh' : 'package layout changed? run npm ci';
      throw new Error(`build-agent: ${relative(root, src)} is missing (${hint})`);
    }
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(src, join(to, file));
  }
}

function folderSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? folderSize(p) : st.size;
  }
  return total;
}

function kb(bytes: number): number {
  return Math.round(bytes / 1024);
}
