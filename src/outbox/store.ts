/**
 * SQLite access for the outbox: events (once each), deliveries (one per
 * connector and event), the stable uuid of each call, and what connectors
 * keep per call. Statements are prepared once; every write is synchronous, so
 * it joins the transaction of whoever calls it (better-sqlite3 nests
 * transactions as savepoints).
 */
import { flushWrites } from '../db/batch.js';
import { EventEmitter } from 'node:events';
import { CallUuids } from '../calls/uuids.js';
import type { Db } from '../db/index.js';
import type { OutboundEvent } from '../connectors/types.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: number;
  event_id: number;
  connector: string;
  call_id: number | null;
  status: DeliveryStatus;
  attempts: number;
  next_at: number;
  created_at: number;
  last_attempt_at: number | null;
  delivered_at: number | null;
  last_status: number | null;
  last_error: string | null;
}

export interface DeliveryListRow extends DeliveryRow {
  event_uuid: string;
  event_type: string;
}

/** What one delivery attempt came to: the CRM has it, it is tried again later, or it failed for good. */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed';
export interface AttemptNote {
  connector: string;
  outcome: AttemptOutcome;
}

export class OutboxStore extends EventEmitter<{ attempt: [AttemptNote] }> {
  private readonly s;
  private readonly uuids: CallUuids;

