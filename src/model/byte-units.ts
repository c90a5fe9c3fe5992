/**
 * The one way sizes are shown to people, in the list, the detail pane, the service map and every
 * summary line: binary units with a space, `394 B`, `1.3 KiB`, `15 KiB`, `5.0 MiB`. Parsing what
 * users type (`64KiB`, `5m`) lives with the CLI flags (cmd/byte-size.ts).
 */
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Number.isFinite(bytes) ? Math.max(0, Math.round(bytes)) : 0} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 KiB would round to "1024 KiB": show it as the next unit instead.
  if (value >= 1023.5 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}
