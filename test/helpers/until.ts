/**
 * Polling for a condition in tests: the value `check` gives once it is not undefined, or a failure
 * naming what was awaited (and, when given, what the world looked like) after `timeoutMs`.
 */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, show?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${show ? `:\n${show()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
