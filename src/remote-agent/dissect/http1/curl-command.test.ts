/**
 * Copy as curl against real shells: the generated command runs in sh (dash here) and bash with
 * `curl` shadowed by a function that prints its argv NUL-separated and then its stdin, and must
 * hand curl exactly the method, URL, headers and body of the request, however hostile they are.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HttpEntry as Entry } from '../../../remote-agent/dissect/http1/entry.ts';
import { stringifyJson } from '../../../model/terminal-text.ts';
import { curlCommand } from './curl-command.ts';
import { makeEntry } from '../../../tui/test-support.ts';

const SHELLS = ['sh', 'bash'].filter((shell) => spawnSync(shell, ['-c', 'exit 0']).status === 0);

/**
 * Prints $#, each argument (NUL-terminated: the exact argv, newlines and all) and, when the body is
 * to come from stdin (`@-` last), stdin in hex.
 */
const PRINT_ARGV = `curl() { printf '%s\\000' "$#"; for a in "$@"; do printf '%s\\000' "$a"; last=$a; done; if [ "$last" = @- ]; then od -An -tx1 -v | tr -d ' \\n'; fi; printf '\\000'; }`;

interface Invocation {
  readonly args: readonly Buffer[];
  readonly stdin: Buffer;
}

/** Runs the commands one after the other in one shell; what each gave curl, in order. */
function runInShell(shell: string, commands: readonly string[]): Invocation[] {
  const run = spawnSync(shell, ['-c', [PRINT_ARGV, ...commands].join('\n')], { input: '', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 0, `${shell} failed: ${run.stderr.toString()}`);
  const out = run.stdout;
  let at = 0;
  const field = (): Buffer => {
    const end = out.indexOf(0, at);
    assert.ok(end >= 0, `output ends early: ${stringifyJson(out.toString('latin1'))}`);
    const value = out.subarray(at, end);
    at = end + 1;
    return value;
  };
  const invocations: Invocation[] = [];
  while (at < out.length) {
    const argc = Number(field().toString());
    const args = Array.from({ length: argc }, field);
    invocations.push({ args, stdin: Buffer.from(field().toString(), 'hex') });
  }
  return invocations;
}

/**
 * The request as curl must get it: the specification the command is checked against. curl sends
 * GET, or POST once it has data; -X only where the method differs, --head for a bodiless HEAD;
 * bodies as --data-binary, through stdin when they hold NUL, are binary or start with @ (which
 * would make curl read a local file); Content-Type emptied when the request had none.
 */
function intended(entry: Entry): { args: string[]; stdin: Buffer } {
  const { request } = entry;
  const headers = Object.entries(request.headers);
  const host = headers.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? `${entry.dst.ip}:${entry.dst.port}`;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(request.url) ? request.url : `http://${host}${request.url}`;
  const body = request.postData;
  const hasBody = body !== null && body.text !== '';
  const args: string[] = [];
  if (request.method !== (hasBody ? 'POST' : 'GET')) args.push(...(request.method === 'HEAD' && !hasBody ? ['--head'] : ['-X', request.method]));
  args.push(url);
  for (const [name, value] of headers) {
    if (!['host', 'content-length', 'transfer-encoding', 'connection'].includes(name.toLowerCase())) args.push('-H', `${name}: ${value}`);
  }
  if (body === null || !hasBody) return { args, stdin: Buffer.alloc(0) };
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) args.push('-H', 'Content-Type:');
  if (body.encoding === 'base64') return { args: [...args, '--data-binary', '@-'], stdin: Buffer.from(body.text, 'base64') };
  if (body.text.includes('\u0000') || body.text.startsWith('@') || Buffer.byteLength(body.text) > 64 * 1024) return { args: [...args, '--data-binary', '@-'], stdin: Buffer.from(body.text) };
  return { args: [...args, '--data-binary', body.text], stdin: Buffer.alloc(0) };
}

