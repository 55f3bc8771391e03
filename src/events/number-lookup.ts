/**
 * getNumberFromId: masked identifiers (`+<order>s<client>`,
 * `+<contract>d<index>`) → a dialable number in the form 89001234567.
 * The daemon's own records first; otherwise the CRM look-up URL
 * (CALLBRIDGE_NUMBER_LOOKUP_URL), asked with a short timeout, its answers
 * (found and not found) cached for a minute. A failed or slow look-up counts
 * as not found and is not cached.
 */
import type { Logger } from '../log.js';

export interface NumberId {
  /** normalized, with the leading "+" */
  id: string;
  kind: 's' | 'd';
  /** order id (s) or contract number (d) */
  first: string;
  /** client id (s) or index of the phone in the contract's list (d) */
  second: string;
}

/** A leading space stands for a "+" the client did not URL-encode. */
export function parseNumberId(v: string): NumberId | undefined {
  const m = /^[+ ]?(\d{1,20})([sd])(\d{1,20})$/.exec(v);
  if (!m) return undefined;
  const kind = m[2] as 's' | 'd';
  return { id: `+${m[1]}${kind}${m[3]}`, kind, first: m[1]!, second: m[3]! };
}

const NUMBER = /^\+?\d{3,20}$/;

/** 11 digits starting with 7 (also +7…) → leading 8; anything else: its digits. */
export function dialable(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length === 11 && digits[0] === '7' ? `8${digits.slice(1)}` : digits;
}

export interface NumberLookupOptions {
  url: string | undefined;
  log: Logger;
  timeoutMs?: number;
  cacheMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Outcome = { kind: 'found'; number: string } | { kind: 'absent' } | { kind: 'failed' };

export class NumberLookup {
  private readonly cache = new Map<string, { number: string | null; until: number }>();
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** origin and path only: a token in the query string is never logged */
  private readonly shownUrl: string | undefined;

  constructor(private readonly opts: NumberLookupOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.cacheMs = opts.cacheMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
    if (opts.url) {
      const u = new URL(opts.url);
      this.shownUrl = `${u.origin}${u.pathname}`;
    }
  }

  get configured(): boolean {
    return this.opts.url !== undefined;
  }

  /** The CRM's number for an identifier (as stored by the CRM, not yet dialable), or null. */
  async lookup(id: string): Promise<string | null> {
    if (!this.opts.url) return null;
    const hit = this.cache.get(id);
    if (hit && hit.until > this.now()) return hit.number;
    if (hit) this.cache.delete(id);
    const pending = this.inFlight.get(id);
    if (pending) return pending;
    const p = this.ask(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private async ask(id: string): Promise<string | null> {
    const outcome = await this.fetchOutcome(id);
    if (outcome.kind === 'failed') return null;
    const number = outcome.kind === 'found' ? outcome.number : null;
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, { number, until: this.now() + this.cacheMs });
    return number;
  }

  private async fetchOutcome(id: string): Promise<Outcome> {
    const url = new URL(this.opts.url!);
    url.searchParams.set('number', id);
    const warn = (problem: string) => {
      this.opts.log.warn({ url: this.shownUrl, number: id, problem }, 'number look-up failed');
      return { kind: 'failed' } as const;
    };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json, text/plain' } });
      if (res.status === 404) {
        await res.body?.cancel();
        return { kind: 'absent' };
      }
      if (!res.ok) {
        await res.body?.cancel();
        return warn(`HTTP ${res.status}`);
      }
      const body = (await res.text()).trim();
      if (body === '') return { kind: 'absent' };
      let value: unknown = body;
      if (body.startsWith('{')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return warn('the answer is not valid JSON');
        }
        const o = parsed as Record<string, unknown>;
        value = o.number ?? o.phone ?? null;
        if (value === null || value === '') return { kind: 'absent' };
      }
      const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
      if (text === undefined || !NUMBER.test(text)) return warn('the answer is not a phone number');
      return { kind: 'found', number: text };
    } catch (err) {
      const e = err as Error;
      return warn(e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${this.timeoutMs} ms` : e.message);
    }
  }
}
