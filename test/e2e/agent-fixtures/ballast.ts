/**
 * The memory-hungry part of the "app" in the OOM tests, run in the app's cgroup:
 *   node ballast.ts TARGET_MB [STEP_MB=4] [STEP_MS=50]
 * Grows its heap-free memory (Buffers whose every page is written, so the kernel charges them) by
 * STEP_MB every STEP_MS until it holds TARGET_MB, then holds it. Prints "held N" after each step and
 * "reached N" once, so a test can tell how far it got before anything was killed.
 */
const MiB = 1024 * 1024;
const target = Number(process.argv[2] ?? '64');
const step = Number(process.argv[3] ?? '4');
const everyMs = Number(process.argv[4] ?? '50');
const held: Buffer[] = [];
let heldMb = 0;

const timer = setInterval(() => {
  if (heldMb >= target) {
    clearInterval(timer);
    process.stdout.write(`reached ${heldMb}\n`);
    return;
  }
  const mb = Math.min(step, target - heldMb);
  // Non-zero fill: every page is touched (a zero-filled allocation may stay unbacked).
  held.push(Buffer.alloc(mb * MiB, 0x5a));
  heldMb += mb;
  process.stdout.write(`held ${heldMb}\n`);
}, everyMs);

// Keeps running (and holding) until killed.
setInterval(() => held.length, 60_000);
