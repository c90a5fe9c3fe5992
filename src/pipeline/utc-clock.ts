/** "12:03:04 UTC": wall-clock times in notices and the TUI header, on the entry list's clock (UTC). */
export function utcClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}
