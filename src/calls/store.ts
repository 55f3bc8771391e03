/**
 * SQLite access for calls, their status chains and recordings. Every status
 * is written in the same transaction as the call row it moves, before anyone
 * is told about it.
 */
import { CallUuids } from './uuids.js';
import { ChildCalls } from './children.js';
import { and, asc, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Db } from '../db/index.js';
import { rowShape } from '../db/rows.js';
import { atomically } from '../db/batch.js';
import { IdPages } from '../db/seek.js';
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
    | 'groupKind'
    | 'groupExt'
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
  groupKind: 'group_kind',
  groupExt: 'group_ext',
};

const PATCH_KEYS = Object.keys(PATCH_COLUMNS) as Array<keyof CallPatch>;

/** JSON columns: stored as text. */
const JSON_PATCH: ReadonlySet<string> = new Set(['operators', 'transfers', 'legs']);

/** The columns of a call a status change reads. */
export type CallHead = Pick<CallRow, 'id' | 'orderId' | 'final' | 'status' | 'sip' | 'phone' | 'operatorRingAt' | 'operatorAnswerAt' | 'clientRingAt' | 'clientAnswerAt'>;

/** The fields of a stored CDR (table cdrs) that tell how a PBX call ended in an AMI gap (src/pbx/gap.ts). */
export interface CdrFact {
  callAt: number | null;
  duration: number | null;
  billsec: number | null;
  disposition: string | null;
  extension: string;
}

export class CallStore {
  // The hot-path statements are prepared once (drizzle would build and prepare them per call otherwise).
  private readonly byId;
  private readonly insertStatus;
  private readonly openForSip;
  private readonly patchCall: (params: Record<string, string | number | null>, keys: readonly string[], status: boolean, final: boolean) => void;
  private readonly advanceTx;
  private readonly insertChannel;
  private readonly cdrFactsStmt: Database.Statement<[number], CdrFact>;
  private readonly headStmt: Database.Statement<[number], Omit<CallHead, 'final'> & { final: number }>;
  private readonly byLinkedidStmt;
  private readonly insertCall;
  private readonly createTx;
  private readonly byExternalKeyStmt;
  private readonly insertRecording;
  private readonly finishRecordingStmt;
  /** the stable uuid of each call (hosted-PBX formats) */
  readonly uuids: CallUuids;
  /** the calls to each operator of a group call */
  readonly children: ChildCalls;
  private readonly idPages: IdPages;

