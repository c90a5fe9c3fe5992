/**
 * The service-map facts of every entry the store holds (service-graph.ts EdgeFacts), by ring slot
 * in typed arrays: names as numbers into a table that counts their users and forgets a name with
 * its last entry (so hostile traffic with ever new addresses cannot grow it past what is held).
 * The map is rebuilt from these after a filter change, and an evicted entry leaves it through
 * them, without decoding any entry.
 */
import type { EdgeFacts, Outcome } from './service-graph.ts';

const OUTCOMES: readonly Outcome[] = ['answered', 'clientError', 'serverError', 'unanswered'];
const SAMPLED = 4;

/** Strings by number, each counted by the slots using it. */
class CountedNames {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];
  readonly #users: number[] = [];
  readonly #free: number[] = [];

  retain(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#free.pop() ?? this.#names.length;
      this.#names[id] = name;
      this.#users[id] = 0;
      this.#ids.set(name, id);
    }
    this.#users[id]!++;
    return id;
  }

  release(id: number): void {
    if (--this.#users[id]! > 0) return;
    this.#ids.delete(this.#names[id]!);
    this.#names[id] = '';
    this.#free.push(id);
  }

  name(id: number): string {
    return this.#names[id]!;
  }

  get size(): number {
    return this.#ids.size;
  }
}

export class EdgeFactColumns {
  readonly #names = new CountedNames();
  readonly #capacity: number;
  #from = new Uint32Array(0);
  #to = new Uint32Array(0);
  #fromNs = new Uint32Array(0);
  #toNs = new Uint32Array(0);
  #protocol = new Uint32Array(0);
  #flags = new Uint8Array(0);
  #elapsed = new Float64Array(0);

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Names referenced now (for the benchmark's bytes-per-entry account). */
  get names(): number {
    return this.#names.size;
  }

  /** Bytes of the columns. */
  get bytes(): number {
    return this.#from.length * (5 * 4 + 1 + 8);
  }

  set(slot: number, facts: EdgeFacts): void {
    if (slot >= this.#from.length) this.#grow(slot + 1);
    const n = this.#names;
    this.#from[slot] = n.retain(facts.from);
    this.#to[slot] = n.retain(facts.to);
    this.#fromNs[slot] = n.retain(facts.fromNamespace);
    this.#toNs[slot] = n.retain(facts.toNamespace);
    this.#protocol[slot] = n.retain(facts.protocol);
    this.#flags[slot] = OUTCOMES.indexOf(facts.outcome) | (facts.sampled ? SAMPLED : 0);
    this.#elapsed[slot] = facts.elapsedMs;
  }

  get(slot: number): EdgeFacts {
    const n = this.#names;
    const flags = this.#flags[slot]!;
    return {
      from: n.name(this.#from[slot]!),
      to: n.name(this.#to[slot]!),
      fromNamespace: n.name(this.#fromNs[slot]!),
      toNamespace: n.name(this.#toNs[slot]!),
      protocol: n.name(this.#protocol[slot]!),
      outcome: OUTCOMES[flags & 3]!,
      sampled: (flags & SAMPLED) !== 0,
      elapsedMs: this.#elapsed[slot]!,
    };
  }

  /** The slot's entry left: its names lose a user. */
  clear(slot: number): void {
    const n = this.#names;
    n.release(this.#from[slot]!);
    n.release(this.#to[slot]!);
    n.release(this.#fromNs[slot]!);
    n.release(this.#toNs[slot]!);
    n.release(this.#protocol[slot]!);
  }

  /** Storage doubles up to the ring's capacity, so a small session does not pay for a big ring. */
  #grow(atLeast: number): void {
    const size = Math.min(this.#capacity, Math.max(atLeast, 1024, this.#from.length * 2));
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old as never);
      return next;
    };
    this.#from = grow(this.#from, (k) => new Uint32Array(k));
    this.#to = grow(this.#to, (k) => new Uint32Array(k));
    this.#fromNs = grow(this.#fromNs, (k) => new Uint32Array(k));
    this.#toNs = grow(this.#toNs, (k) => new Uint32Array(k));
    this.#protocol = grow(this.#protocol, (k) => new Uint32Array(k));
    this.#flags = grow(this.#flags, (k) => new Uint8Array(k));
    this.#elapsed = grow(this.#elapsed, (k) => new Float64Array(k));
  }
}
