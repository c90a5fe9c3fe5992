/**
 * Node's on-disk compile cache for the CLI's own modules and its dependencies (issue 17): a start
 * compiles the files of the bundled CLI it loads (scripts/build-cli.ts) and their dependencies,
 * and the cache lets later starts reuse V8's code instead of compiling again. It lives under the
 * user's cache directory (XDG_CACHE_HOME, else ~/.cache); Node keeps a subdirectory per Node
 * version and checks each entry against its source, so a rebuild or another
 * runtime never reads stale code. A cache that cannot be written is not an error: Node reports the
 * failure in the returned status and the CLI compiles as it did without one.
 */
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the cache lives: $XDG_CACHE_HOME/kubectl-shark/compile, else ~/.cache/kubectl-shark/compile. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'kubectl-shark', 'compile');
}

/** Turns the cache on unless the user chose one (NODE_COMPILE_CACHE) or none (NODE_DISABLE_COMPILE_CACHE). */
export function enableCompileCache(): void {
  if (process.env.NODE_COMPILE_CACHE !== undefined || process.env.NODE_DISABLE_COMPILE_CACHE !== undefined) return;
  // Node 22.1+ has it; an older runtime (the launcher accepts 22.x) simply starts without one.
  if (typeof module.enableCompileCache !== 'function') return;
  try {
    module.enableCompileCache(compileCacheDir());
  } catch {
    // homedir() throws when the user has no home and no $HOME: start without a cache.
  }
}
