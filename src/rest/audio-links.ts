/**
 * Links to a call's recording (`audioRecUrl`): `/rest/public/calls/{uuid}/audio`
 * with `expires` (epoch ms) and `sig`, an HMAC-SHA256 of the uuid and the
 * expiry under a key the daemon makes once and keeps in SQLite (so links
 * survive restarts). Such a link works without a session until it expires;
 * the bare path works only with a session cookie. The call's uuid is random
 * (122 bits), the signature 128 bits: neither can be guessed, and no
 * sequential id ever appears in the path.
 *
 * Expiries are rounded up to the hour, so the same call gives the same link
 * for an hour (CRMs and browsers can cache it).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/index.js';

const HOUR_MS = 3_600_000;
const KEY_NAME = 'rest_audio_link_key';

export class AudioLinks {
  private readonly key: Buffer;

  constructor(
    db: Db,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    const c = db.$client;
    c.prepare('INSERT OR IGNORE INTO daemon_state (key, value) VALUES (?, ?)').run(KEY_NAME, randomBytes(32).toString('hex'));
    const row = c.prepare<[string], { value: string }>('SELECT value FROM daemon_state WHERE key = ?').get(KEY_NAME)!;
    this.key = Buffer.from(row.value, 'hex');
  }

  private sig(uuid: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${uuid}\n${expires}`).digest('hex').slice(0, 32);
  }

  /** The signed path and query of a call's recording (uuid as 32 hex digits). */
  path(uuid: string): string {
    const expires = Math.ceil((this.now() + this.ttlMs) / HOUR_MS) * HOUR_MS;
    return `/rest/public/calls/${uuid}/audio?expires=${expires}&sig=${this.sig(uuid, expires)}`;
  }

  /** Whether `expires` and `sig` are a valid, unexpired signature of the uuid. */
  valid(uuid: string, expires: string | undefined, sig: string | undefined): boolean {
    if (!expires || !sig || !/^\d{1,16}$/.test(expires) || !/^[0-9a-f]{32}$/.test(sig)) return false;
    const at = Number(expires);
    if (at < this.now()) return false;
    return timingSafeEqual(Buffer.from(this.sig(uuid, at)), Buffer.from(sig));
  }
}
