/**
 * Test driver: opens a live capture (inside whatever network namespace it was started in), prints
 * `{"ready":true}`, summarises every frame until its stdin closes, then prints one JSON summary
 * line and exits. An open failure prints `{"error":{code,message,context}}` instead.
 *
 *   node test/helpers/live-capture-driver.ts '{"iface":"lo","marker":"abc"}'
 */
import { createHash } from 'node:crypto';
import { SharkError } from '../../src/model/errors.ts';
import type { Frame } from '../../src/remote-agent/source/frame.ts';
import { openLiveCapture } from '../../src/remote-agent/live/index.ts';

export interface DriverOptions {
  readonly iface: string;
  readonly ringBytes?: number;
  readonly initialRingBytes?: number;
  readonly blockTimeoutMs?: number;
  readonly initialBlockTimeoutMs?: number;
  /** Frames whose bytes contain this ASCII text are counted in `markerFrames`. */
  readonly marker?: string;
  /** Wait after stdin closes before the last drain (lets the retire timer hand over the last block). */
  readonly settleMs?: number;
  /** Busy-wait this long in the first frame's callback: the ring fills meanwhile, as for an agent kept off the CPU. */
  readonly stallOnFirstFrameMs?: number;
  /** Busy-wait this long in every frame's callback: a reader slower than the packets come, as an agent dissecting. */
  readonly costPerFrameUs?: number;
  /** Skip per-frame hashing and flow keys (for floods). */
  readonly countOnly?: boolean;
}

export interface DriverSummary {
  readonly frames: number;
  readonly tcp: number;
  readonly udp: number;
  /** IP frames carrying something other than TCP/UDP (ICMP...) */
  readonly otherIp: number;
  /** frames that do not start with an IPv4/IPv6 header */
  readonly notIp: number;
  readonly linkTypes: number[];
  readonly markerFrames: number;
  /** The n of every `<marker>-<n>` payload (UDP_SENDER's), in the order the frames came. */
  readonly markerSequence: number[];
  /** frames with identical bytes (a loopback packet seen twice would show here) */
  readonly duplicates: number;
  readonly maxCaptured: number;
  /** captured whole and longer than a 1500-byte MTU */
  readonly overMtuWhole: number;
  /** data shorter than the length on the wire */
  readonly truncated: number;
  /** "src>dst/proto" -> frames */
  readonly flows: Record<string, number>;
  readonly kernel: { packets: number; drops: number; freezes: number };
  readonly onFrameErrors: number;
  readonly corruptBlocks: number;
  /** The ring in use at the end, and the frames a move to a bigger ring handed out once instead of twice. */
  readonly ringBytes: number;
  readonly handoverCopies: number;
  readonly cpuUs: number;
}

function ipv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Uint8Array, at: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[at + i]! << 8) | b[at + i + 1]!).toString(16));
  return parts.join(':');
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as DriverOptions;
  const marker = options.marker === undefined ? null : new TextEncoder().encode(options.marker);
  const hashes = new Set<string>();
  const flows: Record<string, number> = {};
  const linkTypes = new Set<number>();
  const markerSequence: number[] = [];
  const counts = { frames: 0, tcp: 0, udp: 0, otherIp: 0, notIp: 0, markerFrames: 0, duplicates: 0, maxCaptured: 0, overMtuWhole: 0, truncated: 0 };

  const onFrame = (f: Frame): void => {
    counts.frames++;
    if (counts.frames === 1 && options.stallOnFirstFrameMs !== undefined) {
      const until = Date.now() + options.stallOnFirstFrameMs;
      while (Date.now() < until) {
        /* kept off the event loop on purpose */
      }
    }
    if (options.costPerFrameUs !== undefined) {
      const until = process.hrtime.bigint() + BigInt(Math.round(options.costPerFrameUs * 1000));
      while (process.hrtime.bigint() < until) {
        /* the per-frame work of a slow reader */
      }
    }
    if (options.countOnly) return;
    linkTypes.add(f.linkType);
    const d = f.data;
    counts.maxCaptured = Math.max(counts.maxCaptured, d.length);
    if (d.length > 1500 && d.length === f.origLen) counts.overMtuWhole++;
    if (d.length < f.origLen) counts.truncated++;
    const version = d.length > 0 ? d[0]! >> 4 : 0;
    let proto = -1;
    let key = '';
    if (version === 4 && d.length >= 20) {
      proto = d[9]!;
      key = `${ipv4(d, 12)}>${ipv4(d, 16)}`;
    } else if (version === 6 && d.length >= 40) {
      proto = d[6]!;
      key = `${ipv6(d, 8)}>${ipv6(d, 24)}`;
    }
    if (proto === 6) counts.tcp++;
    else if (proto === 17) counts.udp++;
    else if (proto >= 0) counts.otherIp++;
    else counts.notIp++;
    if (key !== '') flows[`${key}/${proto}`] = (flows[`${key}/${proto}`] ?? 0) + 1;
    const at = marker === null ? -1 : indexOf(d, marker);
    if (at >= 0) {
      counts.markerFrames++;
      const n = /^-(\d+)/.exec(new TextDecoder().decode(d.subarray(at + marker!.length, at + marker!.length + 16)));
      if (n !== null) markerSequence.push(Number(n[1]));
    }
    const hash = createHash('sha1').update(d).digest('base64');
    if (hashes.has(hash)) counts.duplicates++;
    hashes.add(hash);
  };

  let capture;
  try {
    capture = openLiveCapture({ iface: options.iface, ringBytes: options.ringBytes, initialRingBytes: options.initialRingBytes, blockTimeoutMs: options.blockTimeoutMs, initialBlockTimeoutMs: options.initialBlockTimeoutMs }, onFrame);
  } catch (err) {
    const e = err instanceof SharkError ? { code: err.code, message: err.message, context: err.context } : { code: 'UNEXPECTED', message: String(err), context: {} };
    process.stdout.write(`${JSON.stringify({ error: e })}\n`);
    return;
  }
  const cpuStart = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ready: true, linkType: capture.linkType })}\n`);
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once('end', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 150));
  capture.drain();
  const cpu = process.cpuUsage(cpuStart);
  const summary: DriverSummary = {
    ...counts,
    linkTypes: [...linkTypes],
    markerSequence,
    flows,
    kernel: { ...capture.kernelCounters() },
    onFrameErrors: capture.onFrameErrors,
    corruptBlocks: capture.corruptBlocks,
    ringBytes: capture.ringBytes,
    handoverCopies: capture.handoverCopies,
    cpuUs: cpu.user + cpu.system,
  };
  capture.close();
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
}

await main();