/** Characters with a meaning to sh, a terminal or curl, and any other code point (no NUL, no lone surrogate). */
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("'", '"', '\\', '$', '(', ')', '`', ';', '|', '&', '<', '>', '*', '?', '[', ']', '{', '}', '~', '!', '#', '%', '=', ' ', '-', '\n', '\r', '\t', '\u001b', '\u0007', '\u0015', '\u007f', '\u009b', 'é', '界', '😀') },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 0x9f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 0xa0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })).map((c) => String.fromCodePoint(c)) },
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', '/', '.', ':') },
);
const hostileText = fc.oneof(
  fc.array(hostileChar, { maxLength: 24 }).map((chars) => chars.join('')),
  fc.constantFrom("G'|id|'", '$(id)', '`id`', '-o /tmp/x', '--next', "'; id; '", '\u0015id\n', "\u007f\u007f'; id #", '\u001b]52;c;aWQ=\u0007', '\u001b]0;pwned\u0007', 'x\n'),
);

const hostileEntry = fc
  .record({
    method: fc.oneof(hostileText, fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'get', 'post')),
    path: fc.oneof(hostileText.map((p) => `/${p}`), hostileText, hostileText.map((p) => `http://h/${p}`)),
    host: fc.option(hostileText, { nil: undefined }),
    headers: fc.uniqueArray(fc.tuple(hostileText, hostileText), { maxLength: 4, selector: ([name]) => name }),
    body: fc.oneof(
      fc.constant(undefined),
      hostileText.map((text) => ({ text, mimeType: 'text/plain' })),
      hostileText.map((text) => ({ text: `@${text}`, mimeType: 'text/plain' })),
      fc.tuple(hostileText, hostileText).map(([a, b]) => ({ text: `${a}\u0000${b}`, mimeType: 'text/plain' })),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ text: Buffer.from(bytes).toString('base64'), mimeType: 'application/octet-stream', encoding: 'base64' as const })),
    ),
  })
  .map(({ method, path, host, headers, body }) => {
    const requestHeaders: Record<string, string> = Object.fromEntries([...(host === undefined ? [] : [['Host', host]]), ...headers.filter(([name]) => name !== 'Host')]);
    return makeEntry({ method, url: path, requestHeaders, ...(body === undefined ? {} : { requestBody: body }) });
  });

test(`copy as curl: ${SHELLS.join(' and ')} hand curl exactly the request's method, URL, headers and body`, () => {
  assert.ok(SHELLS.includes('sh'), 'a POSIX sh is needed');
  // Twenty requests per shell run: a process per request would make this test take half a minute.
  fc.assert(
    fc.property(fc.array(hostileEntry, { minLength: 1, maxLength: 20 }), (entries) => {
      const commands = entries.map(curlCommand);
      for (const shell of SHELLS) {
        const got = runInShell(shell, commands);
        assert.equal(got.length, entries.length, `${shell}: curl ran ${got.length} times for ${entries.length} commands`);
        entries.forEach((entry, i) => {
          const want = intended(entry);
          const where = `${shell} running ${stringifyJson(commands[i])}`;
          assert.deepEqual(got[i].args.map((arg) => arg.toString('utf8')), want.args, `${where}: other arguments than the request's`);
          // Byte for byte too (the comparison above would hide an invalid UTF-8 sequence).
          assert.deepEqual(got[i].args, want.args.map((arg) => Buffer.from(arg)), where);
          assert.deepEqual(got[i].stdin, want.stdin, `${where}: stdin`);
        });
      }
    }),
    { numRuns: 25 },
  );
});

test('copy as curl: the command holds no control character but LF, so pasting it runs nothing else', () => {
  fc.assert(
    fc.property(hostileEntry, (entry) => {
      assert.doesNotMatch(curlCommand(entry), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    }),
    { numRuns: 2000 },
  );
});

test("copy as curl: the issue's method G'|id|' is one quoted word, not a pipeline", () => {
  const command = curlCommand(makeEntry({ method: "G'|id|'", url: '/', requestHeaders: { Host: 'h' } }));
  assert.equal(command, `curl -X 'G'\\''|id|'\\''' 'http://h/'`);
  assert.deepEqual(runInShell('sh', [command])[0].args.map(String), ['-X', "G'|id|'", 'http://h/']);
});
