/**
 * Whether the API server answers, for a whole tap. Exec streams, watches and pod retries all die
 * with it, so none of them may treat an outage as its own failure (a pod given up after its five
 * retries while the API server restarts is a pod lost for good). Whoever finds it unreachable
 * reports it here and waits; one probe, a list of at most one pod, retries with capped backoff,
 * and only its answer ends the outage: a TCP connect alone, or a gateway's 503, does not.
 */
import { SharkError } from '../model/errors.ts';
import { apiFailure, isApiUnreachable, networkCode } from './api-errors.ts';

export interface ApiOutage {
  /** When the first request went unanswered (ms since the epoch). */
  readonly sinceMs: number;
  /** The latest failure in a word or two ("ECONNREFUSED", "HTTP 503"). */
  readonly reason: string;
}

export interface ApiHealthEvents {
  /** The API server stopped answering (once per outage). */
  unreachable(outage: ApiOutage): void;
  /** While it is down, about once a second and at each try: the time to the next try. */
  waiting?(outage: ApiOutage, retryInMs: number): void;
  /** A list was answered again after `downMs`. */
  resumed(outage: ApiOutage, downMs: number): void;
}

export interface ApiHealthOptions {
  /** The first retry's delay; each next one doubles, up to maxDelayMs. */
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  /** How often `waiting` is told while down. */
  readonly tickMs?: number;
}

export const API_RETRY_FIRST_MS = 1000;
/** A restarted API server is found within this long, and a dead one is asked no more often. */
export const API_RETRY_MAX_MS = 8000;

/** Why, in a word or two: the errno-like code or the HTTP status, else the message's first line. */
function reasonOf(err: unknown): string {
  const net = networkCode(err);
  if (net !== null) return net;
  const status = apiFailure(err)?.httpStatus ?? (err instanceof SharkError ? err.context['status'] : undefined);
  if (status !== undefined) return `HTTP ${status}`;
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? '';
}

export class ApiHealth {
  readonly #probe: () => Promise<void>;
  readonly #events: ApiHealthEvents;
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #tickMs: number;
  #outage: ApiOutage | null = null;
  #delayMs = 0;
  #retryAtMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];
  #stopped = false;

  constructor(probe: () => Promise<void>, events: ApiHealthEvents, options: ApiHealthOptions = {}) {
    this.#probe = probe;
    this.#events = events;
    this.#firstMs = options.firstDelayMs ?? API_RETRY_FIRST_MS;
    this.#maxMs = options.maxDelayMs ?? API_RETRY_MAX_MS;
    this.#tickMs = options.tickMs ?? 1000;
  }

  /** The current outage, or null while the API server answers. */
  get outage(): ApiOutage | null {
    return this.#outage;
  }

  get isDown(): boolean {
    return this.#outage !== null;
  }

  /**
   * A request failed. Failures that are not an outage (a 403, a 404, bad input) are none of this
   * object's business and are ignored; returns whether it was one (the caller then waits on whenUp).
   */
  failed(err: unknown): boolean {
    if (!isApiUnreachable(err)) return false;
    if (this.#stopped) return true;
    if (this.#outage === null) {
      this.#outage = { sinceMs: Date.now(), reason: reasonOf(err) };
      this.#delayMs = this.#firstMs;
      this.#events.unreachable(this.#outage);
      this.#ticker = setInterval(() => this.#tell(), this.#tickMs);
      this.#ticker.unref();
      this.#schedule();
    }
    return true;
  }

  /** A list or watch was answered: the outage, if any, is over. */
  succeeded(): void {
    const outage = this.#outage;
    if (outage === null) return;
    this.#outage = null;
    clearTimeout(this.#timer);
    clearInterval(this.#ticker);
    this.#events.resumed(outage, Date.now() - outage.sinceMs);
    this.#release();
  }

  /** Resolves once the API server answers again (at once when it does, or after stop()). */
  whenUp(): Promise<void> {
    if (this.#outage === null || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** No more probes; whoever waits is let go (and finds the tap stopping). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#ticker);
    this.#release();
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #tell(): void {
    if (this.#outage !== null) this.#events.waiting?.(this.#outage, Math.max(0, this.#retryAtMs - Date.now()));
  }

  #schedule(): void {
    if (this.#stopped || this.#outage === null) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(delay * 2, this.#maxMs);
    this.#retryAtMs = Date.now() + delay;
    this.#tell();
    this.#timer = setTimeout(() => void this.#try(), delay);
  }

  async #try(): Promise<void> {
    try {
      await this.#probe();
    } catch (err) {
      // Any failure keeps the outage (an answer with an error is no answered list); the reason follows it.
      if (this.#outage !== null) this.#outage = { ...this.#outage, reason: reasonOf(err) };
      this.#schedule();
      return;
    }
    this.succeeded();
  }
}
