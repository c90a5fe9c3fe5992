/** A CaptureSink for tests that copies what it is given (frames are views into parser buffers). */
import type { CaptureSink, Frame, NameRecord } from './frame.ts';

export interface SeenFrame {
  readonly tsUs: number;
  readonly linkType: number;
  readonly data: number[];
  readonly origLen: number;
}

export class RecordingSink implements CaptureSink {
  readonly frames: SeenFrame[] = [];
  readonly nameRecords: NameRecord[] = [];

  frame(f: Frame): void {
    this.frames.push({ tsUs: f.tsUs, linkType: f.linkType, data: Array.from(f.data), origLen: f.origLen });
  }

  names(r: NameRecord): void {
    this.nameRecords.push({ ip: r.ip, names: [...r.names] });
  }
}
