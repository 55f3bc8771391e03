/**
 * Sessions of the hosted-PBX REST API (seed 003): `POST /rest/security/authorize`
 * trades a domain and an API key for a JSESSIONID cookie; every other /rest call
 * presents that cookie.
 *
 * - API keys are compared in constant time (SHA-256 digests, timingSafeEqual
 *   over every configured key).
 * - Sessions live in SQLite (`rest_sessions`) so a restart logs nobody out.
 *   Only the SHA-256 of a session id is stored, with the digest of the key
 *   that opened it: a key removed from the configuration ends its sessions.
 * - A session expires after `idleMs` without a request; the last-seen time is
 *   written at most once a minute per session, not on every request.
 * - Failed authorizations are limited per client address (a fixed window).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/index.js';

/** One configured API key; `ext` binds it to an operator (GET /rest/user/status). */
export interface RestKey {
  key: string;
  ext?: string | undefined;
}

export interface RestSession {
  domain: string;
  ext: string | null;
  createdAt: number;
}

export interface SessionOptions {
  keys: readonly RestKey[];
  /** expiry after this long without a request */
  idleMs: number;
  now?: () => number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const hex = (s: string): string => digest(s).toString('hex');
/** last_seen_at is rewritten only when it is older than this */
const TOUCH_EVERY_MS = 60_000;
/** a session id: 32 random bytes, hex (what the cookie carries) */
const SESSION_ID = /^[0-9a-f]{64}$/;

export class RestSessions {
  private readonly keys: Array<{ digest: Buffer; hash: string; ext: string | undefined }>;
  private readonly now: () => number;
  private readonly s: {
    add: Statement;
    get: Statement<[string], { key_hash: string; domain: string; ext: string | null; created_at: number; last_seen_at: number }>;
    touch: Statement;
    drop: Statement;
    expire: Statement;
  };

  constructor(
    db: Db,
    private readonly opts: SessionOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.keys = opts.keys.map((k) => ({ digest: digest(k.key), hash: digest(k.key).toString('hex'), ext: k.ext }));
    const c = db.$client;
    this.s = {
      add: c.prepare('INSERT INTO rest_sessions (id_hash, key_hash, domain, ext, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)'),
      get: c.prepare('SELECT key_hash, domain, ext, created_at, last_seen_at FROM rest_sessions WHERE id_hash = ?'),
      touch: c.prepare('UPDATE rest_sessions SET last_seen_at = ? WHERE id_hash = ?'),
      drop: c.prepare('DELETE FROM rest_sessions WHERE id_hash = ?'),
      expire: c.prepare('DELETE FROM rest_sessions WHERE last_seen_at < ?'),
    };
    // sessions of keys no longer configured end now
    const hashes = this.keys.map((k) => k.hash);
    c.prepare(`DELETE FROM rest_sessions WHERE key_hash NOT IN (${hashes.map(() => '?').join(',') || "''"})`).run(...hashes);
  }

  get configured(): boolean {
    return this.keys.length > 0;
  }

  /** The configured key this one is (constant time over all keys), or undefined. */
  private match(presented: string): { hash: string; ext: string | undefined } | undefined {
    const d = digest(presented);
    let found: { hash: string; ext: string | undefined } | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d) && !found) found = k;
    return found;
  }

  /**
   * Opens a session for a valid key and answers its id (the cookie value).
   * `anyKey` (no keys configured, loopback client) accepts whatever key is sent.
   */
  open(domain: string, apiKey: string, anyKey = false): string | undefined {
    const k = this.match(apiKey) ?? (anyKey && !this.configured ? { hash: hex(''), ext: undefined } : undefined);
    if (!k) return undefined;
    const id = randomBytes(32).toString('hex');
    const at = this.now();
    this.s.add.run(hex(id), k.hash, domain, k.ext ?? null, at, at);
    return id;
  }

  /** The live session of a cookie value, refreshed; undefined when unknown, expired or its key is gone. */
  check(id: string | undefined): RestSession | undefined {
    if (!id || !SESSION_ID.test(id)) return undefined;
    const h = hex(id);
    const row = this.s.get.get(h);
    if (!row) return undefined;
    const at = this.now();
    if (at - row.last_seen_at > this.opts.idleMs) {
      this.s.drop.run(h);
      return undefined;
    }
    if (at - row.last_seen_at >= TOUCH_EVERY_MS) this.s.touch.run(at, h);
    return { domain: row.domain, ext: row.ext, createdAt: row.created_at };
  }

  /** Deletes the expired sessions (run now and then). */
  sweep(): number {
    return this.s.expire.run(this.now() - this.opts.idleMs).changes;
  }
}

/** At most `max` failures per address per `windowMs`; the count starts again after the window. */
export class FailureLimiter {
  private readonly seen = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this address may try now. */
  allowed(addr: string): boolean {
    const e = this.seen.get(addr);
    if (!e) return true;
    if (this.now() - e.since >= this.windowMs) {
      this.seen.delete(addr);
      return true;
    }
    return e.count < this.max;
  }

  /** Seconds until the address may try again. */
  retryAfter(addr: string): number {
    const e = this.seen.get(addr);
    return e ? Math.max(1, Math.ceil((e.since + this.windowMs - this.now()) / 1000)) : 0;
  }

  failed(addr: string): void {
    const at = this.now();
    const e = this.seen.get(addr);
    if (!e || at - e.since >= this.windowMs) this.seen.set(addr, { count: 1, since: at });
    else e.count++;
    // bounded memory: drop the stale entries once the map grows
    if (this.seen.size > 10_000) for (const [k, v] of this.seen) if (at - v.since >= this.windowMs) this.seen.delete(k);
  }
}
