/**
 * What the stream carries, one source per table: call statuses
 * (`call_statuses`, kind `status`) and presence changes (`operator_history`,
 * kind `presence`). Each event is read back from its committed row, so its
 * id is the row's id, and a reader that asks for the rows after a position
 * gets exactly the ones it has not seen.
 *
 * A source for connector deliveries (kind `delivery`, letter `d`) plugs in
 * the same way: a table with an increasing id, a reader with the filters,
 * and a notification after each commit (see `StreamSource`).
 */
import { flushWrites } from '../db/batch.js';
import type { Db } from '../db/index.js';
import { FINAL_STATUSES, type CallStatus } from '../calls/chain.js';
import { isoTime } from '../http/params.js';

export interface StreamFilter {
  callId?: number;
  orderId?: string;
  sip?: string;
}

export interface StreamRow {
  /** the row id: the source's position after this event */
  id: number;
  /** epoch ms, for merging the sources in time order */
  time: number;
  data: Record<string, unknown>;
}

/** Something that says "a row was committed"; the stream then reads it from SQLite. */
export interface Notifier {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

export interface StreamSource {
  /** cursor letter (`s`, `p`, later `d`) */
  readonly letter: string;
  /** SSE event name and `kind` filter value */
  readonly kind: string;
  /** the highest row id now (0 when empty) */
  latest(): number;
  /** rows after `afterId`, oldest first, at most `limit`, matching the filter (rows a filter cannot apply to do not match) */
  after(afterId: number, filter: StreamFilter, limit: number): StreamRow[];
  /** calls `poke` after each committed row; returns the unsubscribe function */
  subscribe(poke: () => void): () => void;
}

function subscribeTo(notifier: Notifier, event: string, poke: () => void): () => void {
  const listener = () => poke();
  notifier.on(event, listener);
  return () => void notifier.off(event, listener);
}

/** One prepared statement per combination of filters, built by `sql` and kept for reuse. */
function statementsByFilter(sqlite: Db['$client'], sql: (filter: StreamFilter) => string) {
  const statements = new Map<string, ReturnType<Db['$client']['prepare']>>();
  return (filter: StreamFilter) => {
    const key = `${filter.callId !== undefined}${filter.orderId !== undefined}${filter.sip !== undefined}`;
    let st = statements.get(key);
    if (!st) {
      st = sqlite.prepare(sql(filter));
      statements.set(key, st);
    }
    return st;
  };
}

/** The bind values of a filter, with the position and the page size. */
function bindOf(afterId: number, filter: StreamFilter, limit: number): Record<string, string | number> {
  const bind: Record<string, string | number> = { after: afterId, limit };
  if (filter.callId !== undefined) bind.callId = filter.callId;
  if (filter.orderId !== undefined) bind.orderId = filter.orderId;
  if (filter.sip !== undefined) bind.sip = filter.sip;
  return bind;
}

interface StatusSqlRow {
  id: number;
  call_id: number;
  order_id: string | null;
  status: string;
  time: number;
  details: string;
  sip: string | null;
  phone: string | null;
  direction: string;
  origin: string;
}

/** Call statuses; `calls` emits 'status' after each committed status (CallService). */
export function statusSource(db: Db, calls: Notifier): StreamSource {
  const sqlite = db.$client;
  const statement = statementsByFilter(sqlite, (filter) => {
    const where = ['s.id > @after'];
    if (filter.callId !== undefined) where.push('s.call_id = @callId');
    if (filter.orderId !== undefined) where.push('s.order_id = @orderId');
    if (filter.sip !== undefined) where.push("(c.sip = @sip OR json_extract(s.details, '$.sip') = @sip)");
    return `SELECT s.id, s.call_id, s.order_id, s.status, s.time, s.details, c.sip, c.phone, c.direction, c.origin
           FROM call_statuses s JOIN calls c ON c.id = s.call_id
          WHERE ${where.join(' AND ')} ORDER BY s.id LIMIT @limit`;
  });
  const latest = sqlite.prepare('SELECT coalesce(max(id), 0) AS id FROM call_statuses');
  return {
    letter: 's',
    kind: 'status',
    latest: () => (latest.get() as { id: number }).id,
    after(afterId, filter, limit) {
      flushWrites(sqlite); // committed rows only
      const rows = statement(filter).all(bindOf(afterId, filter, limit)) as StatusSqlRow[];
      return rows.map((r) => ({
        id: r.id,
        time: r.time,
        data: {
          id: r.id,
          call_id: r.call_id,
          order_id: r.order_id,
          status: r.status,
          final: FINAL_STATUSES.has(r.status as CallStatus),
          time: isoTime(r.time),
          details: JSON.parse(r.details) as unknown,
          sip: r.sip,
          phone: r.phone,
          direction: r.direction,
          origin: r.origin === 'api' ? 'click-to-call' : 'pbx',
        },
      }));
    },
    subscribe: (poke) => subscribeTo(calls, 'status', poke),
  };
}

interface PresenceSqlRow {
  id: number;
  sip: string;
  status: string;
  previous_status: string | null;
  reason: string;
  time: number;
}

/** Presence changes (operator history); `presence` emits 'change' after each committed row (PresenceService). */
export function presenceSource(db: Db, presence: Notifier): StreamSource {
  const sqlite = db.$client;
  const all = sqlite.prepare('SELECT id, sip, status, previous_status, reason, time FROM operator_history WHERE id > @after ORDER BY id LIMIT @limit');
  const bySip = sqlite.prepare('SELECT id, sip, status, previous_status, reason, time FROM operator_history WHERE id > @after AND sip = @sip ORDER BY id LIMIT @limit');
  const latest = sqlite.prepare('SELECT coalesce(max(id), 0) AS id FROM operator_history');
  return {
    letter: 'p',
    kind: 'presence',
    latest: () => (latest.get() as { id: number }).id,
    after(afterId, filter, limit) {
      flushWrites(sqlite); // committed rows only
      // a presence change belongs to no call or order
      if (filter.callId !== undefined || filter.orderId !== undefined) return [];
      const rows = (filter.sip !== undefined ? bySip.all({ after: afterId, sip: filter.sip, limit }) : all.all({ after: afterId, limit })) as PresenceSqlRow[];
      return rows.map((r) => ({
        id: r.id,
        time: r.time,
        data: { id: r.id, sip: r.sip, status: r.status, previous_status: r.previous_status, reason: r.reason, time: isoTime(r.time) },
      }));
    },
    subscribe: (poke) => subscribeTo(presence, 'change', poke),
  };
}

interface AttemptSqlRow {
  id: number;
  delivery_id: number;
  connector: string;
  call_id: number | null;
  outcome: string;
  code: number | null;
  error: string | null;
  attempts: number;
  at: number;
  event_type: string | null;
  event_id: string | null;
  order_id: string | null;
}

/**
 * Connector deliveries: one row per attempt's outcome (`outbox_attempts`: delivered, retry, failed);
 * `outbox` emits 'attempt' after each committed row (OutboxStore).
 */
export function deliverySource(db: Db, outbox: Notifier): StreamSource {
  const sqlite = db.$client;
  const statement = statementsByFilter(sqlite, (filter) => {
    const where = ['a.id > @after'];
    if (filter.callId !== undefined) where.push('a.call_id = @callId');
    if (filter.orderId !== undefined) where.push('c.order_id = @orderId');
    if (filter.sip !== undefined) where.push('c.sip = @sip');
    return `SELECT a.id, a.delivery_id, a.connector, a.call_id, a.outcome, a.code, a.error, a.attempts, a.at,
                e.type AS event_type, e.uuid AS event_id, c.order_id
           FROM outbox_attempts a
           LEFT JOIN outbox_deliveries d ON d.id = a.delivery_id
           LEFT JOIN outbox_events e ON e.id = d.event_id
           LEFT JOIN calls c ON c.id = a.call_id
          WHERE ${where.join(' AND ')} ORDER BY a.id LIMIT @limit`;
  });
  const latest = sqlite.prepare('SELECT coalesce(max(id), 0) AS id FROM outbox_attempts');
  return {
    letter: 'd',
    kind: 'delivery',
    latest: () => (latest.get() as { id: number }).id,
    after(afterId, filter, limit) {
      flushWrites(sqlite); // committed rows only
      const rows = statement(filter).all(bindOf(afterId, filter, limit)) as AttemptSqlRow[];
      return rows.map((r) => ({
        id: r.id,
        time: r.at,
        data: {
          id: r.id,
          delivery_id: r.delivery_id,
          connector: r.connector,
          call_id: r.call_id,
          order_id: r.order_id,
          event_id: r.event_id,
          event_type: r.event_type,
          outcome: r.outcome,
          attempts: r.attempts,
          http_status: r.code,
          error: r.error,
          time: isoTime(r.at),
        },
      }));
    },
    subscribe: (poke) => subscribeTo(outbox, 'attempt', poke),
  };
}
