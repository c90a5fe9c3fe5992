/**
 * The README's generated performance section: everything between the two marker lines is
 * `npm run bench`'s to rewrite, everything outside is left byte for byte as it was.
 */

export const BENCH_BEGIN = '<!-- bench:begin -->';
export const BENCH_END = '<!-- bench:end -->';

export class BenchSectionError extends Error {}

function markerLines(lines: readonly string[], marker: string): number[] {
  const at: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === marker) at.push(i);
  });
  return at;
}

/**
 * `text` with the lines between the begin and end markers replaced by `body`. Throws a
 * BenchSectionError naming `where` when a marker is missing, repeated or out of order: a README
 * without its section is a mistake to fix, not a place to append a second table.
 */
export function replaceBenchSection(text: string, body: string, where: string = 'README.md'): string {
  const lines = text.split('\n');
  const begins = markerLines(lines, BENCH_BEGIN);
  const ends = markerLines(lines, BENCH_END);
  const fix = `the performance section holds the generated table between a line ${BENCH_BEGIN} and a line ${BENCH_END}`;
  if (begins.length === 0 || ends.length === 0) {
    const missing = [begins.length === 0 ? BENCH_BEGIN : null, ends.length === 0 ? BENCH_END : null].filter((m) => m !== null).join(' and ');
    throw new BenchSectionError(`${where}: no ${missing} line: ${fix} (put them back under "## Performance")`);
  }
  if (begins.length > 1 || ends.length > 1) {
    throw new BenchSectionError(`${where}: ${BENCH_BEGIN} appears ${begins.length} times and ${BENCH_END} ${ends.length} times: ${fix}, once`);
  }
  const begin = begins[0]!;
  const end = ends[0]!;
  if (end < begin) throw new BenchSectionError(`${where}: ${BENCH_END} (line ${end + 1}) comes before ${BENCH_BEGIN} (line ${begin + 1}): ${fix}`);
  const bodyLines = body === '' ? [] : body.replace(/\n+$/, '').split('\n');
  return [...lines.slice(0, begin + 1), ...bodyLines, ...lines.slice(end)].join('\n');
}
