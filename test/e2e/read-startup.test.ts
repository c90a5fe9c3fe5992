/**
 * What `read -o json` loads (issue 17): the commands' modules are imported when their command runs,
 * so reading a capture to NDJSON compiles neither the TUI (Ink, React), nor `tap` and its
 * Kubernetes modules, nor the demo. Checked on the real launcher with a load hook that lists every
 * module the process loads (test/helpers/module-load-log.ts); the bundled CLI's files are mapped back
 * to their sources (test/helpers/loaded-sources.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadedSources } from '../helpers/loaded-sources.ts';
import { runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const HOOK = join(REPO_ROOT, 'test', 'helpers', 'module-load-log.ts');
const work = mkdtempSync(join(tmpdir(), 'shark-startup-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Modules `read -o json` and `-o text` have no use for. */
const NOT_FOR_READ_OUTPUT: ReadonlyArray<readonly [string, RegExp]> = [
  ['the TUI', /^src\/tui\/|^cmd\/tui-session\.ts$/],
  ['Ink or React', /\/node_modules\/(ink|react|react-reconciler|yoga-layout)\//],
  ['tap', /^src\/tap\/|^cmd\/tap\.ts$/],
  ['Kubernetes', /^src\/kube\/|\/node_modules\/@kubernetes\//],
  ['the demo', /^cmd\/demo\.ts$/],
  // A plain `read FILE -o FORMAT -q` line is parsed without yargs (cmd/read-argv.ts).
  ['yargs', /\/node_modules\/(yargs|yargs-parser|cliui|y18n)\//],
  // Without --filter there is no query to compile (cmd/read.ts compileFilterFlag).
  ['the KFL compiler or re2js', /^src\/kfl\/(index|compile|parser|lexer|regex)\.ts$|\/node_modules\/re2js\//],
];

async function modulesLoadedBy(name: string, args: readonly string[]): Promise<string[]> {
  const log = join(work, `${name}.modules`);
  const result = await runShark(args, {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${HOOK}`.trim(), SHARK_MODULE_LOG: log },
  });
  assert.equal(result.code, 0, result.stderr);
  return loadedSources(readFileSync(log, 'utf8').split('\n').filter((line) => line !== ''));
}

for (const output of ['json', 'text']) {
  test(`read -o ${output} loads neither the TUI nor tap, Kubernetes or the demo`, async () => {
    const capture = join(sharedPcapsDir(), 'http', 'dvwa-login-keepalive-post.pcapng');
    const loaded = await modulesLoadedBy(`read-${output}`, ['read', capture, '-o', output, '-q']);
    assert.ok(loaded.some((url) => url === 'cmd/read.ts'), `the hook saw read itself: ${loaded.length} modules`);
    for (const [what, pattern] of NOT_FOR_READ_OUTPUT) {
      const found = loaded.filter((url) => pattern.test(url));
      assert.deepEqual(found, [], `read -o ${output} loaded ${what}`);
    }
  });
}

test('read --filter loads the KFL compiler, and still parses without yargs', async () => {
  const capture = join(sharedPcapsDir(), 'http', 'dvwa-login-keepalive-post.pcapng');
  const loaded = await modulesLoadedBy('read-filter', ['read', capture, '-o', 'json', '-q', '--filter', 'http']);
  assert.ok(loaded.some((url) => url === 'src/kfl/compile.ts'), 'the compiler was loaded');
  assert.deepEqual(loaded.filter((url) => /\/node_modules\/yargs\//.test(url)), []);
});

test('the help of every command is still there: kubectl shark --help loads and lists them all', async () => {
  const loaded = await modulesLoadedBy('help', ['--help']);
  for (const command of ['read', 'demo', 'tap']) assert.ok(loaded.some((url) => url === `cmd/${command}.ts`), `--help did not load ${command}`);
  const help = await runShark(['--help']);
  for (const command of ['read', 'demo', 'tap']) assert.match(help.stdout, new RegExp(`kubectl shark ${command}\\b`));
});

test('kubectl shark --version prints the version without compiling any command', async () => {
  const loaded = await modulesLoadedBy('version', ['--version']);
  for (const command of ['read', 'demo', 'tap']) {
    assert.ok(!loaded.some((url) => url === `cmd/${command}.ts`), `--version loaded the ${command} command`);
  }
  const version = await runShark(['--version']);
  const { version: expected } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout.trim(), expected);
});
