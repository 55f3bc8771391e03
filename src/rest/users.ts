/**
 * The operators as the hosted-PBX REST API's users (seed 003: id, ext,
 * displayName, email).
 *
 * - `id` is stable: an extension of plain digits (no leading zero) is its own
 *   id, as the phonet connector shows it; any other extension gets an id from
 *   `rest_user_ids`, counted from 10^12 up, kept forever.
 * - `displayName` is the configured name (CALLBRIDGE_REST_USERS), else the
 *   caller ID name Asterisk has for the endpoint (AMI `Getvar` of
 *   `PJSIP_ENDPOINT(<ext>,callerid)`, which FreePBX fills from the
 *   extension's display name), else the extension itself. Asterisk's answer
 *   is cached for 10 minutes.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/index.js';
import type { EndpointRow, PresenceStatus } from '../db/schema.js';

export interface RestUser {
  id: number;
  displayName: string;
  ext: string;
  email: string | null;
}

export interface UserSettings {
  users: Record<string, { displayName?: string | undefined; email?: string | undefined }>;
}

/** What the directory asks Asterisk: the callerid of a PJSIP endpoint (`"Name" <1000>`), or undefined. */
export type CallerIdSource = (ext: string) => Promise<string | undefined>;

const NAME_TTL_MS = 10 * 60_000;
const FIRST_ALLOCATED_ID = 1_000_000_000_000;

/** The name part of an Asterisk caller ID: `"Ivan" <1000>` → Ivan, `Ivan <1000>` → Ivan, `<1000>` / `1000` → undefined. */
export function callerIdName(callerid: string | undefined, ext: string): string | undefined {
  if (!callerid) return undefined;
  const t = callerid.trim();
  const m = /^"((?:[^"\\]|\\.)*)"\s*(?:<[^>]*>)?$/.exec(t) ?? /^([^<"]*?)\s*<[^>]*>$/.exec(t);
  const name = (m ? m[1]! : t).replace(/\\(.)/g, '$1').trim();
  if (!name || name === ext || /^<.*>$/.test(name) || name.toLowerCase() === '<unknown>') return undefined;
  return name;
}

/** Presence → /rest/user/status: 0 online (registered, free or talking), 1 offline or away (paused), 2 not monitored. */
export function restStatus(status: PresenceStatus | undefined): 0 | 1 | 2 {
  if (status === undefined) return 2;
  return status === 'online' || status === 'inuse' ? 0 : 1;
}

export class UserDirectory {
  private readonly names = new Map<string, { name: string | undefined; at: number }>();
  private readonly s: {
    idOf: Statement<[string], { id: number }>;
    byId: Statement<[number], { sip: string }>;
    maxId: Statement<[], { id: number | null }>;
    add: Statement;
  };

  constructor(
    db: Db,
    private readonly endpoints: () => readonly EndpointRow[],
    private readonly settings: UserSettings,
    private readonly callerId: CallerIdSource | undefined,
    private readonly now: () => number = Date.now,
  ) {
    const c = db.$client;
    this.s = {
      idOf: c.prepare('SELECT id FROM rest_user_ids WHERE sip = ?'),
      byId: c.prepare('SELECT sip FROM rest_user_ids WHERE id = ?'),
      maxId: c.prepare('SELECT max(id) AS id FROM rest_user_ids'),
      add: c.prepare('INSERT OR IGNORE INTO rest_user_ids (sip, id) VALUES (?, ?)'),
    };
  }

  /** The stable numeric id of an extension. */
  idOf(ext: string): number {
    if (/^[1-9]\d{0,14}$/.test(ext)) return Number(ext);
    const found = this.s.idOf.get(ext);
    if (found) return found.id;
    const next = Math.max(FIRST_ALLOCATED_ID, (this.s.maxId.get()?.id ?? 0) + 1);
    this.s.add.run(ext, next);
    return this.s.idOf.get(ext)!.id;
  }

  /** The extension an id stands for (either kind), or undefined. */
  extOf(id: number): string | undefined {
    if (id < FIRST_ALLOCATED_ID) return String(id);
    return this.s.byId.get(id)?.sip;
  }

  /** The user of an extension, from what is known now (no Asterisk round trip). */
  user(ext: string): RestUser {
    const conf = this.settings.users[ext];
    const learned = this.names.get(ext)?.name;
    return { id: this.idOf(ext), displayName: conf?.displayName ?? learned ?? ext, ext, email: conf?.email ?? null };
  }

  /** Every operator Asterisk reported, with names refreshed from Asterisk where they are stale. */
  async list(): Promise<RestUser[]> {
    const exts = [...new Set([...this.endpoints().map((e) => e.sip), ...Object.keys(this.settings.users)])].sort((a, b) =>
      a.localeCompare(b, 'en', { numeric: true }),
    );
    await this.refresh(exts);
    return exts.map((e) => this.user(e));
  }

  /** Asks Asterisk for the caller IDs not known or older than the cache time (a few at a time). */
  async refresh(exts: readonly string[]): Promise<void> {
    const source = this.callerId;
    if (!source) return;
    const at = this.now();
    const stale = exts.filter((e) => !this.settings.users[e]?.displayName && at - (this.names.get(e)?.at ?? -Infinity) > NAME_TTL_MS);
    for (let i = 0; i < stale.length; i += 8) {
      await Promise.all(
        stale.slice(i, i + 8).map(async (ext) => {
          try {
            this.names.set(ext, { name: callerIdName(await source(ext), ext), at });
          } catch {
            // Asterisk not reachable: keep what was known, ask again next time
          }
        }),
      );
    }
  }
}
