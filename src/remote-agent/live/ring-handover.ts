/**
 * Moving a live capture from one packet socket to another without losing or repeating a frame
 * (the ring grows by opening a second, bigger socket: live-capture.ts).
 *
 * Every packet socket bound to an interface gets its own copy of every packet. So from the moment
 * the new socket is bound until the old one stops receiving, each frame lands in both rings: the
 * old ring ends with them, the new ring starts with them. The old ring is read to its end first;
 * each of its frames read during the hand-over is remembered (a copy: the ring slot is reused);
 * then, among the new ring's first frames (at most `window`: those the kernel had counted for it
 * when the old ring was finished), a frame equal to one remembered is the same packet seen twice
 * and is skipped. Equal means the same bytes and the same length on the wire (timestamps may
 * differ: each socket stamps its copy). Each remembered frame cancels at most one frame, so two
 * packets that really were identical, both seen by both sockets, are both kept once.
 */
import type { Frame } from '../source/frame.ts';

interface Remembered {
  readonly data: Uint8Array;
  readonly origLen: number;
}

export class HandoverOverlap {
  readonly #remembered = new Map<number, Remembered[]>();
  #rememberedCount = 0;
  #window = 0;
  #skipped = 0;
  #sealed = false;

  /** Frames remembered from the old ring and not yet matched. */
  get pending(): number {
    return this.#rememberedCount;
  }

  /** Frames of the new ring skipped as copies of old-ring frames. */
  get skipped(): number {
    return this.#skipped;
  }

  /** A frame read from the old ring during the hand-over (before seal()). */
  remember(frame: Frame): void {
    if (this.#sealed) throw new Error('HandoverOverlap: remember() after seal()');
    const key = frameKey(frame);
    const copy: Remembered = { data: frame.data.slice(), origLen: frame.origLen };
    const list = this.#remembered.get(key);
    if (list === undefined) this.#remembered.set(key, [copy]);
    else list.push(copy);
    this.#rememberedCount++;
  }

  /** The old ring is finished; the new ring's first `window` frames may repeat it. */
  seal(window: number): void {
    this.#sealed = true;
    this.#window = window;
  }

  /** True while frames of the new ring still have to go through isCopy(). */
  get active(): boolean {
    return this.#sealed && this.#window > 0 && this.#rememberedCount > 0;
  }

  /** For each frame of the new ring, in ring order: true when it repeats a remembered frame. */
  isCopy(frame: Frame): boolean {
    if (!this.active) return false;
    this.#window--;
    const key = frameKey(frame);
    const list = this.#remembered.get(key);
    if (list !== undefined) {
      const at = list.findIndex((r) => r.origLen === frame.origLen && sameBytes(r.data, frame.data));
      if (at >= 0) {
        list.splice(at, 1);
        if (list.length === 0) this.#remembered.delete(key);
        this.#rememberedCount--;
        this.#skipped++;
        if (this.#window === 0 || this.#rememberedCount === 0) this.#release();
        return true;
      }
    }
    if (this.#window === 0) this.#release();
    return false;
  }

  /** Past the window nothing can repeat: the copies are garbage. */
  #release(): void {
    this.#remembered.clear();
    this.#rememberedCount = 0;
    this.#window = 0;
  }
}

/** FNV-1a over the captured bytes, mixed with the length on the wire; equality is checked byte for byte. */
function frameKey(frame: Frame): number {
  const data = frame.data;
  let h = 0x811c9dc5 ^ frame.origLen;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