  constructor(readonly db: Db) {
    super();
    this.uuids = new CallUuids(db);
    this.setMaxListeners(0);
    const c = db.$client;
    this.s = {
      addEvent: c.prepare('INSERT INTO outbox_events (uuid, type, call_id, time, payload) VALUES (?, ?, ?, ?, ?)'),
      addDelivery: c.prepare("INSERT INTO outbox_deliveries (event_id, connector, call_id, status, attempts, next_at, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)"),
      event: c.prepare<[number], { payload: string }>('SELECT payload FROM outbox_events WHERE id = ?'),
      // The head of each call's queue: a pending delivery with no older pending one of the same call and connector.
      ready: c.prepare<[string, number, number], DeliveryRow>(
        `SELECT d.* FROM outbox_deliveries d
          WHERE d.connector = ? AND d.status = 'pending' AND d.next_at <= ?
            AND (d.call_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM outbox_deliveries e
               WHERE e.connector = d.connector AND e.status = 'pending' AND e.call_id = d.call_id AND e.id < d.id))
          ORDER BY d.id LIMIT ?`,
      ),
      // rows already due but not ready wait for an older row of their call: in flight (its end wakes the worker) or backing off (counted here)
      nextDue: c.prepare<[string, number], { at: number | null }>("SELECT MIN(next_at) AS at FROM outbox_deliveries WHERE connector = ? AND status = 'pending' AND next_at > ?"),
      delivered: c.prepare(
        "UPDATE outbox_deliveries SET status = 'delivered', attempts = attempts + 1, last_attempt_at = @at, delivered_at = @at, last_status = @code, last_error = NULL WHERE id = @id AND status = 'pending'",
      ),
      retryLater: c.prepare(
        "UPDATE outbox_deliveries SET attempts = attempts + 1, last_attempt_at = @at, next_at = @next, last_status = @code, last_error = @error WHERE id = @id AND status = 'pending'",
      ),
      failed: c.prepare(
        "UPDATE outbox_deliveries SET status = 'failed', attempts = attempts + 1, last_attempt_at = @at, last_status = @code, last_error = @error WHERE id = @id AND status = 'pending'",
      ),
      counts: c.prepare<[string], { status: DeliveryStatus; n: number }>(
        "SELECT status, COUNT(*) AS n FROM outbox_deliveries WHERE connector = ? AND status IN ('pending', 'failed') GROUP BY status",
      ),
      retryOne: c.prepare("UPDATE outbox_deliveries SET status = 'pending', attempts = 0, next_at = ?, last_error = NULL WHERE id = ? AND status = 'failed'"),
      retryAll: c.prepare("UPDATE outbox_deliveries SET status = 'pending', attempts = 0, next_at = ?, last_error = NULL WHERE status = 'failed'"),
      retryAllOf: c.prepare("UPDATE outbox_deliveries SET status = 'pending', attempts = 0, next_at = ?, last_error = NULL WHERE status = 'failed' AND connector = ?"),
      delivery: c.prepare<[number], DeliveryRow>('SELECT * FROM outbox_deliveries WHERE id = ?'),
      addAttempt: c.prepare('INSERT INTO outbox_attempts (delivery_id, connector, call_id, outcome, code, error, attempts, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      chain: c.prepare<[number], { status: string; time: number; details: string }>('SELECT status, time, details FROM call_statuses WHERE call_id = ? ORDER BY id'),
      recordings: c.prepare<[number], { id: number; file: string; format: string; size: number | null; duration: number | null; started_at: number; ended_at: number | null }>(
        'SELECT id, file, format, size, duration, started_at, ended_at FROM recordings WHERE call_id = ? ORDER BY id',
      ),
      stateGet: c.prepare<[string, number], { data: string }>('SELECT data FROM connector_calls WHERE connector = ? AND call_id = ?'),
      stateSet: c.prepare('INSERT INTO connector_calls (connector, call_id, data) VALUES (?, ?, ?) ON CONFLICT (connector, call_id) DO UPDATE SET data = excluded.data'),
    };
  }

  /** The call's stable uuid (dashed, as stored), made on first use: the same one the REST API shows. */
  uuidOf(callId: number): string {
    return this.uuids.stored(callId);
  }

  /** Stores an event and one pending delivery per connector named; returns the event's row id. */
  add(ev: OutboundEvent, connectors: readonly string[], now: number): number {
    const info = this.s.addEvent.run(ev.id, ev.type, ev.call?.call_id ?? null, ev.time, JSON.stringify(ev));
    const id = Number(info.lastInsertRowid);
    for (const name of connectors) this.s.addDelivery.run(id, name, ev.call?.call_id ?? null, now, now);
    return id;
  }

  /** A call's statuses in order (the hot path of every status write: prepared once, unlike CallStore.chain). */
  chain(callId: number): Array<{ status: string; time: number; details: Record<string, unknown> }> {
    return this.s.chain.all(callId).map((r) => ({ status: r.status, time: r.time, details: JSON.parse(r.details) as Record<string, unknown> }));
  }

  recordings(callId: number): Array<{ id: number; file: string; format: string; size: number | null; duration: number | null; startedAt: number; endedAt: number | null }> {
    return this.s.recordings.all(callId).map((r) => ({ id: r.id, file: r.file, format: r.format, size: r.size, duration: r.duration, startedAt: r.started_at, endedAt: r.ended_at }));
  }

  event(id: number): OutboundEvent | undefined {
    const row = this.s.event.get(id);
    return row ? (JSON.parse(row.payload) as OutboundEvent) : undefined;
  }

  /** Deliveries due, of committed events only: the write batch's pending writes are committed first. */
  ready(connector: string, now: number, limit: number): DeliveryRow[] {
    flushWrites(this.db.$client);
    return this.s.ready.all(connector, now, limit);
  }

  /** The earliest retry time after `now` of a pending delivery. */
  nextDue(connector: string, now: number): number | undefined {
    return this.s.nextDue.get(connector, now)?.at ?? undefined;
  }

  delivery(id: number): DeliveryRow | undefined {
    return this.s.delivery.get(id);
  }

  markDelivered(id: number, at: number, code: number | null): void {
    if (this.s.delivered.run({ id, at, code }).changes > 0) this.logAttempt(id, 'delivered', at, code, null);
  }

  markRetry(id: number, at: number, next: number, code: number | null, error: string): void {
    if (this.s.retryLater.run({ id, at, next, code, error }).changes > 0) this.logAttempt(id, 'retry', at, code, error);
  }

  markFailed(id: number, at: number, code: number | null, error: string): void {
    if (this.s.failed.run({ id, at, code, error }).changes > 0) this.logAttempt(id, 'failed', at, code, error);
  }

  /**
   * Every attempt's outcome is appended to outbox_attempts (the live stream's `delivery` kind reads
   * them by id); 'attempt' is emitted once the writing transaction has committed.
   */
  private logAttempt(id: number, outcome: AttemptOutcome, at: number, code: number | null, error: string | null): void {
    const d = this.s.delivery.get(id);
    if (!d) return;
    this.s.addAttempt.run(id, d.connector, d.call_id, outcome, code, error, d.attempts, at);
    const note: AttemptNote = { connector: d.connector, outcome };
    setImmediate(() => this.emit('attempt', note));
  }

  counts(connector: string): { pending: number; failed: number } {
    const out = { pending: 0, failed: 0 };
    for (const r of this.s.counts.all(connector)) out[r.status as 'pending' | 'failed'] = r.n;
    return out;
  }

  /** Failed deliveries back to pending, from their first attempt; returns how many. */
  retry(target: { id: number } | { connector?: string }, now: number): number {
    if ('id' in target) return this.s.retryOne.run(now, target.id).changes;
    return target.connector ? this.s.retryAllOf.run(now, target.connector).changes : this.s.retryAll.run(now).changes;
  }

  list(filter: { status?: DeliveryStatus; connector?: string; callId?: number }, perPage: number, beforeId?: number): DeliveryListRow[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (filter.status) (where.push('d.status = ?'), args.push(filter.status));
    if (filter.connector) (where.push('d.connector = ?'), args.push(filter.connector));
    if (filter.callId !== undefined) (where.push('d.call_id = ?'), args.push(filter.callId));
    if (beforeId !== undefined) (where.push('d.id < ?'), args.push(beforeId));
    const sql = `SELECT d.*, e.uuid AS event_uuid, e.type AS event_type FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT ?`;
    return this.db.$client.prepare<Array<string | number>, DeliveryListRow>(sql).all(...args, perPage);
  }

  state(connector: string): { get(callId: number): Record<string, unknown> | undefined; set(callId: number, data: Record<string, unknown>): void } {
    return {
      get: (callId) => {
        const row = this.s.stateGet.get(connector, callId);
        return row ? (JSON.parse(row.data) as Record<string, unknown>) : undefined;
      },
      set: (callId, data) => void this.s.stateSet.run(connector, callId, JSON.stringify(data)),
    };
  }
}
