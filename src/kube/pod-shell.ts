/**
 * The one way this package runs shell code in a pod: a constant script for `sh -c`, with every
 * value (paths, sizes, hashes, container names) passed as a positional parameter ($1, $2, ...),
 * which the script reads quoted ("$1"). No value is ever spliced into the script text, so no value,
 * whatever bytes it holds, can change what the shell parses.
 */
export function podShellCommand(script: string, args: readonly string[]): string[] {
  // $0 names the script in sh's own error messages.
  return ['sh', '-c', script, 'kubectl-shark', ...args];
}
