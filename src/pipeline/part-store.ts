/**
 * The side store of the TUI's entry store: bodies and other large strings of the entries held
 * (compact-codec.ts sends every string of LARGE_PART_CHARS or more here), bounded by bytes. When a
 * new part would pass the budget, the oldest parts are dropped first (and counted); a part larger
 * than the whole budget is dropped at once. The entry keeps the part's number and size, so the
 * detail pane can say what was dropped and why.
 */
import { NumberDeque } from './number-deque.ts';

/** Default budget: 256 MiB of bodies beside the compact rows. */
export const DEFAULT_MAX_PART_BYTES = 256 * 1024 * 1024;

export class PartStore {
  readonly #budget: number;
  readonly #parts = new Map<number, string>();
  /** Part numbers held, oldest first. */
  readonly #order = new NumberDeque();
  #next = 0;
  #bytes = 0;
  #dropped = 0;
  #droppedBytes = 0;

  constructor(budgetBytes = DEFAULT_MAX_PART_BYTES) {
    this.#budget = Math.max(0, Math.floor(budgetBytes));
  }

  get budgetBytes(): number {
    return this.#budget;
  }

  /** Bytes of the parts held now: never above budgetBytes. */
  get bytes(): number {
    return this.#bytes;
  }

  get held(): number {
    return this.#parts.size;
  }

  /** Parts dropped to stay within the budget (not those whose entry left the store). */
  get dropped(): number {
    return this.#dropped;
  }

  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** The number the next put() gives: parts below it were put before. */
  get nextId(): number {
    return this.#next;
  }

  /** Keeps `text` if it fits the budget (dropping older parts to make room); its number either way. */
  put(text: string): number {
    const id = this.#next++;
    const size = bytesOf(text);
    if (size > this.#budget) {
      this.#dropped++;
      this.#droppedBytes += size;
      return id;
    }
    while (this.#bytes + size > this.#budget && this.#order.length > 0) {
      const old = this.#order.shift()!;
      const oldText = this.#parts.get(old);
      if (oldText === undefined) continue;
      this.#parts.delete(old);
      this.#bytes -= bytesOf(oldText);
      this.#dropped++;
      this.#droppedBytes += bytesOf(oldText);
    }
    this.#parts.set(id, text);
    this.#order.push(id);
    this.#bytes += size;
    return id;
  }

  get(id: number): string | undefined {
    return this.#parts.get(id);
  }

  /** The entries that held parts below `id` have left the store: their parts go (not counted as dropped). */
  releaseBefore(id: number): void {
    while (this.#order.length > 0 && this.#order.front()! < id) {
      const old = this.#order.shift()!;
      const text = this.#parts.get(old);
      if (text === undefined) continue;
      this.#parts.delete(old);
      this.#bytes -= bytesOf(text);
    }
  }
}

/** What V8 spends on the characters: one byte each while all are Latin-1, else two. */
export function bytesOf(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return text.length * 2;
  return text.length;
}
