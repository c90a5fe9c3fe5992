/**
 * The floor of `read F.ndjson --filter` in JavaScript (issue 17, goal 2): a program that does
 * nothing but read the file in 1 MiB chunks, cut it into lines and JSON.parse each one. The CLI
 * must parse every line it cannot skip, and it can skip none without scanning it: a line JSON.parse
 * rejects is reported as bad input, so telling a dropped line from an invalid one is a full scan,
 * and scans written in TypeScript were slower than V8's parser on these lines
 * (src/pipeline/ndjson-quick-reject.ts). ndjson-filter.ts times this next to jq, so the README shows
 * how far any filter built on JSON.parse could get.
 *
 *   node test/bench/json-parse-floor.ts F.ndjson     # prints "<lines> <invalid>"
 */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

function parseEveryLine(path: string): { lines: number; invalid: number } {
  const fd = openSync(path, 'r');
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let held = 0;
  let lines = 0;
  let invalid = 0;
  const parse = (from: number, to: number): void => {
    if (to === from) return;
    lines++;
    try {
      JSON.parse(buffer.toString('utf8', from, to));
    } catch {
      invalid++;
    }
  };
  try {
    for (;;) {
      if (held === buffer.length) {
        // A line longer than the buffer: grow it, as a reader of any line must.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, held);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, held, buffer.length - held, null);
      const end = held + n;
      let start = 0;
      for (let lf = buffer.indexOf(NEWLINE, held); lf >= 0 && lf < end; lf = buffer.indexOf(NEWLINE, start)) {
        parse(start, lf);
        start = lf + 1;
      }
      if (n === 0) {
        parse(start, end);
        break;
      }
      buffer.copy(buffer, 0, start, end);
      held = end - start;
    }
  } finally {
    closeSync(fd);
  }
  return { lines, invalid };
}

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: node test/bench/json-parse-floor.ts F.ndjson\n');
  process.exit(2);
}
const { lines, invalid } = parseEveryLine(path);
process.stdout.write(`${lines} ${invalid}\n`);
