/**
 * SQLite access for calls, their status chains and recordings. Every status
 * is written in the same transaction as the call row it moves, before anyone
 * is told about it.
 */
import { and, asc, count, desc, eq, gt, inArray } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { callStatuses, calls, recordings, type CallRow, type CallStatusRow, type RecordingRow } from '../db/schema.js';
import type { CallStatus, StatusStep } from './chain.js';
import { FINAL_STATUSES } from './chain.js';

export type NewCall = Pick<typeof calls.$inferInsert, 'externalKey' | 'requestFingerprint' | 'orderId' | 'sip' | 'phone' | 'control' | 'origin' | 'direction'>;

/** Columns a call event may fill in (leg times, channels, cause). */
export type CallPatch = Partial<
  Pick<
    CallRow,
    | 'linkedid'
    | 'operatorChannel'
    | 'clientChannel'
    | 'bridgeId'
    | 'operatorRingAt'
    | 'operatorAnswerAt'
    | 'clientRingAt'
    | 'clientAnswerAt'
    | 'endedAt'
    | 'billsec'
    | 'hangupCause'
    | 'hangupCauseText'
  >
>;

export class CallStore {
  constructor(readonly db: Db) {}

  /** Inserts a call and its first status(es) in one transaction. */
  create(call: NewCall, first: readonly StatusStep[], at: number): CallRow {
    return this.db.transaction((tx) => {
      const last = first.at(-1)!.status;
      const final = FINAL_STATUSES.has(last);
      const row = tx
        .insert(calls)
        .values({ ...call, status: last, final, createdAt: at, ...(final ? { endedAt: at, billsec: 0 } : {}) })
        .returning()
        .get();
      tx.insert(callStatuses)
        .values(first.map((s) => ({ callId: row.id, orderId: row.orderId, status: s.status, time: at, details: s.details as Record<string, unknown> })))
        .run();
      return row;
    });
  }

  byExternalKey(key: string): CallRow | undefined {
    return this.db.select().from(calls).where(eq(calls.externalKey, key)).get();
  }

  get(id: number): CallRow | undefined {
    return this.db.select().from(calls).where(eq(calls.id, id)).get();
  }

  /** Calls without a final status yet (for reconciliation). */
  open(): CallRow[] {
    return this.db.select().from(calls).where(eq(calls.final, false)).orderBy(asc(calls.id)).all();
  }

  /** Appends statuses and patches the call row, atomically. */
  advance(id: number, steps: readonly StatusStep[], at: number, patch: CallPatch): void {
    this.db.transaction((tx) => {
      const row = tx.select({ orderId: calls.orderId }).from(calls).where(eq(calls.id, id)).get();
      if (!row) throw new Error(`no call ${id}`);
      if (steps.length > 0) {
        tx.insert(callStatuses)
          .values(steps.map((s) => ({ callId: id, orderId: row.orderId, status: s.status, time: at, details: s.details as Record<string, unknown> })))
          .run();
      }
      const last = steps.at(-1)?.status as CallStatus | undefined;
      const set: Partial<CallRow> = { ...patch };
      if (last) {
        set.status = last;
        if (FINAL_STATUSES.has(last)) set.final = true;
      }
      if (Object.keys(set).length > 0) tx.update(calls).set(set).where(eq(calls.id, id)).run();
    });
  }

  chain(callId: number): CallStatusRow[] {
    return this.db.select().from(callStatuses).where(eq(callStatuses.callId, callId)).orderBy(asc(callStatuses.id)).all();
  }

  orderChain(orderId: string): CallStatusRow[] {
    return this.db.select().from(callStatuses).where(eq(callStatuses.orderId, orderId)).orderBy(asc(callStatuses.id)).all();
  }

  orderCalls(orderId: string): CallRow[] {
    return this.db.select().from(calls).where(eq(calls.orderId, orderId)).orderBy(asc(calls.id)).all();
  }

  /** Newest statuses first, a page at a time. */
  latestStatuses(page: number, perPage: number): { rows: CallStatusRow[]; maxId: number } {
    const rows = this.db
      .select()
      .from(callStatuses)
      .orderBy(desc(callStatuses.id))
      .limit(perPage)
      .offset((page - 1) * perPage)
      .all();
    const maxId = this.db.select({ id: callStatuses.id }).from(callStatuses).orderBy(desc(callStatuses.id)).limit(1).get()?.id ?? 0;
    return { rows, maxId };
  }

  /** Statuses after a cursor, oldest first (real-time polling). */
  statusesSince(sinceId: number, limit: number): CallStatusRow[] {
    return this.db.select().from(callStatuses).where(gt(callStatuses.id, sinceId)).orderBy(asc(callStatuses.id)).limit(limit).all();
  }

  startRecording(r: { callId: number; orderId: string | null; name: string; file: string; format: string; startedAt: number }): RecordingRow {
    return this.db.insert(recordings).values(r).returning().get();
  }

  finishRecording(callId: number, name: string, r: { size: number | null; duration: number | null; endedAt: number }): RecordingRow | undefined {
    return this.db
      .update(recordings)
      .set(r)
      .where(and(eq(recordings.callId, callId), eq(recordings.name, name)))
      .returning()
      .get();
  }

  recording(id: number): RecordingRow | undefined {
    return this.db.select().from(recordings).where(eq(recordings.id, id)).get();
  }

  recordingsOf(callIds: readonly number[]): RecordingRow[] {
    if (callIds.length === 0) return [];
    return this.db.select().from(recordings).where(inArray(recordings.callId, [...callIds])).orderBy(asc(recordings.id)).all();
  }

  /** Recordings newest first, with their call. */
  listRecordings(page: number, perPage: number): { total: number; rows: Array<{ recording: RecordingRow; call: CallRow }> } {
    const total = this.db.select({ n: count() }).from(recordings).get()?.n ?? 0;
    const rows = this.db
      .select({ recording: recordings, call: calls })
      .from(recordings)
      .innerJoin(calls, eq(calls.id, recordings.callId))
      .orderBy(desc(recordings.id))
      .limit(perPage)
      .offset((page - 1) * perPage)
      .all();
    return { total, rows };
  }
}
