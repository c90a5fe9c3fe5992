/** A CaptureSink for tests that copies what it is given (frames are views into parser buffers). */
import assert from 'node:assert/strict';
import { SharkError } from '../../src/model/errors.ts';
import type { CaptureSink, Frame, NameRecord } from '../../src/remote-agent/source/frame.ts';

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

/** The SharkError code `fn` throws; fails the test when it throws something else or nothing. */
export function sharkErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SharkError, `expected a SharkError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected an error');
}
