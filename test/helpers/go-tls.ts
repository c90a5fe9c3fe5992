/**
 * Builds test/fixtures/go-tls (a Go HTTPS server and client, std lib only) with Debian's Go
 * toolchain, offline: GOCACHE and GOPATH in a temporary folder, GOFLAGS=-mod=mod. `stripped`
 * builds with -ldflags='-s -w' (no symbol table, no DWARF), as many release images do.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './capture.ts';
import { hasCommand } from './requirements.ts';

export const GO_TLS_SOURCE = join(REPO_ROOT, 'test/fixtures/go-tls');

/** null when `go` can build here, else the reason to skip with (through skipFor). */
export function requireGo(): string | null {
  return hasCommand('go') ? null : 'the Go toolchain (`go`, Debian golang-go) is not installed';
}

/** Builds the fixture into `dir` (also used for the Go caches); returns the binary's path. */
export function buildGoTls(dir: string, options: { readonly stripped?: boolean } = {}): string {
  const out = join(dir, options.stripped === true ? 'go-tls-stripped' : 'go-tls');
  mkdirSync(join(dir, 'gocache'), { recursive: true });
  const env = { ...process.env, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-mod=mod', GOPROXY: 'off', CGO_ENABLED: '0' };
  const args = ['build', '-o', out, ...(options.stripped === true ? ['-ldflags=-s -w'] : []), '.'];
  execFileSync('go', args, { cwd: GO_TLS_SOURCE, env, stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}
