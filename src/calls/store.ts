/**
 * SQLite access for calls, their status chains and recordings. Every status
 * is written in the same transaction as the call row it moves, before anyone
 * is told about it.
 */
import { and, asc, count, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
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
    | 'direction'
    | 'sip'
    | 'phone'
    | 'did'
    | 'answeredAt'
    | 'recordingFile'
    | 'operators'
    | 'transfers'
    | 'legs'
  >
>;

/** CallPatch keys and their columns. */
const PATCH_COLUMNS: Readonly<Record<keyof CallPatch, string>> = {
  linkedid: 'linkedid',
  operatorChannel: 'operator_channel',
  clientChannel: 'client_channel',
  bridgeId: 'bridge_id',
  operatorRingAt: 'operator_ring_at',
  operatorAnswerAt: 'operator_answer_at',
  clientRingAt: 'client_ring_at',
  clientAnswerAt: 'client_answer_at',
  endedAt: 'ended_at',
  billsec: 'billsec',
  hangupCause: 'hangup_cause',
  hangupCauseText: 'hangup_cause_text',
  direction: 'direction',
  sip: 'sip',
  phone: 'phone',
  did: 'did',
  answeredAt: 'answered_at',
  recordingFile: 'recording_file',
  operators: 'operators',
  transfers: 'transfers',
  legs: 'legs',
};

/** JSON columns: stored as text. */
const JSON_PATCH: ReadonlySet<string> = new Set(['operators', 'transfers', 'legs']);

export class CallStore {
  // The hot-path statements are prepared once (drizzle would build and prepare them per call otherwise).
  private readonly byId;
  private readonly insertStatus;
  private readonly openForSip;
  private readonly patchCall;
  private readonly advanceTx;
  private readonly insertChannel;
  private readonly byLinkedidStmt;

  constructor(readonly db: Db) {
    this.byId = db.select().from(calls).where(eq(calls.id, sql.placeholder('id'))).prepare();
    this.insertStatus = db
      .insert(callStatuses)
      .values({
        callId: sql.placeholder('callId'),
        orderId: sql.placeholder('orderId'),
        status: sql.placeholder('status'),
        time: sql.placeholder('time'),
        details: sql.placeholder('details'),
      })
      .prepare();
    this.openForSip = db
      .select({ id: calls.id })
      .from(calls)
      .where(and(eq(calls.final, false), eq(calls.sip, sql.placeholder('sip'))))
      .limit(1)
      .prepare();
    // One statement for every patch: a column not in the patch (NULL) keeps its value.
    const cols = Object.entries(PATCH_COLUMNS).map(([key, col]) => `${col} = COALESCE(@${key}, ${col})`);
    this.patchCall = db.$client.prepare(
      `UPDATE calls SET status = COALESCE(@status, status), final = MAX(final, @final), ${cols.join(', ')} WHERE id = @id`,
    );
    this.insertChannel = db.$client.prepare('INSERT OR IGNORE INTO call_channels (uniqueid, call_id, channel) VALUES (?, ?, ?)');
    this.byLinkedidStmt = db.select().from(calls).where(eq(calls.linkedid, sql.placeholder('linkedid'))).orderBy(asc(calls.id)).prepare();
    // better-sqlite3's own transaction wrapper: the cheapest BEGIN/COMMIT around the hot path.
    this.advanceTx = db.$client.transaction((id: number, steps: readonly StatusStep[], at: number, patch: CallPatch) => {
      const row = this.byId.get({ id });
      if (!row) throw new Error(`no call ${id}`);
      for (const s of steps) {
        this.insertStatus.run({ callId: id, orderId: row.orderId, status: s.status, time: at, details: s.details });
      }
      const last = steps.at(-1)?.status as CallStatus | undefined;
      const params: Record<string, string | number | null> = { id, status: last ?? null, final: last && FINAL_STATUSES.has(last) ? 1 : 0 };
      for (const key of Object.keys(PATCH_COLUMNS)) {
        const v = patch[key as keyof CallPatch] ?? null;
        params[key] = v !== null && JSON_PATCH.has(key) ? JSON.stringify(v) : (v as string | number | null);
      }
      this.patchCall.run(params);
    });
  }

  /** Inserts a call and its first status(es) in one transaction. */
  create(call: NewCall, first: readonly StatusStep[], at: number): CallRow {
    return this.db.transaction((tx) => {
      const last = first.at(-1)!.status;
      const final = FINAL_STATUSES.has(last);
      const row = tx
        .insert(calls)
        .values({ ...call, direction: call.direction ?? 'outgoing', status: last, final, createdAt: at, ...(final ? { endedAt: at, billsec: 0 } : {}) })
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
    return this.byId.get({ id });
  }

  /** Whether an operator already has a call of ours that has not ended. */
  hasOpenCall(sip: string): boolean {
    return this.openForSip.get({ sip }) !== undefined;
  }

  /** Calls without a final status yet (for reconciliation); click-to-calls only unless `origin` says otherwise. */
  open(origin: 'api' | 'pbx' = 'api'): CallRow[] {
    return this.db.select().from(calls).where(and(eq(calls.final, false), eq(calls.origin, origin))).orderBy(asc(calls.id)).all();
  }

  /** Calls carrying this linkedid (a click-to-call once its operator leg exists, a PBX call from its start). */
  byLinkedid(linkedid: string): CallRow[] {
    return this.byLinkedidStmt.all({ linkedid });
  }

  /** Remembers which Asterisk channels belong to a call (for CDRs and events that name a channel). */
  addChannels(callId: number, channels: ReadonlyArray<{ uniqueid: string; channel: string }>): void {
    if (channels.length === 0) return;
    this.db.$client.transaction(() => {
      for (const c of channels) this.insertChannel.run(c.uniqueid, callId, c.channel);
    })();
  }

  /**
   * Every call newest first, a page at a time with a keyset cursor
   * (`beforeId`): the same cost on any page.
   */
  listCalls(
    filter: { direction?: string; sip?: string; phones?: readonly string[]; status?: string; from?: number; to?: number; origin?: string },
    perPage: number,
    beforeId?: number,
  ): CallRow[] {
    const where = [];
    if (beforeId !== undefined) where.push(lt(calls.id, beforeId));
    if (filter.direction) where.push(eq(calls.direction, filter.direction as CallRow['direction']));
    if (filter.origin) where.push(eq(calls.origin, filter.origin as CallRow['origin']));
    if (filter.status) where.push(eq(calls.status, filter.status));
    if (filter.from !== undefined) where.push(sql`${calls.createdAt} >= ${filter.from}`);
    if (filter.to !== undefined) where.push(sql`${calls.createdAt} <= ${filter.to}`);
    if (filter.phones && filter.phones.length > 0) where.push(inArray(calls.phone, [...filter.phones]));
    if (filter.sip) {
      where.push(sql`(${calls.sip} = ${filter.sip} OR EXISTS (SELECT 1 FROM json_each(${calls.operators}) WHERE json_each.value = ${filter.sip}))`);
    }
    return this.db
      .select()
      .from(calls)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(desc(calls.id))
      .limit(perPage)
      .all();
  }

  /** Appends statuses and patches the call row, atomically. */
  advance(id: number, steps: readonly StatusStep[], at: number, patch: CallPatch): void {
    this.advanceTx(id, steps, at, patch);
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

  /**
   * Recordings newest first, with their call. The page's ids are picked on
   * the recordings table alone, so a deep page does not join every row it
   * skips; with `beforeId` (a keyset cursor) no row is skipped at all.
   */
  listRecordings(page: number, perPage: number, beforeId?: number): { total: number; rows: Array<{ recording: RecordingRow; call: CallRow }> } {
    const total = this.db.select({ n: count() }).from(recordings).get()?.n ?? 0;
    const ids = this.db
      .select({ id: recordings.id })
      .from(recordings)
      .where(beforeId === undefined ? undefined : lt(recordings.id, beforeId))
      .orderBy(desc(recordings.id))
      .limit(perPage)
      .offset(beforeId === undefined ? (page - 1) * perPage : 0)
      .all()
      .map((r) => r.id);
    if (ids.length === 0) return { total, rows: [] };
    const rows = this.db
      .select({ recording: recordings, call: calls })
      .from(recordings)
      .innerJoin(calls, eq(calls.id, recordings.callId))
      .where(inArray(recordings.id, ids))
      .orderBy(desc(recordings.id))
      .all();
    return { total, rows };
  }
}
