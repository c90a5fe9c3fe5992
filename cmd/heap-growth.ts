/**
 * How far V8 lets the heap of a CLI that streams without end (`tap -o json`, `tap -o text`, the
 * tap TUI) grow between full collections.
 *
 * Such a CLI holds a bounded live set (the de-duplication memory, at most DEFAULT_MAX_DEDUP_KEYS
 * calls of ~500 bytes; output waiting for a slow reader, at most OUTPUT_BUDGET_CHARS; a chunk per
 * exec stream; in the TUI, --max-entries entries and --max-body-memory of bodies), measured steady
 * in the soak (issue 17: 75-85 MB after every mark-compact over 4 minutes at 8k entries/s for -o
 * json). But what it holds lives long enough to be promoted (a call is remembered for the 10 s
 * de-duplication window, an entry until 100k newer ones pushed it out of the TUI's ring), so
 * garbage piles up in the old generation until the next full collection, which V8 starts when the
 * old generation reaches the live size times a growing factor it picks from its own speed: up to 4
 * where the heap limit is large (any machine with a few GB of RAM). Measured, -o json: live 80 MB,
 * the heap filled to 304 MB (428 MB committed) before each collection, RSS 500-610 MB, moving by 100
 * MB with the GC's rhythm. The TUI, 12 minutes into the soak: 192 MB live after a forced full
 * collection, 533 MB used before it, RSS 922 MB and still climbing (+60% after the warm-up). No
 * leak, but a footprint several times what is used, and samples too noisy to tell a leak from it.
 *
 * A fixed factor of 2 keeps the heap within twice what is live: a full collection every time as
 * much as is live has been promoted (about 2.7x as often as at 4x; each marks what is live
 * concurrently, mostly off the main thread). Set at run time, since only these commands want it
 * (`read` ends, and its TUI holds a capture that no longer changes); V8 reads the flag at every
 * full collection when it sets the next limit.
 */
import v8 from 'node:v8';

/** The old generation's limit after a full collection: live size x (1 + this / 100). */
export const STREAMING_HEAP_GROWING_PERCENT = 100;

/** The V8 flag this sets (test/e2e/tap-heap-growth.test.ts checks this runtime has it). */
export const HEAP_GROWING_FLAG = '--heap-growing-percent';

/** For a process that streams entries without keeping them: see above. */
export function boundHeapGrowth(percent = STREAMING_HEAP_GROWING_PERCENT): void {
  v8.setFlagsFromString(`${HEAP_GROWING_FLAG}=${percent}`);
}