  constructor(readonly db: Db) {
    this.idPages = new IdPages(db.$client);
    this.uuids = new CallUuids(db);
    this.children = new ChildCalls(db, (id) => this.uuids.of(id));
    // The hot path's statements are plain SQL prepared once; the schema gives their column lists and mappings.
    const callShape = rowShape(calls);
    const recordingShape = rowShape(recordings);
    const byId = db.$client.prepare<[number], Record<string, unknown>>(`SELECT ${callShape.columns} FROM calls WHERE id = ?`);
    this.byId = (id: number): CallRow | undefined => callShape.map(byId.get(id));
    const insertStatus = db.$client.prepare('INSERT INTO call_statuses (call_id, order_id, status, time, details) VALUES (?, ?, ?, ?, ?)');
    this.insertStatus = (callId: number, orderId: string | null, status: string, time: number, details: object): void => {
      insertStatus.run(callId, orderId, status, time, JSON.stringify(details));
    };
    // `final = 0` as a literal: the partial index calls_open_sip (migration 0004) answers it in one probe.
    this.openForSip = db.$client.prepare<[string], { id: number }>('SELECT id FROM calls WHERE final = 0 AND sip = ? LIMIT 1');
    // One UPDATE per set of patched columns, prepared on first use: only those columns are written, so
    // SQLite maintains only the indexes on them (a patch lists no column it keeps; the sets are few).
    const patchStatements = new Map<string, Database.Statement>();
    this.patchCall = (params: Record<string, string | number | null>, keys: readonly string[], status: boolean, final: boolean): void => {
      const signature = `${status ? 's' : ''}${final ? 'f' : ''}:${keys.join(',')}`;
      let stmt = patchStatements.get(signature);
      if (!stmt) {
        const sets = [...(status ? ['status = @status'] : []), ...(final ? ['final = 1'] : []), ...keys.map((k) => `${PATCH_COLUMNS[k as keyof CallPatch]} = @${k}`)];
        if (sets.length === 0) return;
        stmt = db.$client.prepare(`UPDATE calls SET ${sets.join(', ')} WHERE id = @id`);
        patchStatements.set(signature, stmt);
      }
      stmt.run(params);
    };
    this.headStmt = db.$client.prepare(
      'SELECT id, order_id AS orderId, final, status, sip, phone, operator_ring_at AS operatorRingAt, operator_answer_at AS operatorAnswerAt, ' +
        'client_ring_at AS clientRingAt, client_answer_at AS clientAnswerAt FROM calls WHERE id = ?',
    );
    this.cdrFactsStmt = db.$client.prepare<[number], CdrFact>(
      'SELECT call_at AS callAt, duration, billsec, disposition, extension FROM cdrs WHERE call_id = ? ORDER BY id',
    );
    this.insertChannel = db.$client.prepare('INSERT OR IGNORE INTO call_channels (uniqueid, call_id, channel) VALUES (?, ?, ?)');
    this.byLinkedidStmt = db.select().from(calls).where(eq(calls.linkedid, sql.placeholder('linkedid'))).orderBy(asc(calls.id)).prepare();
    const insertCall = db.$client.prepare<[Record<string, unknown>], Record<string, unknown>>(
      'INSERT INTO calls (origin, direction, control, external_key, request_fingerprint, order_id, sip, phone, status, final, created_at, ended_at, billsec) ' +
        'VALUES (@origin, @direction, @control, @externalKey, @requestFingerprint, @orderId, @sip, @phone, @status, @final, @createdAt, @endedAt, @billsec) ' +
        `RETURNING ${callShape.columns}`,
    );
    this.insertCall = (values: Record<string, unknown>): CallRow | undefined => callShape.map(insertCall.get(values));
    const createBody = (call: NewCall, first: readonly StatusStep[], at: number): CallRow => {
      const last = first.at(-1)!.status;
      const final = FINAL_STATUSES.has(last);
      const row = this.insertCall({
        origin: call.origin ?? 'api',
        direction: call.direction ?? 'outgoing',
        control: call.control ?? null,
        externalKey: call.externalKey ?? null,
        requestFingerprint: call.requestFingerprint ?? null,
        orderId: call.orderId ?? null,
        sip: call.sip ?? null,
        phone: call.phone ?? null,
        status: last,
        final: final ? 1 : 0,
        createdAt: at,
        endedAt: final ? at : null,
        billsec: final ? 0 : null,
      });
      if (!row) throw new Error('the call row was not inserted');
      for (const s of first) this.insertStatus(row.id, row.orderId, s.status, at, s.details);
      return row;
    };
    this.createTx = atomically(db.$client, createBody);
    const byExternalKey = db.$client.prepare<[string], Record<string, unknown>>(`SELECT ${callShape.columns} FROM calls WHERE external_key = ?`);
    this.byExternalKeyStmt = (key: string): CallRow | undefined => callShape.map(byExternalKey.get(key));
    const insertRecording = db.$client.prepare<[Record<string, unknown>], RecordingRow>(
      'INSERT INTO recordings (call_id, order_id, name, file, format, started_at) VALUES (@callId, @orderId, @name, @file, @format, @startedAt) ' +
        `RETURNING ${recordingShape.columns}`,
    );
    this.insertRecording = (r: Record<string, unknown>): RecordingRow | undefined => insertRecording.get(r);
    const finishRecording = db.$client.prepare<[Record<string, unknown>], RecordingRow>(
      'UPDATE recordings SET size = @size, duration = @duration, ended_at = @endedAt WHERE call_id = @callId AND name = @name ' +
        `RETURNING ${recordingShape.columns}`,
    );
    this.finishRecordingStmt = (r: Record<string, unknown>): RecordingRow | undefined => finishRecording.get(r);
    // advance needs only the call's order id (one column), and not even that when its caller has it
    const orderOf = db.$client.prepare<[number], { orderId: string | null }>('SELECT order_id AS orderId FROM calls WHERE id = ?');
    const advanceBody = (id: number, steps: readonly StatusStep[], at: number, patch: CallPatch, knownOrderId?: string | null) => {
      let orderId = knownOrderId;
      if (orderId === undefined && steps.length > 0) {
        const row = orderOf.get(id);
        if (!row) throw new Error(`no call ${id}`);
        orderId = row.orderId;
      }
      for (const s of steps) this.insertStatus(id, orderId ?? null, s.status, at, s.details);
      const last = steps.at(-1)?.status as CallStatus | undefined;
      const params: Record<string, string | number | null> = { id };
      if (last) params.status = last;
      const keys: string[] = [];
      for (const key of PATCH_KEYS) {
        const v = patch[key] ?? null; // null and undefined keep the column's value
        if (v === null) continue;
        keys.push(key);
        params[key] = JSON_PATCH.has(key) ? JSON.stringify(v) : (v as string | number);
      }
      this.patchCall(params, keys, last !== undefined, last !== undefined && FINAL_STATUSES.has(last));
      // a group call's children follow its legs, in the same transaction (the PBX service's patch of a group call always names its group)
      if (patch.legs && patch.groupKind) this.children.sync(id, { groupKind: patch.groupKind, legs: patch.legs });
    };
    this.advanceTx = atomically(db.$client, advanceBody);
  }

