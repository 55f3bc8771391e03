/**
 * Capped exponential backoff with full jitter.
 *
 * delay(n) = random(min, min(max, base * 2^n)); the attempt counter is reset
 * by the caller after a connection has been stable.
 *
 * After a drop of a session that had been up for a while (`HEALED_SESSION_MS`),
 * `afterDrop` starts over and answers 0: the first reconnect is immediate, and
 * an earlier, healed drop never makes a later gap longer. A server that drops
 * the link right after the login keeps the growing delays.
 */

/** A session up at least this long counts as healed when it drops. */
export const HEALED_SESSION_MS = 500;

export interface BackoffOptions {
  /** first delay and lower bound, ms */
  minMs: number;
  /** cap, ms */
  maxMs: number;
  /** source of randomness, injectable for tests */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    if (opts.minMs <= 0 || opts.maxMs < opts.minMs) {
      throw new RangeError(`invalid backoff bounds ${opts.minMs}..${opts.maxMs}`);
    }
    this.random = opts.random ?? Math.random;
  }

  /** Delay before the next attempt; advances the attempt counter. */
  next(): number {
    const ceiling = Math.min(this.opts.maxMs, this.opts.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(this.opts.minMs + this.random() * (ceiling - this.opts.minMs));
  }

  /** Number of attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Delay before reconnecting after a logged-in session of `sessionMs` was lost. */
  afterDrop(sessionMs: number): number {
    if (sessionMs >= HEALED_SESSION_MS) {
      this.reset();
      return 0;
    }
    return this.next();
  }
}
