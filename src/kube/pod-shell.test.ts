/**
 * Values reach the pod's shell as positional parameters: whatever bytes they hold, a real `sh`
 * sees exactly them, and nothing of them is parsed as shell code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { podShellCommand } from './pod-shell.ts';

/** Runs the command with the machine's /bin/sh and returns the arguments the script saw. */
function argsSeen(args: readonly string[]): string[] {
  const [sh, ...rest] = podShellCommand('for a in "$@"; do printf "%s\\0" "$a"; done', args);
  const r = spawnSync(sh!, rest, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

test('the script is constant: values follow it as $1, $2, ...', () => {
  assert.deepEqual(podShellCommand('echo "$1"', ["it's"]), ['sh', '-c', 'echo "$1"', 'kubectl-shark', "it's"]);
});

test('hostile values come through unchanged and run nothing', () => {
  const hostile = ["'; touch /tmp/pwned; '", '$(id)', '`id`', '"$HOME"', '-n', '--', 'a\nb', ' lead', 'trail ', '*', '\\', '${IFS}', ''];
  assert.deepEqual(argsSeen(hostile), hostile);
  fc.assert(
    // argv is NUL-terminated UTF-8: no NUL, no lone surrogate.
    fc.property(fc.array(fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '').toWellFormed()), { maxLength: 6 }), (values) => {
      assert.deepEqual(argsSeen(values), values);
    }),
    { numRuns: 150 },
  );
});
