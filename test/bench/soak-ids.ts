/**
 * The soak benchmark's exactly-once verdict: every request the load generator made (its id in the
 * server's access log) must be in the tap's output once, no more, no less. Both sides arrive as
 * id streams sorted in byte order (GNU `LC_ALL=C sort` of files with millions of ids: a set in
 * memory would weigh more than what is measured), so one merge pass counts everything.
 */

export interface IdComparison {
  /** Ids in the access logs. */
  readonly expected: number;
  /** Ids in the tap's output (with repeats). */
  readonly seen: number;
  /** Expected ids the output never had. */
  readonly missing: number;
  /** Extra copies: an id seen k > 1 times adds k - 1. */
  readonly duplicated: number;
  /** Ids in the output that no access log has (another request, or a corrupted id). */
  readonly unexpected: number;
  /** Extra copies within the access logs themselves (the server repeating an id: not our fault, but the comparison is then unsound). */
  readonly expectedRepeats: number;
  /** A few missing ids, to look for in the logs. */
  readonly missingExamples: readonly string[];
}

const EXAMPLES = 5;

/** Groups a sorted stream into (id, count) runs, checking that it is sorted. */
async function* runs(ids: AsyncIterable<string>, what: string): AsyncGenerator<[string, number]> {
  let current: string | null = null;
  let count = 0;
  for await (const id of ids) {
    if (current !== null && id < current) throw new Error(`${what} is not sorted: ${JSON.stringify(id)} after ${JSON.stringify(current)}`);
    if (id === current) count++;
    else {
      if (current !== null) yield [current, count];
      current = id;
      count = 1;
    }
  }
  if (current !== null) yield [current, count];
}

/** Compares two byte-order-sorted id streams (JS string order is byte order for ASCII ids). */
export async function compareSortedIds(expectedIds: AsyncIterable<string>, seenIds: AsyncIterable<string>): Promise<IdComparison> {
  const exp = runs(expectedIds, 'the expected ids')[Symbol.asyncIterator]();
  const got = runs(seenIds, 'the seen ids')[Symbol.asyncIterator]();
  let expected = 0;
  let seen = 0;
  let missing = 0;
  let duplicated = 0;
  let unexpected = 0;
  let expectedRepeats = 0;
  const missingExamples: string[] = [];
  const nextRun = async (it: AsyncIterator<[string, number]>): Promise<[string, number] | null> => {
    const r = await it.next();
    return r.done === true ? null : r.value;
  };
  let e = await nextRun(exp);
  let g = await nextRun(got);
  while (e !== null || g !== null) {
    if (g === null || (e !== null && e[0] < g[0])) {
      // Expected, never seen.
      expected += e![1];
      expectedRepeats += e![1] - 1;
      missing++;
      if (missingExamples.length < EXAMPLES) missingExamples.push(e![0]);
      e = await nextRun(exp);
    } else if (e === null || g[0] < e[0]) {
      seen += g[1];
      unexpected++;
      duplicated += g[1] - 1;
      g = await nextRun(got);
    } else {
      expected += e[1];
      expectedRepeats += e[1] - 1;
      seen += g[1];
      duplicated += g[1] - 1;
      e = await nextRun(exp);
      g = await nextRun(got);
    }
  }
  return { expected, seen, missing, duplicated, unexpected, expectedRepeats, missingExamples };
}

/** An array as an async stream (tests, small inputs). */
export async function* idsOf(values: Iterable<string>): AsyncGenerator<string> {
  for (const v of values) yield v;
}
