/** Runs the real launcher (bin/kubectl-shark) as a user would, capturing output and exit code. */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared-pcaps.ts';

export const LAUNCHER = join(REPO_ROOT, 'bin', 'kubectl-shark');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  /** stdout as written, for checks a UTF-8 decode would blur. */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: { input?: Uint8Array; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {
      // The CLI may exit before reading all of its input (e.g. a bad magic number): not our concern.
    });
    child.stdin.end(options.input ?? undefined);
  });
}

/** Rejects when the command met a bug (an internal error line or summary on stderr): tests fail on any. */
export async function runShark(args: readonly string[], options: { input?: Uint8Array; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const result = await runCommand(LAUNCHER, args, options);
  if (INTERNAL_ERROR_MARK.test(result.stderr)) {
    throw new Error(`kubectl-shark ${args.join(' ')} met an internal error:\n${result.stderr.slice(-4000)}`);
  }
  return result;
}

/** What `read` writes for an internal error (thrown-errors.ts) and in its summary. */
const INTERNAL_ERROR_MARK = /a bug: please report/;

export function parseNdjson<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** The real kubectl 1.32 (the dispatcher's binary when present, else whatever is on PATH), or undefined. */
export function findKubectl(): string | undefined {
  for (const candidate of ['/usr/lib/google-cloud-sdk/bin/kubectl.1.32', 'kubectl']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${candidate}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // try the next
    }
  }
  return undefined;
}
