/**
 * Hand-made adversarial segment sequences for TcpAssembler, run in a worker by
 * reassembly-regressions.test.ts (see bounded-run.ts). Each returns what the handler saw.
 */
import type { TcpSegment } from '../../src/remote-agent/ip/packet.ts';
import { newCaptureStats } from '../../src/remote-agent/stats.ts';
import { TcpAssembler } from '../../src/remote-agent/tcp/assembler.ts';
import type { StreamFactory } from '../../src/remote-agent/tcp/stream.ts';

export interface ReassemblyOutcome {
  readonly delivered: number;
  readonly gaps: number;
  readonly closes: number;
  readonly bufferedAfterClose: number;
}

function harness(): { asm: TcpAssembler; out: { delivered: number; gaps: number; closes: number } } {
  const out = { delivered: 0, gaps: 0, closes: 0 };
  const factory: StreamFactory = {
    open: () => ({
      data: (_d, b) => {
        out.delivered += b.length;
      },
      gap: () => {
        out.gaps++;
      },
      end: () => {},
      close: () => {
        out.closes++;
      },
    }),
  };
  return { asm: new TcpAssembler(factory, newCaptureStats()), out };
}

function seg(seq: number, len: number, tsUs: number, flags = 0x18, fromServer = true): TcpSegment {
  return {
    tsUs,
    srcIp: fromServer ? '10.0.0.2' : '10.0.0.1',
    dstIp: fromServer ? '10.0.0.1' : '10.0.0.2',
    srcPort: fromServer ? 80 : 40000,
    dstPort: fromServer ? 40000 : 80,
    seq: seq >>> 0,
    ack: 1,
    flags,
    payload: new Uint8Array(len),
  };
}

/**
 * A segment exactly 2^31 ahead of the stream position (one flipped top bit of `seq`), then end
 * of capture. seqDiff is -2^31 both ways, so the segment is buffered as "ahead" but the flush
 * cannot skip to it.
 */
export function run(name: string): ReassemblyOutcome {
  const { asm, out } = harness();
  if (name === 'seq-2^31-away') {
    asm.segment(seg(1000, 10, 1));
    asm.segment(seg(1000 + 10 + 2 ** 31, 5, 2));
    asm.closeAll(3);
  } else if (name === 'tiny-segments-behind-a-hole') {
    // SYN, the first 3 bytes lost, then 200k four-byte segments with neighbours swapped:
    // 800 KB, under the default 4 MiB per-connection cap, so all of it is held behind the hole.
    const isn = 5000;
    asm.segment(seg(isn, 0, 1, 0x02, false));
    const n = 200_000;
    for (let i = 0; i < n; i += 2) {
      asm.segment(seg(isn + 4 + 4 * (i + 1), 4, 2 + i, 0x18, false));
      asm.segment(seg(isn + 4 + 4 * i, 4, 3 + i, 0x18, false));
    }
    asm.closeAll(n + 10);
  } else {
    throw new Error(`unknown case ${name}`);
  }
  return { ...out, bufferedAfterClose: asm.bufferedBytes };
}