  /** Inserts a call and its first status(es) in one transaction. */
  create(call: NewCall, first: readonly StatusStep[], at: number): CallRow {
    return this.createTx(call, first, at);
  }

  byExternalKey(key: string): CallRow | undefined {
    return this.byExternalKeyStmt(key);
  }

  get(id: number): CallRow | undefined {
    return this.byId(id);
  }

  /** What a status change reads of its call (one light statement on the hot path; get() maps the whole row). */
  head(id: number): CallHead | undefined {
    const r = this.headStmt.get(id);
    return r ? { ...r, final: r.final === 1 } : undefined;
  }

  /** Whether an operator already has a call of ours that has not ended. */
  hasOpenCall(sip: string): boolean {
    return this.openForSip.get(sip) !== undefined;
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

  /** Appends statuses and patches the call row, atomically; `orderId` spares the look-up when the caller has the call's. */
  advance(id: number, steps: readonly StatusStep[], at: number, patch: CallPatch, orderId?: string | null): void {
    this.advanceTx(id, steps, at, patch, orderId);
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

  /** Newest statuses first, a page at a time; a deep page starts from its id page (src/db/seek.ts), not by skipping. */
  latestStatuses(page: number, perPage: number): { rows: CallStatusRow[]; maxId: number } {
    const maxId = this.db.select({ id: callStatuses.id }).from(callStatuses).orderBy(desc(callStatuses.id)).limit(1).get()?.id ?? 0;
    const at = this.idPages.seek('call_statuses', (page - 1) * perPage);
    if (!at) return { rows: [], maxId };
    const rows = this.db
      .select()
      .from(callStatuses)
      .where(lt(callStatuses.id, at.below))
      .orderBy(desc(callStatuses.id))
      .limit(perPage)
      .offset(at.offset)
      .all();
    return { rows, maxId };
  }

  /** Statuses after a cursor, oldest first (real-time polling). */
  statusesSince(sinceId: number, limit: number): CallStatusRow[] {
    return this.db.select().from(callStatuses).where(gt(callStatuses.id, sinceId)).orderBy(asc(callStatuses.id)).limit(limit).all();
  }

  startRecording(r: { callId: number; orderId: string | null; name: string; file: string; format: string; startedAt: number }): RecordingRow {
    const row = this.insertRecording(r);
    if (!row) throw new Error('the recording row was not inserted');
    return row;
  }

  finishRecording(callId: number, name: string, r: { size: number | null; duration: number | null; endedAt: number }): RecordingRow | undefined {
    return this.finishRecordingStmt({ callId, name, size: r.size, duration: r.duration, endedAt: r.endedAt });
  }

  recording(id: number): RecordingRow | undefined {
    return this.db.select().from(recordings).where(eq(recordings.id, id)).get();
  }

  /** The CDRs the dialplan hook posted for a call (callDetailRecord), oldest first. */
  cdrFacts(callId: number): CdrFact[] {
    return this.cdrFactsStmt.all(callId);
  }

  recordingsOf(callIds: readonly number[]): RecordingRow[] {
    if (callIds.length === 0) return [];
    return this.db.select().from(recordings).where(inArray(recordings.callId, [...callIds])).orderBy(asc(recordings.id)).all();
  }

  /**
   * Recordings newest first, with their call. The page's ids are picked on
   * the recordings table alone, so a deep page does not join every row it
   * skips; a deep `page` starts from its id page (src/db/seek.ts) and with
   * `beforeId` (a keyset cursor) no row is skipped at all. The total is the
   * count the recordings' triggers keep, not a count of the table.
   */
  listRecordings(page: number, perPage: number, beforeId?: number): { total: number; rows: Array<{ recording: RecordingRow; call: CallRow }> } {
    const total = this.idPages.total('recordings');
    const at = beforeId === undefined ? this.idPages.seek('recordings', (page - 1) * perPage) : { below: beforeId, offset: 0 };
    if (!at) return { total, rows: [] };
    const ids = this.db
      .select({ id: recordings.id })
      .from(recordings)
      .where(lt(recordings.id, at.below))
      .orderBy(desc(recordings.id))
      .limit(perPage)
      .offset(at.offset)
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
