/**
 * SQLite access for the events API: CDRs (table cdrs), CRM events (table
 * crm_events), and how both find the tracked call they belong to.
 */
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { calls, cdrs, crmEvents, recordings, type CallRow, type CdrRow, type CrmEventRow } from '../db/schema.js';

/** Digits only, without a 7/8 trunk prefix on an 11-digit Russian number. */
export function phoneKey(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length === 11 && (digits[0] === '7' || digits[0] === '8') ? digits.slice(1) : digits;
}

/** ±2 minutes around call_at for a match by phone, extension and time. */
export const MATCH_WINDOW_MS = 2 * 60_000;
/** Without call_at: the newest call of the last hour. */
export const MATCH_RECENT_MS = 60 * 60_000;

export interface CallMatch {
  uniqueid?: string;
  linkedid?: string;
  phone?: string;
  extension?: string;
  callAt?: number;
}

export type NewCdr = Omit<typeof cdrs.$inferInsert, 'id' | 'callId'>;

export interface CdrRecording {
  path: string;
  servable: boolean;
  name: string;
  format: string;
  size: number | null;
  duration: number | null;
}

export type NewCrmEvent = Omit<typeof crmEvents.$inferInsert, 'id'>;

/** The CRM events of one order, oldest first (orderHistory's `events`). */
export function orderEvents(db: Db, orderId: string): CrmEventRow[] {
  return db.select().from(crmEvents).where(eq(crmEvents.orderId, orderId)).orderBy(asc(crmEvents.id)).all();
}

export class EventStore {
  private readonly byEventId;
  private readonly channelCall;
  private readonly byChannel;
  private readonly byLinkedid;
  private readonly bySipSince;
  private readonly setRecordingFile;
  private readonly recordingFor;
  private readonly lastApiPhone;

  constructor(readonly db: Db) {
    const c = db.$client;
    this.byEventId = c.prepare<[string], { id: number }>('SELECT id FROM cdrs WHERE event_id = ?');
    this.channelCall = c.prepare<[string], { call_id: number }>('SELECT call_id FROM call_channels WHERE uniqueid = ?');
    this.byChannel = c.prepare<[string, string, string], { id: number }>(
      'SELECT id FROM calls WHERE operator_channel = ? OR client_channel = ? OR linkedid = ? ORDER BY id DESC LIMIT 1',
    );
    this.byLinkedid = c.prepare<[string], { id: number }>('SELECT id FROM calls WHERE linkedid = ? ORDER BY id DESC LIMIT 1');
    this.bySipSince = c.prepare<[string, number, number], { id: number; phone: string | null; created_at: number }>(
      'SELECT id, phone, created_at FROM calls WHERE sip = ? AND created_at BETWEEN ? AND ? ORDER BY id DESC LIMIT 500',
    );
    this.setRecordingFile = c.prepare<[string, number]>(
      "UPDATE calls SET recording_file = CASE WHEN recording_file IS NULL OR recording_file = '' THEN ? ELSE recording_file END WHERE id = ?",
    );
    this.recordingFor = c.prepare<[number, string], { id: number }>('SELECT id FROM recordings WHERE call_id = ? AND file = ? LIMIT 1');
    this.lastApiPhone = c.prepare<[string], { phone: string }>(
      "SELECT phone FROM calls WHERE origin = 'api' AND order_id = ? AND phone IS NOT NULL AND phone <> '' ORDER BY id DESC LIMIT 1",
    );
  }

  cdr(id: number): CdrRow | undefined {
    return this.db.select().from(cdrs).where(eq(cdrs.id, id)).get();
  }

  cdrByEventId(eventId: string): CdrRow | undefined {
    const hit = this.byEventId.get(eventId);
    return hit ? this.cdr(hit.id) : undefined;
  }

  call(id: number): CallRow | undefined {
    return this.db.select().from(calls).where(eq(calls.id, id)).get();
  }

  /** A channel's call: call_channels first, then the channels and linkedid the call row carries. */
  callOfChannel(uniqueid: string): number | undefined {
    return this.channelCall.get(uniqueid)?.call_id ?? this.byChannel.get(uniqueid, uniqueid, uniqueid)?.id;
  }

  /**
   * The tracked call a CDR or event belongs to: by uniqueid, then by
   * linkedid, else by phone + extension + time (±2 min of call_at, the
   * closest; without call_at the newest of the last hour).
   */
  matchCall(m: CallMatch, now: number): number | undefined {
    if (m.uniqueid) {
      const id = this.callOfChannel(m.uniqueid);
      if (id !== undefined) return id;
    }
    if (m.linkedid) {
      const id = this.byLinkedid.get(m.linkedid)?.id ?? this.channelCall.get(m.linkedid)?.call_id;
      if (id !== undefined) return id;
    }
    if (!m.phone || !m.extension) return undefined;
    const key = phoneKey(m.phone);
    if (key === '') return undefined;
    const [from, to] = m.callAt !== undefined ? [m.callAt - MATCH_WINDOW_MS, m.callAt + MATCH_WINDOW_MS] : [now - MATCH_RECENT_MS, now];
    const candidates = this.bySipSince.all(m.extension, from, to).filter((r) => r.phone !== null && phoneKey(r.phone) === key);
    if (candidates.length === 0) return undefined;
    if (m.callAt === undefined) return candidates[0]!.id;
    const at = m.callAt;
    return candidates.reduce((best, r) => (Math.abs(r.created_at - at) < Math.abs(best.created_at - at) ? r : best)).id;
  }

  /**
   * Stores a CDR, linked to its call when one matches, in one transaction:
   * the call gains the recording path, and a recording row when the path is
   * servable and the call has none for that file. A CDR already stored under
   * the event id is returned instead (`created` false).
   */
  insertCdr(cdr: NewCdr, match: CallMatch, recording: CdrRecording | undefined, now: number): { row: CdrRow; created: boolean; recordingId: number | null } {
    return this.db.$client.transaction(() => {
      const existing = this.cdrByEventId(cdr.eventId);
      if (existing) return { row: existing, created: false, recordingId: null };
      const callId = this.matchCall(match, now) ?? null;
      const row = this.db
        .insert(cdrs)
        .values({ ...cdr, callId })
        .returning()
        .get();
      let recordingId: number | null = null;
      if (callId !== null && recording) {
        this.setRecordingFile.run(recording.path, callId);
        if (recording.servable) {
          recordingId = this.recordingFor.get(callId, recording.path)?.id ?? null;
          if (recordingId === null) {
            const call = this.call(callId);
            recordingId = this.db
              .insert(recordings)
              .values({
                callId,
                orderId: call?.orderId ?? null,
                name: recording.name,
                file: recording.path,
                format: recording.format,
                size: recording.size,
                duration: recording.duration,
                startedAt: call?.answeredAt ?? call?.clientAnswerAt ?? cdr.callAt ?? now,
                endedAt: call?.endedAt ?? now,
              })
              .returning({ id: recordings.id })
              .get().id;
          }
        }
      }
      return { row, created: true, recordingId };
    })();
  }

  insertEvent(e: NewCrmEvent): CrmEventRow {
    return this.db.insert(crmEvents).values(e).returning().get();
  }

  /** The phone the latest makeCall of an order dialled. */
  lastOrderPhone(orderId: string): string | undefined {
    return this.lastApiPhone.get(orderId)?.phone;
  }
}
