/**
 * What a test needs from the machine (a tool such as tshark, tmux, curl, kubectl, dnsmasq; root;
 * the built CLI) and what happens when it is missing. On a developer's machine the test is
 * skipped with the reason printed. In CI (CI=true, as .ci/run runs: a clean clone, as root, after
 * installing every package the tests use) a missing need is a broken setup: it fails, with the
 * reason, instead of passing silently as a skip. Every skip for something missing goes through
 * here (test/architecture/ci-needs.test.ts checks that no test writes its own reason).
 */
import { spawnSync } from 'node:child_process';

/** CI=true (GitHub Actions, GitLab, .ci/run) or CI=1. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

export class MissingInCi extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`CI=true and ${reason}: in CI every tool the tests need is installed (.ci/run), so this fails instead of skipping`);
    this.name = 'MissingInCi';
    this.reason = reason;
  }
}

/**
 * `reason` says what is missing (null, undefined or false: nothing). Returns what `{ skip }` and
 * `t.skip()` take: false, or the reason. In CI it throws MissingInCi instead, which fails the test
 * file (at load) or the test (when called inside one) with the reason.
 */
export function skipFor(reason: string | null | undefined | false, env: NodeJS.ProcessEnv = process.env): string | false {
  if (reason === null || reason === undefined || reason === false) return false;
  if (isCi(env)) throw new MissingInCi(reason);
  return reason;
}

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

/** The reason a test that runs `command` cannot (null when it is on PATH). */
export function missingCommand(command: string, install?: string): string | null {
  return hasCommand(command) ? null : `${command} is not installed${install ? ` (${install})` : ''}`;
}

/** Skip (or, in CI, fail) unless every command is on PATH. */
export function skipWithout(...commands: string[]): string | false {
  for (const command of commands) {
    const reason = missingCommand(command);
    if (reason !== null) return skipFor(reason);
  }
  return false;
}

/** The reason a test that needs root cannot run (null as root). */
export function missingRoot(what: string): string | null {
  return process.platform === 'linux' && process.getuid?.() === 0 ? null : `${what} needs root`;
}

/**
 * For what is not a tool but a feature of the kernel or the machine (memory cgroups delegated to
 * us, say): skipped with the reason, in CI too, where a runner may lack it without being broken.
 */
export function skipForFeature(reason: string | null | undefined | false): string | false {
  return reason === null || reason === undefined || reason === false ? false : reason;
}
