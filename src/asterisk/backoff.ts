/**
 * Capped exponential backoff with full jitter.
 *
 * delay(n) = random(min, min(max, base * 2^n)); the attempt counter is reset
 * by the caller after a connection has been stable.
 */
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
}
