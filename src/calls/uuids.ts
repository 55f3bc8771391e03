/**
 * The stable uuid of each call (`outbox_calls`): made once, on first use, and
 * never changed, so the phonet connector's webhooks and the hosted-PBX REST
 * API name a call the same way. Shown as 32 lower-case hex digits (the seed's
 * form); both that form and the dashed one are accepted back.
 */
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/index.js';

/** 32 hex digits, dashes removed; undefined when the text is no uuid. */
export function normalizeUuid(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (/^[0-9a-f]{32}$/.test(t)) return t;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t)) return t.replaceAll('-', '');
  return undefined;
}

const dashed = (hex32: string): string =>
  `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;

export class CallUuids {
  private readonly s: {
    get: Statement<[number], { uuid: string }>;
    add: Statement;
    call: Statement<[string], { call_id: number }>;
  };

  constructor(db: Db) {
    const c = db.$client;
    this.s = {
      get: c.prepare('SELECT uuid FROM outbox_calls WHERE call_id = ?'),
      add: c.prepare('INSERT OR IGNORE INTO outbox_calls (call_id, uuid) VALUES (?, ?)'),
      call: c.prepare('SELECT call_id FROM outbox_calls WHERE uuid = ?'),
    };
  }

  /** The call's uuid as stored (dashed), made on first use. */
  stored(callId: number): string {
    let row = this.s.get.get(callId);
    if (!row) {
      this.s.add.run(callId, randomUUID());
      row = this.s.get.get(callId);
    }
    return row!.uuid;
  }

  /** The call's uuid as 32 hex digits, made on first use. */
  of(callId: number): string {
    return this.stored(callId).replaceAll('-', '');
  }

  /** The call a uuid names (either form), or undefined. */
  callOf(uuid: string): number | undefined {
    const hex = normalizeUuid(uuid);
    return hex ? this.s.call.get(dashed(hex))?.call_id : undefined;
  }
}
